// lens/caustics.hpp — critical curves and caustics of the binary lens.
//
// On the critical curve |E(z)| = 1 with E = m1/(z̄-z1)² + m2/(z̄-z2)², i.e. for each angle φ
// m1/(z-z1)² + m2/(z-z2)² = e^{iφ}, a degree-4 polynomial in z:
//   e^{iφ} (z-z1)²(z-z2)² - m1 (z-z2)² - m2 (z-z1)² = 0.
// Its 4 roots, followed continuously in φ over [0, 2π), trace the critical curves; the lens map
// sends them to the caustics. After a full turn the 4 root tracks are permuted: each cycle of
// that permutation is one closed curve (1 for resonant, 2 for wide, 3 for close topology).
#pragma once
#include <cmath>
#include <vector>

#include "lens/binary_lens.hpp"

namespace lensflow::lens {

// Coefficients c[0..4] (c[k] multiplies z^k) of the critical-curve polynomial at angle phi, in a
// frame translated by the real `shift` (z = z' + shift; shift = 0 gives the COM frame).
LENSFLOW_HD void critical_poly_coeffs(const BinaryLens& L, double phi, cplx c[5], double shift = 0.0) {
  const double z1 = L.z1 - shift, z2 = L.z2 - shift;
  const cplx e(cos(phi), sin(phi));
  // (z-z1)(z-z2) = z² + p1 z + p0 ; its square = z⁴ + 2p1 z³ + (p1² + 2p0) z² + 2 p0 p1 z + p0²
  const double p1 = -(z1 + z2), p0 = z1 * z2;
  const double sq4 = 1.0, sq3 = 2.0 * p1, sq2 = p1 * p1 + 2.0 * p0, sq1 = 2.0 * p0 * p1, sq0 = p0 * p0;
  // m1 (z-z2)² + m2 (z-z1)² = z² - 2(m1 z2 + m2 z1) z + (m1 z2² + m2 z1²)
  const double l2 = 1.0, l1 = -2.0 * (L.m1 * z2 + L.m2 * z1), l0 = L.m1 * z2 * z2 + L.m2 * z1 * z1;
  c[4] = sq4 * e;
  c[3] = sq3 * e;
  c[2] = sq2 * e - l2;
  c[1] = sq1 * e - l1;
  c[0] = sq0 * e - l0;
}

// The 4 critical points at angle phi (warm = true: z[] holds the previous angle's points). As for
// the images, the polynomial is solved with the origin on the lighter lens, then each root is
// polished by Newton on the analytic equation m1/(z-z1)² + m2/(z-z2)² = e^{iφ}.
LENSFLOW_HD void critical_points(const BinaryLens& L, double phi, cplx z[4], bool warm) {
  const double shift = L.m2 <= L.m1 ? L.z2 : L.z1;
  cplx c[5];
  critical_poly_coeffs(L, phi, c, shift);
  if (warm)
    for (int i = 0; i < 4; ++i) z[i] -= shift;
  poly_roots(c, 4, z, warm);
  const cplx e(cos(phi), sin(phi));
  for (int i = 0; i < 4; ++i) {
    z[i] += shift;
    cplx zi = z[i];
    for (int it = 0; it < 3; ++it) {
      const cplx a = detail::fast_inv(zi - L.z1), b = detail::fast_inv(zi - L.z2);
      const cplx g = L.m1 * a * a + L.m2 * b * b - e;
      const cplx dg = -2.0 * (L.m1 * a * a * a + L.m2 * b * b * b);
      const cplx zn = zi - g * detail::fast_inv(dg);
      const cplx an = detail::fast_inv(zn - L.z1), bn = detail::fast_inv(zn - L.z2);
      if (!(norm2(L.m1 * an * an + L.m2 * bn * bn - e) < norm2(g))) break;
      zi = zn;
    }
    z[i] = zi;
  }
}

// Closed critical curves and their caustics, each sampled at n_per_track points per root track.
struct CausticCurves {
  std::vector<std::vector<cplx>> critical;  // one entry per closed curve
  std::vector<std::vector<cplx>> caustic;   // lens_map of the matching critical curve
};

// Host only. Follows the 4 roots over φ ∈ [0, 2π] (matching each step to the nearest previous
// root) and joins the tracks into closed curves.
inline CausticCurves caustic_curves(double s, double q, int n_per_track = 512) {
  const BinaryLens L = make_binary_lens(s, q);
  const int n = n_per_track < 16 ? 16 : n_per_track;
  std::vector<std::vector<cplx>> track(4);
  cplx prev[4], cur[4];
  critical_points(L, 0.0, prev, false);
  for (int k = 0; k < 4; ++k) track[k].push_back(prev[k]);
  int perm[4] = {0, 1, 2, 3};  // track k ends at the root that started track perm[k]
  cplx start[4] = {prev[0], prev[1], prev[2], prev[3]};
  for (int i = 1; i <= n; ++i) {
    const double phi = 6.283185307179586 * i / n;
    for (int k = 0; k < 4; ++k) cur[k] = prev[k];
    critical_points(L, phi, cur, true);
    // Greedy nearest matching of the new roots to the previous ones.
    bool used[4] = {false, false, false, false};
    cplx next[4];
    for (int k = 0; k < 4; ++k) {
      int best = -1;
      double bd = 0.0;
      for (int j = 0; j < 4; ++j)
        if (!used[j] && (best < 0 || norm2(cur[j] - prev[k]) < bd)) {
          best = j;
          bd = norm2(cur[j] - prev[k]);
        }
      used[best] = true;
      next[k] = cur[best];
    }
    for (int k = 0; k < 4; ++k) {
      prev[k] = next[k];
      if (i < n) track[k].push_back(prev[k]);
    }
  }
  // φ = 2π reproduces the φ = 0 roots, possibly permuted: find which start each track reached.
  for (int k = 0; k < 4; ++k) {
    int best = 0;
    for (int j = 1; j < 4; ++j)
      if (norm2(prev[k] - start[j]) < norm2(prev[k] - start[best])) best = j;
    perm[k] = best;
  }
  CausticCurves out;
  bool seen[4] = {false, false, false, false};
  for (int k = 0; k < 4; ++k) {
    if (seen[k]) continue;
    std::vector<cplx> crit;
    for (int j = k; !seen[j]; j = perm[j]) {
      seen[j] = true;
      crit.insert(crit.end(), track[j].begin(), track[j].end());
    }
    std::vector<cplx> caus;
    caus.reserve(crit.size());
    for (const cplx& z : crit) caus.push_back(lens_map(L, z));
    out.critical.push_back(std::move(crit));
    out.caustic.push_back(std::move(caus));
  }
  return out;
}

}  // namespace lensflow::lens
