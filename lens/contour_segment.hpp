// lens/contour_segment.hpp — area of one piece of an image contour between two samples, with an
// error estimate (host and device).
//
// Green's theorem: the area enclosed by a closed curve z(t) is ∮ ½ Im(z̄ dz). Between two samples
// z_a, z_b of a curve with tangents u_a = z'(t_a)·h, u_b = z'(t_b)·h (derivatives scaled by the
// parameter step h) the exact contribution is the polygon term ½ Im(z̄_a z_b) plus the area D between
// the chord and the arc. Two estimates of D:
//   D_P = Im(ū_a u_b)/12                                  (parabola through the tangents,
//                                                          Bozza 2010's "parabolic correction")
//   D_H = Im(ū_a Δ)/10 + Im(Δ̄ u_b)/10 − Im(ū_a u_b)/60   (cubic Hermite interpolant, Δ = z_b − z_a)
//   D_B = Im(Δ̄ u_b)·Im(ū_a Δ) / (3 Im(ū_a u_b))          (parabola fixed by the tangent
//                                                          directions alone, see piece_area)
// All are exact for a parabolic arc; D_H is exact for cubics. D_H is used as the value and
// max(|D_H − D_P|, |D_H − D_B|) as a conservative error estimate: it vanishes as h⁴ per piece where
// the curve is smooth and stays large where the samples, tangents and chord are inconsistent (a
// wrong image match, a critical-curve crossing in between, a parameter speed that varies wildly),
// which is what drives the adaptive refinement to those places.
#pragma once
#include <cmath>

#include "lens/complex.hpp"

namespace lensflow::lens::contour {

// Im(ā b).
LENSFLOW_HD double cross(cplx a, cplx b) { return a.re * b.im - a.im * b.re; }

struct PieceArea {
  double area;  // ½ Im(z̄_a z_b) + D_H
  double err;   // |D_H − D_P|
};

// Area under the piece z_a → z_b with scaled tangents u_a, u_b (see the file comment).
LENSFLOW_HD PieceArea piece_area(cplx za, cplx zb, cplx ua, cplx ub) {
  const cplx d = zb - za;
  const double cab = cross(ua, ub);
  const double dH = 0.1 * (cross(ua, d) + cross(d, ub)) - cab / 60.0;
  const double dP = cab / 12.0;
  double e = fabs(dH - dP);
  // D_B: the parabola fixed by the tangent directions only (a quadratic Bézier whose control point
  // is where the end tangents meet; the area between chord and arc is 2/3 of that triangle). It
  // ignores the speeds, so it stays right where the parameter speed varies wildly (next to a
  // critical-curve crossing, z ~ sqrt(θ − θ*)), exactly where D_H and D_P fail together.
  const double na = norm2(ua), nb = norm2(ub);
  if (cab * cab > 1e-6 * na * nb) {
    const double dB = cross(d, ub) * cross(ua, d) / (3.0 * cab);
    const double eb = fabs(dH - dB);
    if (eb > e) e = eb;
  }
  return {0.5 * cross(za, zb) + dH, e};
}

// The closing piece of an image contour where two images of opposite parity merge on the critical
// curve between two samples (a fold crossing of the source boundary). Near the merging point the
// two images are z± ≈ z_c ± c·σ + d·σ² with σ = sqrt(|θ − θ*|): smooth in σ, not in θ. Both images
// are known at the same boundary angle θ_k (the sample on the side where they exist), with θ
// derivatives z'_1, z'_2. In the σ parameter the piece runs from σ = +σ_k to −σ_k, and for the
// parabola model (z'_1 − z'_2) = ±c/σ_k, z_1 − z_2 = ±2cσ_k, hence δ = |θ_k − θ*| =
// |z_1 − z_2| / (2|z'_1 − z'_2|) (clamped to the sample spacing h, as θ* lies between the samples).
// The σ-scaled tangents are then u_1 = ±4δ z'_1, u_2 = ∓4δ z'_2 (+ for a merger after θ_k, − before).
// from/to: the traversal order (the positive-parity image's contour leads into the negative one's
// for a merger after the sample; the other way round before it).
LENSFLOW_HD PieceArea fold_piece_area(cplx z_from, cplx dz_from, cplx z_to, cplx dz_to, double h, bool merge_after) {
  const double den = 2.0 * abs(dz_from - dz_to);
  double delta = den > 0.0 ? abs(z_to - z_from) / den : h;
  if (!(delta <= h)) delta = h;
  const double sgn = merge_after ? 4.0 * delta : -4.0 * delta;
  PieceArea p = piece_area(z_from, z_to, sgn * dz_from, -sgn * dz_to);
  // The σ-parabola model makes D_H and D_P agree by construction, so their difference says little
  // here: charge the whole correction as its error (it shrinks as δ^{3/2} under bisection).
  p.err += fabs(p.area - 0.5 * cross(z_from, z_to));
  return p;
}

}  // namespace lensflow::lens::contour
