// lens/roots.hpp — all roots of a complex polynomial of degree <= 5 (host and device).
//
// Aberth–Ehrlich simultaneous iteration: every root estimate is pushed towards a zero of p while
// being repelled by the other estimates, so it never collapses two estimates onto one root and it
// converges (cubically) for well separated and (linearly, then polished) for nearly coincident
// roots. A root stops moving once p(z) is below its round-off bound (backward-error test), which
// makes the result as accurate as the coefficients allow. Image tracking along a contour passes the
// previous roots as a warm start (warm = true): one or two sweeps then suffice.
#pragma once
#include <cmath>

#include "lens/complex.hpp"

namespace lensflow::lens {

// Maximum polynomial degree handled by poly_roots (the binary-lens polynomial has degree 5).
constexpr int kMaxPolyDegree = 5;

namespace detail {

// True for finite x (false for NaN and ±Inf); usable in device code without <cmath> overloads.
LENSFLOW_HD bool is_finite(double x) { return x - x == 0.0; }

// 1/a without the overflow guards of operator/: the arguments here are differences of root
// estimates, far from the overflow range, and this runs in the innermost loop.
LENSFLOW_HD cplx fast_inv(cplx a) {
  const double d = 1.0 / norm2(a);
  return {a.re * d, -a.im * d};
}

// p(z), p'(z) by Horner, plus a bound on the round-off of p(z): sum |c_k| |z|^k (abs_c = |c_k|).
LENSFLOW_HD void horner_with_bound(const cplx* c, const double* abs_c, int n, cplx z, cplx& p, cplx& dp,
                                   double& bound) {
  p = c[n];
  dp = cplx(0.0, 0.0);
  const double az = sqrt(norm2(z));
  bound = abs_c[n];
  for (int k = n - 1; k >= 0; --k) {
    dp = dp * z + p;
    p = p * z + c[k];
    bound = bound * az + abs_c[k];
  }
}

}  // namespace detail

// Roots of sum_{k=0..n} c[k] z^k, 1 <= n <= 5, c[n] != 0. `roots` receives n roots; with
// warm = true it must hold n starting estimates on input (any distinct values work).
LENSFLOW_HD_NOINLINE void poly_roots(const cplx* c, int n, cplx* roots, bool warm) {
  if (n <= 0) return;
  if (n == 1) {
    roots[0] = -c[0] / c[1];
    return;
  }
  if (!warm) {
    // Start on a circle whose radius is the geometric mean of the root moduli (|c0/cn|^(1/n)),
    // rotated by an irrational angle so that no estimate starts on a symmetry axis of p.
    double r = pow(sqrt(norm2(c[0]) / norm2(c[n])), 1.0 / n);
    if (!(r > 0.0) || !detail::is_finite(r)) r = 1.0;
    cplx centre = -c[n - 1] / (static_cast<double>(n) * c[n]);
    if (!(norm2(centre) < 100.0 * r * r)) centre = cplx(0.0, 0.0);
    for (int i = 0; i < n; ++i) {
      const double a = 6.283185307179586 * i / n + 0.4;
      roots[i] = centre + cplx(r * cos(a), r * sin(a));
    }
  } else {
    // Coincident warm-start estimates would make the repulsion term singular: separate them.
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < i; ++j)
        if (roots[i].re == roots[j].re && roots[i].im == roots[j].im)
          roots[i] += cplx(1e-7 * (1.0 + abs(roots[i])), 1e-7 * (1.0 + abs(roots[i])) * 0.5);
  }

  constexpr double kEps = 2.220446049250313e-16;
  double abs_c[kMaxPolyDegree + 1];
  for (int k = 0; k <= n; ++k) abs_c[k] = sqrt(norm2(c[k]));
  bool done[kMaxPolyDegree] = {false, false, false, false, false};
  int n_done = 0;
  for (int sweep = 0; sweep < 100 && n_done < n; ++sweep) {
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      cplx p, dp;
      double bound;
      detail::horner_with_bound(c, abs_c, n, roots[i], p, dp, bound);
      if (norm2(p) <= 16.0 * kEps * kEps * bound * bound) {  // p(z) is at round-off level: z is as good as it gets
        done[i] = true;
        ++n_done;
        continue;
      }
      const cplx ratio = p * detail::fast_inv(dp);  // Newton correction (dp == 0 gives non-finite)
      cplx repulse(0.0, 0.0);
      for (int j = 0; j < n; ++j)
        if (j != i) repulse += detail::fast_inv(roots[i] - roots[j]);
      const cplx denom = cplx(1.0, 0.0) - ratio * repulse;
      cplx step = ratio * detail::fast_inv(denom);
      if (!detail::is_finite(step.re) || !detail::is_finite(step.im)) {
        // dp == 0 exactly (a critical point of p): nudge off it.
        step = cplx(1e-8 * (1.0 + abs(roots[i])), 1e-8 * (1.0 + abs(roots[i])));
      }
      roots[i] -= step;
      if (norm2(step) <= kEps * kEps * norm2(roots[i])) {
        done[i] = true;
        ++n_done;
      }
    }
  }
}

}  // namespace lensflow::lens
