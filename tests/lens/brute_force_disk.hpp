// tests/lens/brute_force_disk.hpp — an independent reference for finite-source magnifications:
// the disk average of the point-source magnification by nested adaptive Gauss–Kronrod quadrature.
// It shares nothing with lens/finite_source.hpp but the point-source images (checked against a
// 40-digit computation) and their near-critical pair recovery, so it settles disagreements between
// the decision tree's methods.
//
// A = (1/πρ²) ∫∫_disk A_ps dy1 dy2. With y1 = ρ sin θ, y2 = ρ cos θ · u the integral becomes
// (1/π) ∫_{−π/2}^{π/2} cos²θ ∫_{−1}^{1} A_ps(ζ0 + ρ(sin θ, u cos θ)) du dθ: no square-root edge. Both
// integrals start from equal panels and bisect the panel of largest Kronrod−Gauss difference until
// the summed estimate meets the goal, which resolves the caustic crossings (inverse square-root
// singularities of A_ps). Limb darkening multiplies the integrand by the profile (normalised to 1).
// Used by tests/lens/*_test.cpp and bench/sim/finite_stress_bench.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <vector>

#include "lens/binary_lens.hpp"
#include "lens/contour.hpp"

namespace lensflow::lens::test {

struct QuadResult {
  double value, err;
  long evals;
};

// ∫_a^b f by globally adaptive Gauss–Kronrod (7/15 points) to |error| <= abs_tol, starting from
// n_start equal panels (so that a feature narrower than the whole range is not missed by the first
// rule), at most max_panels panels. err is the summed |K15 − G7| of the final panels.
inline QuadResult adaptive_gk15(const std::function<double(double)>& f, double a, double b, double abs_tol,
                                int n_start = 1, int max_panels = 4000) {
  static const double xk[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                               0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                               0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                               0.207784955007898467600689403773245, 0.0};
  static const double wk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                               0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                               0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                               0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
  // Gauss 7-point weights for the odd Kronrod nodes xk[1], xk[3], xk[5], xk[7].
  static const double wg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                               0.381830050505118944950369775488975, 0.417959183673469387755102040816327};
  struct Panel {
    double a, b, value, err;
    bool operator<(const Panel& o) const { return err < o.err; }
  };
  long evals = 0;
  auto rule = [&](double lo, double hi) {
    const double c = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
    double k = wk[7] * f(c), g = wg[3] * f(c);
    for (int j = 0; j < 7; ++j) {
      const double fp = f(c + h * xk[j]), fm = f(c - h * xk[j]);
      k += wk[j] * (fp + fm);
      if (j % 2 == 1) g += wg[j / 2] * (fp + fm);
    }
    evals += 15;
    return Panel{lo, hi, k * h, std::fabs(k - g) * h};
  };
  std::priority_queue<Panel> heap;
  double value = 0.0, err = 0.0;
  for (int i = 0; i < n_start; ++i) {
    const Panel p = rule(a + (b - a) * i / n_start, i + 1 == n_start ? b : a + (b - a) * (i + 1) / n_start);
    value += p.value;
    err += p.err;
    heap.push(p);
  }
  int panels = n_start;
  while (err > abs_tol && panels < max_panels) {
    const Panel w = heap.top();
    heap.pop();
    const double m = 0.5 * (w.a + w.b);
    if (!(m > w.a && m < w.b)) break;  // cannot split further
    const Panel l = rule(w.a, m), r = rule(m, w.b);
    value += l.value + r.value - w.value;
    err += l.err + r.err - w.err;
    heap.push(l);
    heap.push(r);
    ++panels;
  }
  // Re-sum to shed the running-update round-off.
  value = 0.0;
  err = 0.0;
  for (; !heap.empty(); heap.pop()) {
    value += heap.top().value;
    err += heap.top().err;
  }
  return {value, err, evals};
}

// Point-source magnification with the near-critical image pair recovered: next to a fold the
// polynomial roots of the pair lose half their digits and the residual test can reject them, which
// drops a thin strip of very high magnification (~1e-4 of a caustic-crossing disk's average).
inline double point_mag_near_caustic(const BinaryLens& L, cplx zeta) {
  cplx z[5];
  bool img[5];
  if (binary_images(L, zeta, z, img, false) == 3) contour::recover_critical_pair(L, zeta, z, img);
  return images_magnification(L, z, img);
}

// Disk average of the point-source magnification of `L` around zeta0, radius rho, linear limb
// darkening a1 (I ∝ 1 − a1(1 − sqrt(1 − r²/ρ²)), 0 = uniform), to about rel_tol relative error.
inline QuadResult brute_force_disk_mag(const BinaryLens& L, cplx zeta0, double rho, double a1 = 0.0,
                                       double rel_tol = 1e-6) {
  constexpr double kPi = 3.141592653589793;
  // Both directions start from 24 panels (24 × 24 × 225 = 130k point-source solves at least): a cusp
  // tip covering a few per cent of the disk cannot hide between the nodes.
  constexpr int kStartPanels = 24;
  // Work bound (~3e7 point-source solves at most, about a minute): where it is reached the
  // returned err says so.
  constexpr int kMaxInnerPanels = 300, kMaxOuterPanels = 120;
  const double norm = 1.0 - a1 / 3.0;
  const double A0 = binary_point_mag(L, zeta0);
  const double goal = rel_tol * A0;  // the result is >= ~A0 except next to a caustic (then larger)
  long evals = 0;
  double inner_err = 0.0;
  auto outer = [&](double th) {
    const double st = std::sin(th), ct = std::cos(th);
    if (!(ct > 0.0)) return 0.0;
    auto inner = [&](double u) {
      const double r2 = st * st + u * u * ct * ct;
      const double w = 1.0 - a1 * (1.0 - std::sqrt(std::max(0.0, 1.0 - r2)));
      return w * point_mag_near_caustic(L, zeta0 + cplx(rho * st, rho * u * ct));
    };
    const QuadResult q = adaptive_gk15(inner, -1.0, 1.0, 0.1 * goal, kStartPanels, kMaxInnerPanels);
    evals += q.evals;
    inner_err = std::max(inner_err, q.err);
    return ct * ct * q.value;
  };
  const QuadResult o = adaptive_gk15(outer, -0.5 * kPi, 0.5 * kPi, 0.5 * goal * kPi * norm, kStartPanels, kMaxOuterPanels);
  return {o.value / (kPi * norm), (o.err + kPi * inner_err) / (kPi * norm), evals + o.evals};
}

}  // namespace lensflow::lens::test
