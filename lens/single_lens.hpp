// lens/single_lens.hpp — single point lens (1L1S): Paczyński point-source magnification and the
// finite-source magnification for uniform and linearly limb-darkened sources (host and device).
//
// Finite source, uniform disk of radius ρ at distance u from the lens. In polar coordinates (r, θ)
// centred on the lens the radial integral is analytic, ∫ A(r) r dr = r·sqrt(r²+4)/2, so
//   A_unif(u, ρ) = 1/(πρ²) ∫ dθ [F(r₂(θ)) - F(r₁(θ))],  F(r) = r sqrt(r²+4)/2,
// where r₁ ≤ r₂ are the distances along the ray at angle θ where it enters/leaves the disk
// (Lee et al. 2009, ApJ 695, 200). The remaining 1D integral is done by adaptive Gauss–Kronrod
// (15 points) on a small fixed stack, with the sqrt endpoint singularity removed by substitution.
// Linear limb darkening I(r) = 1 - Γ(1 - sqrt(1 - r²/ρ²)) (the "Γ = a1" convention of
// VBMicrolensing) is written as a superposition of uniform disks of radius ρ sinβ:
//   A_LD = [(1-Γ) A_unif(ρ) + Γ ∫₀^{π/2} sin³β A_unif(ρ sinβ) dβ] / (1 - Γ/3).
#pragma once
#include <cmath>

#include "core/hd.hpp"

