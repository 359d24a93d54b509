// Calibration metrics on synthetic posteriors whose answer is known analytically: a conjugate
// Gaussian model gives exactly calibrated posteriors (uniform PIT, nominal coverage); shifted or
// widened posteriors must be detected; modes of known mixtures must be found.
#include "stats/calibration_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace lensflow::stats;

namespace {

// Event i: truth θ ~ N(0, 1); data y = θ + N(0, σ²). Exact posterior N(y/(1+σ²), σ²/(1+σ²)).
// `shift` (in posterior sigmas) and `widen` distort it.
struct Synthetic {
  std::vector<float> samples;  // [E, S, 1]
  std::vector<double> truth;   // [E, 1]
};
Synthetic gaussian_events(std::size_t E, std::size_t S, double shift, double widen, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0.0, 1.0);
  const double sigma = 0.3, v = sigma * sigma / (1.0 + sigma * sigma), sd = std::sqrt(v);
  Synthetic s;
  for (std::size_t i = 0; i < E; ++i) {
    const double th = n01(rng), y = th + sigma * n01(rng);
    const double m = y / (1.0 + sigma * sigma) + shift * sd;
    s.truth.push_back(th);
    for (std::size_t k = 0; k < S; ++k) s.samples.push_back(float(m + widen * sd * n01(rng)));
  }
  return s;
}

MarginalSpec wide_spec() {
  MarginalSpec m;
  m.name = "x";
  m.lo = -8.0;
  m.hi = 8.0;
  m.prior_pdf = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); };
  return m;
}

}  // namespace

TEST(CalibrationMetrics, CalibratedGaussianHasUniformPitAndNominalCoverage) {
  const std::size_t E = 2000, S = 400;
  auto syn = gaussian_events(E, S, 0.0, 1.0, 1);
  CalibrationMetrics cm({wide_spec()}, {0.5, 0.68, 0.95});
  cm.add(syn.samples.data(), syn.truth.data(), E, S);
  const auto r = cm.finish().at(0);
  // KS at the 1% level for n = 2000: 1.63/√n ≈ 0.036 (plus a little for the finite S).
  EXPECT_LT(r.pit_ks, 0.045);
  EXPECT_GT(r.pit_ks_pvalue, 0.001);
  const double levels[] = {0.5, 0.68, 0.95};
  for (int l = 0; l < 3; ++l) {
    const double se = std::sqrt(levels[l] * (1 - levels[l]) / E);
    EXPECT_NEAR(r.coverage[l], levels[l], 4 * se + 0.01) << "level " << levels[l];
  }
  // Posterior sd 0.29 against a N(0,1) prior: every event is constrained, and unimodal.
  EXPECT_EQ(r.n_constrained, E);
  EXPECT_GT(r.correct_fraction, 0.99);
}

TEST(CalibrationMetrics, BiasedAndOverdispersedPosteriorsAreDetected) {
  const std::size_t E = 2000, S = 400;
  auto biased = gaussian_events(E, S, 1.0, 1.0, 2);  // shifted by one posterior sigma
  CalibrationMetrics cb({wide_spec()}, {0.68});
  cb.add(biased.samples.data(), biased.truth.data(), E, S);
  const auto rb = cb.finish().at(0);
  EXPECT_GT(rb.pit_ks, 0.2);  // analytic: sup|Φ(Φ⁻¹(u) + 1) − u| ≈ 0.38
  EXPECT_LT(rb.pit_ks_pvalue, 1e-6);
  EXPECT_LT(rb.coverage[0], 0.6);  // analytic: Φ(0) − Φ(−2) ≈ 0.477

  auto wide = gaussian_events(E, S, 0.0, 2.0, 3);  // twice too wide: over-covers
  CalibrationMetrics cw({wide_spec()}, {0.68});
  cw.add(wide.samples.data(), wide.truth.data(), E, S);
  const auto rw = cw.finish().at(0);
  EXPECT_GT(rw.coverage[0], 0.9);  // analytic: 2Φ(2) − 1 ≈ 0.954
}

TEST(CalibrationMetrics, AddingInChunksEqualsAddingAtOnce) {
  const std::size_t E = 300, S = 100;
  auto syn = gaussian_events(E, S, 0.3, 1.0, 4);
  CalibrationMetrics whole({wide_spec()}, {0.68}), parts({wide_spec()}, {0.68});
  whole.add(syn.samples.data(), syn.truth.data(), E, S);
  parts.add(syn.samples.data(), syn.truth.data(), 100, S);
  parts.add(syn.samples.data() + 100 * S, syn.truth.data() + 100, E - 100, S);
  const auto a = whole.finish().at(0), b = parts.finish().at(0);
  EXPECT_EQ(a.pit, b.pit);
  EXPECT_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.n_constrained, b.n_constrained);
}

