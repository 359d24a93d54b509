// Importance sampling on toy Gaussians where the exact answer is known analytically.
#include "stats/importance_sampling.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace lensflow::stats;

namespace {

// A D-dimensional Gaussian with lower-triangular Cholesky factor L (Σ = L Lᵀ).
struct Gauss {
  std::vector<double> mu, L;  // L row-major D×D
  std::size_t D;
  double log_norm() const {
    double ld = 0.0;
    for (std::size_t i = 0; i < D; ++i) ld += std::log(L[i * D + i]);
    return -0.5 * static_cast<double>(D) * std::log(2.0 * M_PI) - ld;
  }
  double logpdf(const double* x) const {
    std::vector<double> z(D);  // solve L z = x − mu
    for (std::size_t i = 0; i < D; ++i) {
      double s = x[i] - mu[i];
      for (std::size_t j = 0; j < i; ++j) s -= L[i * D + j] * z[j];
      z[i] = s / L[i * D + i];
    }
    double q = 0.0;
    for (double v : z) q += v * v;
    return log_norm() - 0.5 * q;
  }
  void sample(std::mt19937_64& rng, double* x) const {
    std::normal_distribution<double> n01;
    std::vector<double> e(D);
    for (auto& v : e) v = n01(rng);
    for (std::size_t i = 0; i < D; ++i) {
      x[i] = mu[i];
      for (std::size_t j = 0; j <= i; ++j) x[i] += L[i * D + j] * e[j];
    }
  }
  double cov(std::size_t a, std::size_t b) const {
    double s = 0.0;
    for (std::size_t k = 0; k < D; ++k) s += L[a * D + k] * L[b * D + k];
    return s;
  }
};

Gauss target3() { return {{1.0, -2.0, 0.5}, {1.0, 0, 0, 0.6, 0.8, 0, -0.3, 0.2, 0.5}, 3}; }

// Proposal: shifted by ~0.7σ and 1.6× wider in every direction.
Gauss proposal3() {
  Gauss p = target3();
  p.mu = {1.7, -1.5, 0.2};
  for (auto& v : p.L) v *= 1.6;
  return p;
}

void draw(const Gauss& g, std::size_t n, std::uint64_t seed, std::vector<double>& th, std::vector<double>& lq) {
  std::mt19937_64 rng(seed);
  th.resize(n * g.D);
  lq.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    g.sample(rng, &th[i * g.D]);
    lq[i] = g.logpdf(&th[i * g.D]);
  }
}

BatchLogDensity log_target_of(const Gauss& g, double log_Z) {
  return [g, log_Z](const double* th, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) lp[i] = g.logpdf(th + i * g.D) + log_Z;
  };
}

}  // namespace

TEST(ImportanceSampling, WrongProposalRecoversMeanCovarianceAndEvidence) {
  const Gauss t = target3(), p = proposal3();
  const double log_Z = -1234.5;  // unnormalized target: checks log space and the evidence estimate
  std::vector<double> th, lq;
  draw(p, 40000, 7, th, lq);
  const auto res = importance_sample(th.data(), lq.data(), 40000, 3, log_target_of(t, log_Z));
  ASSERT_EQ(res.w.status, IsStatus::ok) << res.w.message;
  const double neff = res.w.n_eff;
  EXPECT_GT(neff, 2000.0);
  EXPECT_LT(neff, 40000.0);
  EXPECT_NEAR(res.w.efficiency, neff / 40000.0, 1e-12);
  const auto mu = weighted_mean(res.theta.data(), res.w.weights.data(), 40000, 3);
  const auto cov = weighted_covariance(res.theta.data(), res.w.weights.data(), 40000, 3);
  // Monte Carlo error of the mean ≈ σ/√n_eff; of a covariance entry ≈ sqrt((Σaa Σbb + Σab²)/n_eff).
  // 5σ bounds: a correct estimator fails this with probability < 1e-5 per entry.
  for (std::size_t a = 0; a < 3; ++a) {
    EXPECT_NEAR(mu[a], t.mu[a], 5.0 * std::sqrt(t.cov(a, a) / neff)) << "mean " << a;
    for (std::size_t b = 0; b < 3; ++b) {
      const double se = std::sqrt((t.cov(a, a) * t.cov(b, b) + t.cov(a, b) * t.cov(a, b)) / neff);
      EXPECT_NEAR(cov[a * 3 + b], t.cov(a, b), 5.0 * se) << "cov " << a << "," << b;
    }
  }
  // Relative standard error of the evidence estimate ≈ sqrt((n/n_eff − 1)/n).
  const double rel = std::sqrt((40000.0 / neff - 1.0) / 40000.0);
  EXPECT_NEAR(res.w.log_evidence, log_Z, 5.0 * rel);
  // Weighted median of a Gaussian marginal = its mean, error ≈ 1.25 σ/√n_eff.
  const double med = weighted_quantile(res.theta.data(), res.w.weights.data(), 40000, 3, 1, 0.5);
  EXPECT_NEAR(med, t.mu[1], 5.0 * 1.2533 * std::sqrt(t.cov(1, 1) / neff));
  const double q84 = weighted_quantile(res.theta.data(), res.w.weights.data(), 40000, 3, 0, 0.8413447);
  EXPECT_NEAR(q84, t.mu[0] + std::sqrt(t.cov(0, 0)), 8.0 * std::sqrt(t.cov(0, 0) / neff));
}

