// sim/priors.hpp — the training-set priors (docs/conventions.md §Priors, Zhang et al. 2021 eq. 13),
// sampled from a counter-based RNG (host and device), and their density in the network's parameter
// space θ.
//
// Physical parameters and their priors (ranges configurable through PriorBox):
//   s ~ LogU(0.2, 5), q ~ LogU(1e-6, 1), α ~ U(0, 360) deg, u0 ~ U(0, 2), t0 ~ U(0, 72) d,
//   tE ~ TruncLogNormal on [1, 100] d (log10 tE ~ N(1.15, 0.45) truncated to [0, 2]),
//   ρ ~ LogU(1e-4, 1e-2), f_s ~ LogU(0.1, 1).
// θ = (log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ, f_s), D = 8 (docs/conventions.md §Priors).
// In θ space the prior is uniform in every component except log10 tE (truncated normal) and f_s
// (density ∝ 1/f_s).
//
// Reproducibility: draw number `index` depends only on (seed, index) — component k uses the key
// (seed, index, k, kPriorStream) of core/counter_rng.hpp — so any shard of any size, on any number
// of threads or devices, reproduces the same events.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/counter_rng.hpp"
#include "core/hd.hpp"

namespace lensflow::sim {

constexpr int kThetaDim = 8;
// Names of the θ components, in order (for files, plots and messages).
constexpr const char* kThetaNames[kThetaDim] = {"log10_s", "log10_q", "alpha_deg", "u0",
                                                "t0",      "log10_tE", "log10_rho", "fs"};

// Prior ranges. Log-uniform and log-normal ranges are given in linear units.
struct PriorBox {
  double s_min = 0.2, s_max = 5.0;
  double q_min = 1e-6, q_max = 1.0;
  double alpha_min = 0.0, alpha_max = 360.0;
  double u0_min = 0.0, u0_max = 2.0;
  double t0_min = 0.0, t0_max = 72.0;
  double tE_min = 1.0, tE_max = 100.0;
  double log10_tE_mean = 1.15, log10_tE_sigma = 0.45;
  double rho_min = 1e-4, rho_max = 1e-2;
  double fs_min = 0.1, fs_max = 1.0;
};

// Throws std::invalid_argument naming the field when a range is empty, reversed, non-finite, or
// outside its physical domain (s, q, tE, ρ, f_s > 0; f_s <= 1; u0 >= 0; σ > 0).
inline void validate_prior(const PriorBox& p) {
  auto check = [](const char* name, double lo, double hi, bool positive) {
    if (!(std::isfinite(lo) && std::isfinite(hi)))
      throw std::invalid_argument(std::string("prior: ") + name + " range must be finite");
    if (!(lo < hi))
      throw std::invalid_argument(std::string("prior: ") + name + " range needs min < max (got " +
                                  std::to_string(lo) + ", " + std::to_string(hi) + ")");
    if (positive && !(lo > 0.0))
      throw std::invalid_argument(std::string("prior: ") + name + " range must be > 0 (got min " +
                                  std::to_string(lo) + ")");
  };
  check("s", p.s_min, p.s_max, true);
  check("q", p.q_min, p.q_max, true);
  check("alpha", p.alpha_min, p.alpha_max, false);
  check("u0", p.u0_min, p.u0_max, false);
  if (p.u0_min < 0.0) throw std::invalid_argument("prior: u0 range must be >= 0");
  check("t0", p.t0_min, p.t0_max, false);
  check("tE", p.tE_min, p.tE_max, true);
  check("rho", p.rho_min, p.rho_max, true);
  check("fs", p.fs_min, p.fs_max, true);
  if (p.fs_max > 1.0) throw std::invalid_argument("prior: fs range must be <= 1 (a flux fraction)");
  if (!(std::isfinite(p.log10_tE_mean) && std::isfinite(p.log10_tE_sigma) && p.log10_tE_sigma > 0.0))
    throw std::invalid_argument("prior: log10 tE mean must be finite and sigma > 0");
}

// One draw from the prior (physical units; α in degrees, t0 in days from the window start).
struct PriorDraw {
  double s, q, alpha_deg, u0, t0, tE, rho, fs;
};

// Stream tag of the prior draws in the counter RNG key (other users take other tags).
constexpr std::uint64_t kPriorStream = 0x505249ull;  // "PRI"

namespace detail {
// Standardized bounds of the truncated normal of log10 tE.
LENSFLOW_HD void tE_bounds(const PriorBox& p, double& a, double& b) {
  a = (log10(p.tE_min) - p.log10_tE_mean) / p.log10_tE_sigma;
  b = (log10(p.tE_max) - p.log10_tE_mean) / p.log10_tE_sigma;
}
}  // namespace detail

// Log-uniform value between lo and hi for u in (0, 1).
LENSFLOW_HD double log_uniform(double lo, double hi, double u) { return lo * exp(u * log(hi / lo)); }

// Draw of the truncated normal log10 tE for u in (0, 1), by inverting the truncated CDF.
LENSFLOW_HD double sample_log10_tE(const PriorBox& p, double u) {
  double a, b;
  detail::tE_bounds(p, a, b);
  const double Fa = core::normal_cdf(a), Fb = core::normal_cdf(b);
  double z = core::normal_quantile(Fa + u * (Fb - Fa));
  z = fmin(fmax(z, a), b);  // round-off at the edges
  return p.log10_tE_mean + p.log10_tE_sigma * z;
}

// Event number `index` of the prior draws keyed by `seed`.
LENSFLOW_HD PriorDraw sample_event(const PriorBox& p, std::uint64_t seed, std::uint64_t index) {
  auto u = [&](std::uint64_t k) { return core::counter_uniform(seed, index, k, kPriorStream); };
  PriorDraw d;
  d.s = log_uniform(p.s_min, p.s_max, u(0));
  d.q = log_uniform(p.q_min, p.q_max, u(1));
  d.alpha_deg = p.alpha_min + u(2) * (p.alpha_max - p.alpha_min);
  d.u0 = p.u0_min + u(3) * (p.u0_max - p.u0_min);
  d.t0 = p.t0_min + u(4) * (p.t0_max - p.t0_min);
  d.tE = pow(10.0, sample_log10_tE(p, u(5)));
  d.rho = log_uniform(p.rho_min, p.rho_max, u(6));
  d.fs = log_uniform(p.fs_min, p.fs_max, u(7));
  return d;
}

// θ of a draw (t0 taken as given: the realization replaces it by the window-relative value).
LENSFLOW_HD void theta_from_draw(const PriorDraw& d, double* theta) {
  theta[0] = log10(d.s);
  theta[1] = log10(d.q);
  theta[2] = d.alpha_deg;
  theta[3] = d.u0;
  theta[4] = d.t0;
  theta[5] = log10(d.tE);
  theta[6] = log10(d.rho);
  theta[7] = d.fs;
}

// True when θ lies in the prior support (closed box; non-finite components are outside).
LENSFLOW_HD bool in_support(const PriorBox& p, const double* th) {
  for (int k = 0; k < kThetaDim; ++k)
    if (!(fabs(th[k]) < HUGE_VAL)) return false;
  return th[0] >= log10(p.s_min) && th[0] <= log10(p.s_max) && th[1] >= log10(p.q_min) &&
         th[1] <= log10(p.q_max) && th[2] >= p.alpha_min && th[2] <= p.alpha_max && th[3] >= p.u0_min &&
         th[3] <= p.u0_max && th[4] >= p.t0_min && th[4] <= p.t0_max && th[5] >= log10(p.tE_min) &&
         th[5] <= log10(p.tE_max) && th[6] >= log10(p.rho_min) && th[6] <= log10(p.rho_max) &&
         th[7] >= p.fs_min && th[7] <= p.fs_max;
}

// Log prior density of θ (with respect to Lebesgue measure in θ space, normalized); -inf outside
// the support.
LENSFLOW_HD double log_prior_theta(const PriorBox& p, const double* th) {
  if (!in_support(p, th)) return -HUGE_VAL;
  double a, b;
  detail::tE_bounds(p, a, b);
  const double z = (th[5] - p.log10_tE_mean) / p.log10_tE_sigma;
  const double Z = core::normal_cdf(b) - core::normal_cdf(a);
  return -log(log10(p.s_max / p.s_min)) - log(log10(p.q_max / p.q_min)) - log(p.alpha_max - p.alpha_min) -
         log(p.u0_max - p.u0_min) - log(p.t0_max - p.t0_min) +
         (-0.5 * z * z - 0.91893853320467274178 - log(p.log10_tE_sigma) - log(Z)) -
         log(log10(p.rho_max / p.rho_min)) - log(th[7] * log(p.fs_max / p.fs_min));
}

// Per-dimension standardization θ_std = (θ - mean) / std, with mean and std of each θ component
// under the prior (analytic: uniform components (lo+hi)/2 and (hi-lo)/√12; the truncated normal's
// moments for log10 tE; for f_s with density 1/(f ln(b/a)): E f = (b-a)/ln(b/a),
// E f² = (b²-a²)/(2 ln(b/a))).
struct ThetaStandardization {
  double mean[kThetaDim], std[kThetaDim];
};

LENSFLOW_HD ThetaStandardization theta_standardization(const PriorBox& p) {
  ThetaStandardization st;
  auto uni = [&](int k, double lo, double hi) {
    st.mean[k] = 0.5 * (lo + hi);
    st.std[k] = (hi - lo) * 0.28867513459481288225;  // 1/√12
  };
  uni(0, log10(p.s_min), log10(p.s_max));
  uni(1, log10(p.q_min), log10(p.q_max));
  uni(2, p.alpha_min, p.alpha_max);
  uni(3, p.u0_min, p.u0_max);
  uni(4, p.t0_min, p.t0_max);
  double a, b;
  detail::tE_bounds(p, a, b);
  const double Z = core::normal_cdf(b) - core::normal_cdf(a);
  const double pa = core::normal_pdf(a), pb = core::normal_pdf(b);
  const double m = (pa - pb) / Z;
  st.mean[5] = p.log10_tE_mean + p.log10_tE_sigma * m;
  st.std[5] = p.log10_tE_sigma * sqrt(1.0 + (a * pa - b * pb) / Z - m * m);
  uni(6, log10(p.rho_min), log10(p.rho_max));
  const double L = log(p.fs_max / p.fs_min);
  const double ef = (p.fs_max - p.fs_min) / L, ef2 = (p.fs_max * p.fs_max - p.fs_min * p.fs_min) / (2.0 * L);
  st.mean[7] = ef;
  st.std[7] = sqrt(ef2 - ef * ef);
  return st;
}

}  // namespace lensflow::sim
