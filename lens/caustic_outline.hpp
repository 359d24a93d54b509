// lens/caustic_outline.hpp — a lower bound on the distance from a source position to the caustics
// of one lens, built once per lens and queried per epoch of a light curve (host and device).
//
// Why: the finite-source decision tree (lens/finite_source.hpp) may use the cheap expansions only
// when no caustic is near the disk. Per point, that distance is estimated from the images
// (contour::caustic_distance), which costs as much as the images themselves and can overshoot (it
// follows the critical curve locally from each root). A light curve has one lens for all of its
// epochs, so a global description of its caustics pays for itself after a few epochs and gives a
// bound instead of an estimate.
//
// Construction: the critical curve is traced by its 4 root tracks over kOutlineSamples angles φ
// (lens/caustics.hpp: m1/(z−z1)² + m2/(z−z2)² = e^{iφ}); each critical point is mapped to its caustic
// point p, together with the caustic speed v = |dζ/dφ| (dz/dφ = i e^{iφ}/g'(z), g' = −2Σ m/(z−z_k)³,
// dζ/dφ = dz/dφ + e^{−iφ}·conj(dz/dφ)). Every caustic point between two consecutive samples of a
// track lies within half the arc between them of one of them; each sample covers a disk of radius
// R = Δφ·max(v) over itself and its two neighbours (twice that half arc: the margin for the speed
// varying between samples), so dist(ζ, caustics) ≥ min over samples of (|ζ − p| − R). The samples
// are grouped in runs of kOutlineGroup with an enclosing circle each (and one circle for all), so
// that a far source is settled by one distance. sizeof(CausticOutline) ≈ 52 kB. tests/lens/caustic_outline_test.cpp checks the bound against
// caustics traced 16 times more densely.
#pragma once
#include <cmath>

#include "lens/binary_lens.hpp"
#include "lens/caustics.hpp"