TEST(ImportanceSampling, PerfectProposalHasNeffNearN) {
  const Gauss t = target3();
  std::vector<double> th, lq;
  draw(t, 5000, 11, th, lq);
  const auto res = importance_sample(th.data(), lq.data(), 5000, 3, log_target_of(t, 42.0));
  ASSERT_EQ(res.w.status, IsStatus::ok);
  // Equal weights: Σw² = 1/n exactly, so n_eff = n − 1 (nbi's definition) up to round-off.
  EXPECT_NEAR(res.w.n_eff, 4999.0, 1e-6);
  EXPECT_NEAR(res.w.log_evidence, 42.0, 1e-9);
}

TEST(ImportanceSampling, InvalidAndZeroWeightsAreCountedNotFatal) {
  const std::vector<double> lq = {0.0, 0.0, 0.0, NAN, 0.0, 0.0};
  const std::vector<double> lt = {NAN, -INFINITY, INFINITY, 1.0, 0.5, 1.5};
  const auto w = importance_weights(lt.data(), lq.data(), 6);
  EXPECT_EQ(w.status, IsStatus::ok);
  EXPECT_EQ(w.n_invalid, 3u);  // NaN target, +inf target, NaN log q
  EXPECT_EQ(w.n_zero, 1u);
  EXPECT_EQ(w.weights[0] + w.weights[1] + w.weights[2] + w.weights[3], 0.0);
  EXPECT_NEAR(w.weights[4] + w.weights[5], 1.0, 1e-15);
  EXPECT_NEAR(w.weights[5] / w.weights[4], std::exp(1.0), 1e-12);
}

TEST(ImportanceSampling, AllInvalidReportsCleanly) {
  const std::vector<double> lq(4, -1.0);
  const std::vector<double> nan_t(4, NAN), zero_t(4, -INFINITY);
  for (const auto* lt : {&nan_t, &zero_t}) {
    ImportanceWeights w;
    ASSERT_NO_THROW(w = importance_weights(lt->data(), lq.data(), 4));
    EXPECT_EQ(w.status, IsStatus::no_valid_weights);
    EXPECT_NE(w.message.find("no sample"), std::string::npos) << w.message;
    EXPECT_EQ(w.n_eff, 0.0);
    for (double v : w.weights) EXPECT_EQ(v, 0.0);
  }
  // Through the driver too, with a top-up that never helps: still a report, never a throw.
  std::size_t calls = 0;
  ProposalSampler sampler = [&](std::size_t n, double* th, double* l) {
    ++calls;
    for (std::size_t i = 0; i < n; ++i) th[i] = 0.0, l[i] = 0.0;
  };
  BatchLogDensity nan_density = [](const double*, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) lp[i] = NAN;
  };
  IsOptions opt;
  opt.target_neff = 10;
  opt.batch_size = 50;
  opt.max_samples = 200;
  const auto res = importance_sample(nullptr, nullptr, 0, 1, nan_density, opt, sampler);
  EXPECT_EQ(res.w.status, IsStatus::no_valid_weights);
  EXPECT_EQ(res.w.n_invalid, 200u);
  EXPECT_EQ(calls, 4u);
}

