// Ensemble MCMC and its diagnostics on targets with known answers (Gaussians, AR(1) series).
#include "stats/ensemble_mcmc.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>

#include "stats/mcmc_diagnostics.hpp"

using namespace lensflow::stats;

namespace {

// Correlated 4-D Gaussian: Σ = diag(σ)·R·diag(σ) with ρ(0,1) = 0.9 and scales spanning 100×.
constexpr std::size_t kD = 4;
const double kMu[kD] = {1.0, -3.0, 10.0, 0.0};
const double kSig[kD] = {0.5, 2.0, 0.05, 1.0};
constexpr double kRho = 0.9;

double gauss_logp(const double* x) {
  const double a = (x[0] - kMu[0]) / kSig[0], b = (x[1] - kMu[1]) / kSig[1];
  const double q01 = (a * a - 2 * kRho * a * b + b * b) / (1 - kRho * kRho);
  double q = q01;
  for (std::size_t d = 2; d < kD; ++d) q += std::pow((x[d] - kMu[d]) / kSig[d], 2);
  return -0.5 * q;
}

BatchLogDensity gauss_density(std::size_t* calls = nullptr) {
  return [calls](const double* th, std::size_t n, double* lp) {
    if (calls) ++*calls;
    for (std::size_t i = 0; i < n; ++i) lp[i] = gauss_logp(th + i * kD);
  };
}

std::vector<double> start_ball(std::size_t W, std::uint64_t seed, double offset) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01;
  std::vector<double> x(W * kD);
  for (std::size_t w = 0; w < W; ++w)
    for (std::size_t d = 0; d < kD; ++d) x[w * kD + d] = kMu[d] + offset * kSig[d] + 0.1 * kSig[d] * n01(rng);
  return x;
}

}  // namespace

TEST(EnsembleMcmc, RecoversCorrelatedGaussianAndConverges) {
  EnsembleOptions opt;
  opt.n_walkers = 16;
  opt.max_steps = 20000;
  opt.seed = 5;
  std::size_t calls = 0;
  const auto init = start_ball(16, 1, 2.0);  // start 2σ off: burn-in must be discarded
  const auto r = run_ensemble_mcmc(gauss_density(&calls), init.data(), kD, opt);
  ASSERT_TRUE(r.converged) << r.message;
  std::cout << r.message << "\n";
  EXPECT_LT(r.n_steps, opt.max_steps);
  EXPECT_EQ(calls, 1 + 2 * r.n_steps);  // one batched call per half-step (+1 for the start)
  EXPECT_EQ(r.n_evaluations, r.n_steps * 16);
  EXPECT_GT(r.acceptance_fraction, 0.2);
  EXPECT_LT(r.acceptance_fraction, 0.8);
  for (double h : r.rhat) EXPECT_LT(h, 1.01);
  const double tau_max = *std::max_element(r.tau.begin(), r.tau.end());
  EXPECT_GT(static_cast<double>(r.n_steps - r.burn_in), 50.0 * tau_max);

  const auto s = r.samples();
  const std::size_t n = s.size() / kD;
  const std::vector<double> w(n, 1.0);
  const auto mu = weighted_mean(s.data(), w.data(), n, kD);
  const auto cov = weighted_covariance(s.data(), w.data(), n, kD);
  // MC error with the autocorrelation-corrected sample size n_eff = n/τ; 5σ bounds.
  const double neff = r.n_eff;
  for (std::size_t d = 0; d < kD; ++d) {
    EXPECT_NEAR(mu[d], kMu[d], 5.0 * kSig[d] / std::sqrt(neff)) << d;
    EXPECT_NEAR(cov[d * kD + d], kSig[d] * kSig[d], 5.0 * std::sqrt(2.0 / neff) * kSig[d] * kSig[d]) << d;
  }
  const double c01 = kRho * kSig[0] * kSig[1];
  EXPECT_NEAR(cov[1], c01, 5.0 * std::sqrt((std::pow(kSig[0] * kSig[1], 2) + c01 * c01) / neff));
}