namespace lensflow::lens {

// Paczyński magnification A(u) = (u²+2)/(u sqrt(u²+4)); u = 0 gives +inf.
LENSFLOW_HD double single_point_mag(double u) {
  const double u2 = u * u;
  return (u2 + 2.0) / (u * sqrt(u2 + 4.0));
}

namespace detail {

// Adaptive Gauss–Kronrod integral of f on [a, b] to |error| <= tol, with a fixed interval stack
// (device-safe, bounded work: at most kMaxPanels panels are evaluated).
template <class F>
LENSFLOW_HD double integrate_gk15(const F& f, double a, double b, double tol) {
  constexpr int kStack = 48, kMaxPanels = 400;
  double lo[kStack], hi[kStack], tl[kStack];
  int top = 0;
  lo[0] = a;
  hi[0] = b;
  tl[0] = tol;
  // Gauss–Kronrod 7/15 abscissae (≥ 0; the rule is symmetric) and weights on [-1, 1]; local
  // arrays so that device code can index them.
  const double x[8] = {0.991455371120812639, 0.949107912342758525, 0.864864423359769073, 0.741531185599394440,
                       0.586087235467691130, 0.405845151377397167, 0.207784955007898468, 0.0};
  const double wk[8] = {0.022935322010529225, 0.063092092629978553, 0.104790010322250184, 0.140653259715525919,
                        0.169004726639267903, 0.190350578064785410, 0.204432940075298892, 0.209482141084727828};
  const double wg[4] = {0.129484966168869693, 0.279705391489276668, 0.381830050505118945, 0.417959183673469388};
  double total = 0.0;
  int panels = 0;
  while (top >= 0) {
    const double l = lo[top], h = hi[top], t = tl[top];
    --top;
    const double c = 0.5 * (l + h), hw = 0.5 * (h - l);
    double fc = f(c);
    double k = fc * wk[7], g = fc * wg[3];
    for (int j = 0; j < 7; ++j) {
      const double dx = hw * x[j];
      const double s = f(c - dx) + f(c + dx);
      k += wk[j] * s;
      if (j % 2 == 1) g += wg[j / 2] * s;
    }
    k *= hw;
    g *= hw;
    ++panels;
    if (fabs(k - g) <= t || top + 2 >= kStack || panels >= kMaxPanels || hw < 1e-15 * fabs(c)) {
      total += k;
    } else {
      ++top;
      lo[top] = l;
      hi[top] = c;
      tl[top] = 0.5 * t;
      ++top;
      lo[top] = c;
      hi[top] = h;
      tl[top] = 0.5 * t;
    }
  }
  return total;
}

// F(r) = ∫₀^r A(r') r' dr' = r sqrt(r²+4)/2: magnified area per radian inside radius r.
LENSFLOW_HD double paczynski_area(double r) { return 0.5 * r * sqrt(r * r + 4.0); }

}  // namespace detail

// Uniform finite source of radius rho at lens distance u, to relative accuracy ~tol_rel.
LENSFLOW_HD double single_finite_mag_uniform(double u, double rho, double tol_rel = 1e-10) {
  u = fabs(u);
  if (!(rho > 0.0)) return single_point_mag(u);
  const double pi = 3.141592653589793;
  const double scale = 1.0 / (pi * rho * rho);
  // Rough size of the result, to turn the relative tolerance into an absolute one per integral.
  const double A_guess = u > rho ? single_point_mag(u) : sqrt(1.0 + 4.0 / (rho * rho));
  const double tol = tol_rel * A_guess / scale;
  if (u > rho) {
    // θ ∈ [0, θmax], sinθmax = ρ/u; substitute sinθ = (ρ/u) sinφ, φ ∈ [0, π/2] (removes the sqrt
    // singularity at θmax): dθ = (ρ/u) cosφ / cosθ dφ, chord half-length sqrt(ρ² - u² sin²θ) = ρ cosφ.
    const double k = rho / u;
    auto f = [=](double phi) {
      const double sp = sin(phi), cp = cos(phi);
      const double st = k * sp, ct = sqrt(1.0 - st * st);
      const double r1 = u * ct - rho * cp, r2 = u * ct + rho * cp;
      return (detail::paczynski_area(r2) - detail::paczynski_area(r1)) * k * cp / ct;
    };
    return 2.0 * scale * detail::integrate_gk15(f, 0.0, 0.5 * pi, 0.5 * tol);
  }
  // Lens inside the disk: θ ∈ [0, 2π], r₁ = 0. The chord term sqrt(ρ² - u² sin²θ) has a near-kink
  // at θ = π/2 when u → ρ: split there so the adaptive rule sees it at a panel edge.
  auto f = [=](double th) {
    const double st = sin(th), ct = cos(th);
    const double r2 = u * ct + sqrt(fmax(rho * rho - u * u * st * st, 0.0));
    return detail::paczynski_area(r2);
  };
  const double half = detail::integrate_gk15(f, 0.0, 0.5 * pi, 0.25 * tol) +
                      detail::integrate_gk15(f, 0.5 * pi, pi, 0.25 * tol);
  return 2.0 * scale * half;
}

// Linearly limb-darkened source, I(r) ∝ 1 - gamma (1 - sqrt(1 - r²/ρ²)), gamma in [0, 1].
LENSFLOW_HD double single_finite_mag_ld(double u, double rho, double gamma, double tol_rel = 1e-9) {
  if (gamma == 0.0 || !(rho > 0.0)) return single_finite_mag_uniform(u, rho, tol_rel);
  const double pi = 3.141592653589793;
  u = fabs(u);
  const double A_guess = u > rho ? single_point_mag(u) : sqrt(1.0 + 4.0 / (rho * rho));
  // sin³β A_unif(ρ sinβ): kink where the inner disk's edge passes over the lens (ρ sinβ = u); split
  // there.
  auto g = [=](double beta) {
    const double sb = sin(beta);
    if (sb == 0.0) return 0.0;  // sin³β · A(≤ 1/(ρ sinβ)) -> 0
    return sb * sb * sb * single_finite_mag_uniform(u, rho * sb, 0.1 * tol_rel);
  };
  double inner;
  const double tol = tol_rel * A_guess;
  if (u < rho && u > 0.0) {
    const double bk = asin(u / rho);
    inner = detail::integrate_gk15(g, 0.0, bk, 0.5 * tol) + detail::integrate_gk15(g, bk, 0.5 * pi, 0.5 * tol);
  } else {
    inner = detail::integrate_gk15(g, 0.0, 0.5 * pi, tol);
  }
  return ((1.0 - gamma) * single_finite_mag_uniform(u, rho, 0.1 * tol_rel) + gamma * inner) / (1.0 - gamma / 3.0);
}

}  // namespace lensflow::lens