TEST(ImportanceSampling, TopUpReachesTargetNeffWithinBudget) {
  const Gauss t = target3(), p = proposal3();
  std::mt19937_64 rng(3);
  ProposalSampler sampler = [&](std::size_t n, double* th, double* l) {
    for (std::size_t i = 0; i < n; ++i) {
      p.sample(rng, th + 3 * i);
      l[i] = p.logpdf(th + 3 * i);
    }
  };
  IsOptions opt;
  opt.target_neff = 1500;
  opt.batch_size = 1000;
  opt.max_samples = 100000;
  const auto res = importance_sample(nullptr, nullptr, 0, 3, log_target_of(t, 0.0), opt, sampler);
  EXPECT_EQ(res.w.status, IsStatus::ok) << res.w.message;
  EXPECT_GE(res.w.n_eff, 1500.0);
  EXPECT_EQ(res.log_q.size() % 1000, 0u);
  EXPECT_EQ(res.n_batches, res.log_q.size() / 1000);
  // The run stopped at the first batch count that reached the target.
  const auto prev = importance_weights(res.log_target.data(), res.log_q.data(), res.log_q.size() - 1000);
  EXPECT_LT(prev.n_eff, 1500.0);

  opt.max_samples = 2500;  // budget too small: a clear status, last batch truncated to the budget
  const auto capped = importance_sample(nullptr, nullptr, 0, 3, log_target_of(t, 0.0), opt, sampler);
  EXPECT_EQ(capped.w.status, IsStatus::neff_below_target);
  EXPECT_EQ(capped.log_q.size(), 2500u);
  EXPECT_NE(capped.w.message.find("below the target"), std::string::npos);
}

TEST(ImportanceSampling, BadArgumentsThrowWithNames) {
  BatchLogDensity f = [](const double*, std::size_t n, double* lp) {
    for (std::size_t i = 0; i < n; ++i) lp[i] = 0.0;
  };
  EXPECT_THROW(importance_sample(nullptr, nullptr, 0, 2, f), std::invalid_argument);
  const double th[2] = {0, 0}, lq[1] = {0};
  IsOptions opt;
  opt.target_neff = 5;
  EXPECT_THROW(importance_sample(th, lq, 1, 2, f, opt), std::invalid_argument);
  EXPECT_THROW(importance_sample(th, lq, 1, 0, f), std::invalid_argument);
  const double w0[2] = {0.0, 0.0};
  EXPECT_THROW(resample_indices(w0, 2, 5, 1), std::invalid_argument);
  EXPECT_THROW(weighted_quantile(th, w0, 2, 1, 0, 0.5), std::invalid_argument);
}

TEST(ImportanceSampling, ResamplingFollowsTheWeights) {
  const std::vector<double> w = {0.0, 0.1, 0.0, 0.6, 0.3, 0.0};
  const auto idx = resample_indices(w.data(), 6, 10000, 99);
  std::vector<int> count(6, 0);
  for (auto i : idx) ++count[i];
  // Systematic resampling: each count is within 1 of n_out·w.
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(count[i], 10000 * w[i], 1.0) << i;
  EXPECT_EQ(idx, resample_indices(w.data(), 6, 10000, 99));  // deterministic for a seed
}

TEST(ImportanceSampling, WeightedQuantileOfEqualWeightsInterpolates) {
  const std::vector<double> x = {3.0, 1.0, 2.0, 4.0};  // sorted: 1 2 3 4 at CDF 1/8 3/8 5/8 7/8
  const std::vector<double> w(4, 1.0);
  EXPECT_DOUBLE_EQ(weighted_quantile(x.data(), w.data(), 4, 1, 0, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(weighted_quantile(x.data(), w.data(), 4, 1, 0, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(weighted_quantile(x.data(), w.data(), 4, 1, 0, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(weighted_quantile(x.data(), w.data(), 4, 1, 0, 0.25), 1.5);
}