TEST(EnsembleMcmc, DeterministicForASeed) {
  EnsembleOptions opt;
  opt.n_walkers = 8;
  opt.max_steps = 300;
  opt.check_every = 0;
  opt.seed = 77;
  const auto init = start_ball(8, 2, 0.0);
  const auto a = run_ensemble_mcmc(gauss_density(), init.data(), kD, opt);
  const auto b = run_ensemble_mcmc(gauss_density(), init.data(), kD, opt);
  EXPECT_EQ(a.chain, b.chain);
  EXPECT_EQ(a.n_steps, 300u);
  opt.seed = 78;
  const auto c = run_ensemble_mcmc(gauss_density(), init.data(), kD, opt);
  EXPECT_NE(a.chain, c.chain);
}

TEST(EnsembleMcmc, KeepsTwoSeparatedModesAndReportsNonConvergence) {
  // Equal mixture of N(±5, 1) in x0 (other dims standard normal): walkers seeded half in each.
  constexpr std::size_t D = 2;
  BatchLogDensity bimodal = [](const double* th, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) {
      const double x = th[i * D], y = th[i * D + 1];
      const double a = -0.5 * (x - 5) * (x - 5), b = -0.5 * (x + 5) * (x + 5);
      lp[i] = std::max(a, b) + std::log1p(std::exp(std::min(a, b) - std::max(a, b))) - 0.5 * y * y;
    }
  };
  std::vector<double> init;
  for (int w = 0; w < 8; ++w) init.insert(init.end(), {(w % 2 ? -5.0 : 5.0) + 0.1 * w, 0.05 * w - 0.2});
  EnsembleOptions opt;
  opt.n_walkers = 8;
  opt.max_steps = 2000;
  const auto r = run_ensemble_mcmc(bimodal, init.data(), D, opt);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.n_steps, 2000u);
  EXPECT_GT(r.rhat[0], 1.5);  // walkers disagree across modes: R̂ says so
  std::size_t pos = 0, neg = 0;
  const auto s = r.samples();
  for (std::size_t i = 0; i < s.size(); i += D) (s[i] > 0 ? pos : neg)++;
  EXPECT_GT(pos, s.size() / D / 4);
  EXPECT_GT(neg, s.size() / D / 4);
}

TEST(EnsembleMcmc, BadInputThrowsWithReason) {
  const auto init = start_ball(16, 3, 0.0);
  EnsembleOptions opt;
  opt.n_walkers = 7;
  EXPECT_THROW(run_ensemble_mcmc(gauss_density(), init.data(), kD, opt), std::invalid_argument);
  opt.n_walkers = 6;  // even but < 2·D
  EXPECT_THROW(run_ensemble_mcmc(gauss_density(), init.data(), kD, opt), std::invalid_argument);
  opt.n_walkers = 16;
  BatchLogDensity outside = [](const double*, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) lp[i] = -INFINITY;
  };
  try {
    run_ensemble_mcmc(outside, init.data(), kD, opt);
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("walker 0"), std::string::npos) << e.what();
  }
  BatchLogDensity nan_later = [](const double* th, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) lp[i] = th[i * kD] > 5.0 ? NAN : gauss_logp(th + i * kD);
  };
  auto far = start_ball(16, 4, 0.0);
  for (std::size_t w = 0; w < 16; ++w) far[w * kD] = 4.9 + 0.001 * w;  // proposals soon cross 5
  opt.max_steps = 50;
  EXPECT_THROW(run_ensemble_mcmc(nan_later, far.data(), kD, opt), std::runtime_error);
}