namespace lensflow::lens {

constexpr int kOutlineSamples = 512;  // angles φ per root track
constexpr int kOutlinePoints = 4 * kOutlineSamples;
constexpr int kOutlineGroup = 16;  // consecutive samples of a track per enclosing circle
constexpr int kOutlineGroups = kOutlinePoints / kOutlineGroup;

struct CausticOutline {
  cplx p[kOutlinePoints];  // caustic points, track-major
  double R[kOutlinePoints];  // coverage radius of each point
  cplx gc[kOutlineGroups];   // enclosing circles of runs of kOutlineGroup samples
  double gr[kOutlineGroups];
  cplx c;  // enclosing circle of everything
  double r;
  bool ok;  // false when the tracing produced a non-finite point (then the bound is 0)
};

namespace detail {

// Caustic point and caustic speed |dζ/dφ| of the critical point z at angle phi.
LENSFLOW_HD void caustic_point_speed(const BinaryLens& L, double phi, cplx z, cplx& p, double& v) {
  const cplx a = fast_inv(z - L.z1), b = fast_inv(z - L.z2);
  const cplx dg = -2.0 * (L.m1 * (a * a * a) + L.m2 * (b * b * b));
  const cplx e(cos(phi), sin(phi));
  const cplx dz = cplx(-e.im, e.re) * fast_inv(dg);  // i e^{iφ} / g'(z)
  const cplx dzeta = dz + conj(e) * conj(dz);
  p = lens_map(L, z);
  v = sqrt(norm2(dzeta));
}

}  // namespace detail

LENSFLOW_HD_NOINLINE void build_caustic_outline(const BinaryLens& L, CausticOutline* o) {
  constexpr double kTwoPi = 6.283185307179586;
  const double dphi = kTwoPi / kOutlineSamples;
  cplx prev[4], cur[4];
  o->ok = true;
  for (int j = 0; j < kOutlineSamples; ++j) {
    const double phi = dphi * j;
    for (int k = 0; k < 4; ++k) cur[k] = prev[k];
    critical_points(L, phi, cur, j > 0);
    // Keep each track on one branch: greedy nearest match to the previous angle's points.
    cplx next[4];
    if (j == 0) {
      for (int k = 0; k < 4; ++k) next[k] = cur[k];
    } else {
      bool used[4] = {false, false, false, false};
      for (int k = 0; k < 4; ++k) {
        int best = -1;
        double bd = 0.0;
        for (int m = 0; m < 4; ++m)
          if (!used[m] && (best < 0 || norm2(cur[m] - prev[k]) < bd)) {
            best = m;
            bd = norm2(cur[m] - prev[k]);
          }
        used[best] = true;
        next[k] = cur[best];
      }
    }
    for (int k = 0; k < 4; ++k) {
      prev[k] = next[k];
      const int i = k * kOutlineSamples + j;
      detail::caustic_point_speed(L, phi, next[k], o->p[i], o->R[i]);  // R holds the speed for now
      o->ok = o->ok && detail::is_finite(o->p[i].re) && detail::is_finite(o->p[i].im) && detail::is_finite(o->R[i]);
    }
  }
  // Coverage radii from the speeds: the arc to either neighbour (cyclic in φ; a track that ends on
  // another track's start is still covered, because every branch has a sample at every angle).
  for (int k = 0; k < 4; ++k) {
    double* v = o->R + k * kOutlineSamples;
    const double v_first = v[0];
    double v_before = v[kOutlineSamples - 1];
    for (int j = 0; j < kOutlineSamples; ++j) {
      const double v_here = v[j], v_after = j + 1 < kOutlineSamples ? v[j + 1] : v_first;
      v[j] = dphi * fmax(v_here, fmax(v_before, v_after));
      v_before = v_here;
    }
  }
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (int g = 0; g < kOutlineGroups; ++g) {
    cplx c(0.0, 0.0);
    for (int i = g * kOutlineGroup; i < (g + 1) * kOutlineGroup; ++i) c += o->p[i];
    c = c * (1.0 / kOutlineGroup);
    double r = 0.0;
    for (int i = g * kOutlineGroup; i < (g + 1) * kOutlineGroup; ++i) {
      r = fmax(r, sqrt(norm2(o->p[i] - c)) + o->R[i]);
      xmin = fmin(xmin, o->p[i].re - o->R[i]);
      xmax = fmax(xmax, o->p[i].re + o->R[i]);
      ymin = fmin(ymin, o->p[i].im - o->R[i]);
      ymax = fmax(ymax, o->p[i].im + o->R[i]);
    }
    o->gc[g] = c;
    o->gr[g] = r;
  }
  o->c = cplx(0.5 * (xmin + xmax), 0.5 * (ymin + ymax));
  o->r = 0.5 * sqrt((xmax - xmin) * (xmax - xmin) + (ymax - ymin) * (ymax - ymin));
}

// A lower bound on the distance from zeta to the caustics. Refines only as far as needed: once the
// bound is known to exceed `enough`, a bound >= enough is returned without looking closer.
LENSFLOW_HD double caustic_distance_bound(const CausticOutline& o, cplx zeta, double enough) {
  if (!o.ok) return 0.0;
  const double far = sqrt(norm2(zeta - o.c)) - o.r;
  if (far >= enough) return far;
  double best = 1e300;
  for (int g = 0; g < kOutlineGroups; ++g) {
    const double dg = sqrt(norm2(zeta - o.gc[g])) - o.gr[g];
    if (dg >= enough || dg >= best) {
      if (dg < best) best = dg;
      continue;
    }
    for (int i = g * kOutlineGroup; i < (g + 1) * kOutlineGroup; ++i) {
      const double di = sqrt(norm2(zeta - o.p[i])) - o.R[i];
      if (di < best) best = di;
    }
  }
  return best > 0.0 ? best : 0.0;
}

}  // namespace lensflow::lens