TEST(FindModes, BimodalMixtureGivesBothModesGlobalFirst) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n01(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> x;
  for (int i = 0; i < 20000; ++i) x.push_back(float(u(rng) < 0.7 ? -2.0 + 0.3 * n01(rng) : 2.5 + 0.3 * n01(rng)));
  const Modes m = find_modes(x.data(), x.size(), 1, -5.0, 5.0);
  ASSERT_EQ(m.values.size(), 2u);
  EXPECT_NEAR(m.values[0], -2.0, 0.15);  // within 1.5 bins (bin width 0.1)
  EXPECT_NEAR(m.values[1], 2.5, 0.15);
  // Density at the peak of 0.7·N(−2, 0.3): 0.7/(0.3√(2π)) ≈ 0.93.
  EXPECT_NEAR(m.densities[0], 0.93, 0.1);
  EXPECT_GT(m.densities[0], m.densities[1]);
}

TEST(FindModes, AtMostFiveModesAndPlateauCountsOnce) {
  // Uniform samples: noisy flat histogram; the ±20-bin rule allows at most 5 peaks in 100 bins.
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> x;
  for (int i = 0; i < 5000; ++i) x.push_back(float(u(rng)));
  const Modes m = find_modes(x.data(), x.size(), 1, 0.0, 1.0);
  EXPECT_GE(m.values.size(), 1u);
  EXPECT_LE(m.values.size(), 5u);
  // An exactly flat histogram (one sample per bin centre) is a single plateau: one mode.
  std::vector<float> flat;
  for (int b = 0; b < 100; ++b) flat.push_back(float((b + 0.5) / 100.0));
  EXPECT_EQ(find_modes(flat.data(), flat.size(), 1, 0.0, 1.0).values.size(), 1u);
  // Strided access reads one column of interleaved data.
  std::vector<float> inter;
  for (float v : flat) { inter.push_back(v); inter.push_back(-100.0f); }
  EXPECT_EQ(find_modes(inter.data(), flat.size(), 2, 0.0, 1.0).values.size(), 1u);
  EXPECT_THROW(find_modes(x.data(), x.size(), 1, 1.0, 0.0), std::invalid_argument);
}

TEST(EvaluateMarginal, ConstrainedAndCorrectFollowThePaperDefinitions) {
  MarginalSpec spec{"u", 0.0, 1.0, [](double) { return 1.0; }};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n01(0.0, 1.0);
  // Posterior = prior: density ≈ 1 at the mode, not > 2 → unconstrained.
  std::vector<float> prior;
  for (int i = 0; i < 4000; ++i) prior.push_back(float(u(rng)));
  EXPECT_FALSE(evaluate_marginal(prior.data(), prior.size(), 1, 0.5, spec).constrained);
  // Two narrow modes at 0.2 (60%) and 0.8 (40%).
  std::vector<float> two;
  for (int i = 0; i < 4000; ++i) two.push_back(float((i % 5 < 3 ? 0.2 : 0.8) + 0.01 * n01(rng)));
  const auto near_major = evaluate_marginal(two.data(), two.size(), 1, 0.22, spec);
  EXPECT_TRUE(near_major.constrained);
  EXPECT_TRUE(near_major.correct);
  const auto near_minor = evaluate_marginal(two.data(), two.size(), 1, 0.75, spec);
  EXPECT_TRUE(near_minor.constrained);
  EXPECT_FALSE(near_minor.correct);
  EXPECT_NEAR(near_minor.closest_mode, 0.8, 0.011);
  // PIT: 60% of the samples lie below 0.5.
  EXPECT_NEAR(evaluate_marginal(two.data(), two.size(), 1, 0.5, spec).pit, 0.6, 1e-9);
  EXPECT_NEAR(near_major.median, 0.2, 0.02);
  EXPECT_THROW(evaluate_marginal(two.data(), two.size(), 1, NAN, spec), std::invalid_argument);
}

TEST(KolmogorovSmirnov, MatchesTheExactDistribution) {
  // Exact one-sample KS survival function (scipy.stats.kstwo.sf) for comparison; Stephens'
  // asymptotic formula is accurate to about 0.01 there.
  EXPECT_NEAR(ks_uniform_pvalue(0.1, 100), 0.2527, 0.015);
  EXPECT_NEAR(ks_uniform_pvalue(0.05, 1000), 0.0130, 0.003);
  EXPECT_NEAR(ks_uniform_pvalue(0.2, 30), 0.1580, 0.015);
  // Statistic of an evenly spread sample: points (i+0.5)/n give D = 0.5/n.
  std::vector<double> even;
  for (int i = 0; i < 50; ++i) even.push_back((i + 0.5) / 50.0);
  EXPECT_NEAR(ks_uniform_statistic(even), 0.01, 1e-12);
}