TEST(EnsembleMcmc, SeedingTakesTheBestAndJittersWhenShort) {
  // 5 candidates, 2 duplicates of the best, one outside the support.
  const std::vector<double> cand = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 3, 3, 3, 3};
  const std::vector<double> lp = {-1.0, -2.0, -1.0, -INFINITY, -4.0};
  std::size_t calls = 0;
  const auto seeds = seed_walkers(cand.data(), lp.data(), 5, kD, 8, gauss_density(&calls), 1e-2, 9);
  EXPECT_EQ(seeds.n_distinct, 3u);  // rows 0, 1, 4 (row 2 duplicates row 0, row 3 is −inf)
  // Ranked order 0:cand0 1:cand1 2:cand4 3..7:jitters, interleaved into halves {0,2,4,6 | 1,3,5,7}.
  EXPECT_EQ(seeds.source_index[0], 0u);
  EXPECT_EQ(seeds.source_index[4], 1u);
  EXPECT_EQ(seeds.source_index[1], 4u);
  ASSERT_EQ(seeds.positions.size(), 8 * kD);
  for (std::size_t w = 0; w < 8; ++w) {
    const std::size_t src = seeds.source_index[w];
    const bool exact = (w == 0 || w == 1 || w == 4);
    for (std::size_t d = 0; d < kD; ++d) {
      if (exact) {
        EXPECT_EQ(seeds.positions[w * kD + d], cand[src * kD + d]);
        continue;
      }
      EXPECT_NE(seeds.positions[w * kD + d], cand[src * kD + d]);
      EXPECT_NEAR(seeds.positions[w * kD + d], cand[src * kD + d], 0.2);
    }
    if (!exact) {
      EXPECT_DOUBLE_EQ(seeds.log_prob[w], gauss_logp(&seeds.positions[w * kD]));
    }
  }
  const std::vector<double> none(5, -INFINITY);
  EXPECT_THROW(seed_walkers(cand.data(), none.data(), 5, kD, 8, gauss_density()), std::invalid_argument);
}

TEST(McmcDiagnostics, AutocorrTimeOfAr1MatchesTheory) {
  // AR(1) x_t = φ x_{t−1} + ε: τ = (1+φ)/(1−φ) = 19 for φ = 0.9.
  const double phi = 0.9;
  const std::size_t n = 40000, W = 8;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> n01;
  std::vector<double> chain(n * W);
  for (std::size_t w = 0; w < W; ++w) {
    double x = n01(rng) / std::sqrt(1 - phi * phi);
    for (std::size_t t = 0; t < n; ++t) {
      x = phi * x + n01(rng);
      chain[t * W + w] = x;
    }
  }
  const auto tau = integrated_autocorr_time(chain.data(), n, W, 1);
  EXPECT_NEAR(tau[0], 19.0, 19.0 * 0.08);
  const auto rh = split_rhat(chain.data(), n, W, 1);
  EXPECT_LT(rh[0], 1.01);
  for (std::size_t t = 0; t < n; ++t) chain[t * W] += 10.0;  // one walker elsewhere (4σ)
  EXPECT_GT(split_rhat(chain.data(), n, W, 1)[0], 1.1);
  EXPECT_THROW(integrated_autocorr_time(chain.data(), 1, W, 1), std::invalid_argument);
  EXPECT_THROW(split_rhat(chain.data(), n, W, 1, n - 2), std::invalid_argument);
}

TEST(McmcDiagnostics, AutocorrelationFunctionMatchesDirectSum) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> n01;
  std::vector<double> x(300);
  for (auto& v : x) v = n01(rng);
  const auto acf = autocorrelation_function(x.data(), x.size());
  double mean = 0;
  for (double v : x) mean += v;
  mean /= 300;
  double c0 = 0;
  for (double v : x) c0 += (v - mean) * (v - mean);
  for (std::size_t k : {0u, 1u, 7u, 150u, 299u}) {
    double ck = 0;
    for (std::size_t i = 0; i + k < 300; ++i) ck += (x[i] - mean) * (x[i + k] - mean);
    EXPECT_NEAR(acf[k], ck / c0, 1e-12) << k;
  }
}
