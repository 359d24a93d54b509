// lens/trajectory.hpp — event parameters and the rectilinear source trajectory
// (docs/conventions.md §Trajectory).
//
// τ = (t - t0)/tE, ζ(t) = τ (cos α, sin α) + u0 (-sin α, cos α), α in degrees counter-clockwise from
// the primary→secondary axis (+x), t0 and u0 relative to the centre of mass. Reversing time maps
// (α, u0) to (-(α+180) mod 360, u0); reflecting y2 -> -y2 maps (α, u0) to (-α, -u0).
#pragma once
#include <cmath>

#include "lens/complex.hpp"

namespace lensflow::lens {

// One binary-lens event (all that a magnification curve depends on). rho is the source radius in
// Einstein radii (ignored by point-source calls).
struct EventParams {
  double s, q, alpha_deg, u0, t0, tE, rho;
};

// Precomputed trajectory: avoids the trigonometry per epoch.
struct Trajectory {
  double t0, inv_tE, u0, cos_a, sin_a;
};

LENSFLOW_HD Trajectory make_trajectory(double alpha_deg, double u0, double t0, double tE) {
  const double a = alpha_deg * (3.141592653589793 / 180.0);
  Trajectory tr;
  tr.t0 = t0;
  tr.inv_tE = 1.0 / tE;
  tr.u0 = u0;
  tr.cos_a = cos(a);
  tr.sin_a = sin(a);
  return tr;
}

LENSFLOW_HD Trajectory make_trajectory(const EventParams& ev) {
  return make_trajectory(ev.alpha_deg, ev.u0, ev.t0, ev.tE);
}

// Source position ζ = y1 + i y2 at time t.
LENSFLOW_HD cplx source_position(const Trajectory& tr, double t) {
  const double tau = (t - tr.t0) * tr.inv_tE;
  return {tau * tr.cos_a - tr.u0 * tr.sin_a, tau * tr.sin_a + tr.u0 * tr.cos_a};
}

// The α of the time-reversed event (the training-set augmentation rule): -(α+180) mod 360 in [0, 360).
LENSFLOW_HD double time_reversed_alpha(double alpha_deg) {
  double a = fmod(-(alpha_deg + 180.0), 360.0);
  return a < 0.0 ? a + 360.0 : a;
}

}  // namespace lensflow::lens
