// Priors: distributions (KS and moments against analytic CDFs written here independently),
// normalization of the θ-space density, support, reproducibility by (seed, index).
#include "sim/priors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "tests/ks.hpp"

using namespace lensflow::sim;
using lensflow::test::ks_crit;
using lensflow::test::ks_stat;

namespace {

constexpr int kN = 20000;

std::vector<std::vector<double>> draw_theta(const PriorBox& p, std::uint64_t seed, int n) {
  std::vector<std::vector<double>> cols(kThetaDim, std::vector<double>(n));
  for (int i = 0; i < n; ++i) {
    double th[kThetaDim];
    theta_from_draw(sample_event(p, seed, i), th);
    for (int k = 0; k < kThetaDim; ++k) cols[k][i] = th[k];
  }
  return cols;
}

}  // namespace

TEST(Priors, EachComponentFollowsItsDistribution) {
  const PriorBox p;
  auto cols = draw_theta(p, 12345, kN);
  auto uni = [](double lo, double hi) { return [=](double x) { return std::clamp((x - lo) / (hi - lo), 0.0, 1.0); }; };
  EXPECT_LT(ks_stat(cols[0], uni(std::log10(0.2), std::log10(5.0))), ks_crit(kN));
  EXPECT_LT(ks_stat(cols[1], uni(-6.0, 0.0)), ks_crit(kN));
  EXPECT_LT(ks_stat(cols[2], uni(0.0, 360.0)), ks_crit(kN));
  EXPECT_LT(ks_stat(cols[3], uni(0.0, 2.0)), ks_crit(kN));
  EXPECT_LT(ks_stat(cols[4], uni(0.0, 72.0)), ks_crit(kN));
  EXPECT_LT(ks_stat(cols[6], uni(-4.0, -2.0)), ks_crit(kN));
  // log10 tE: N(1.15, 0.45) truncated to [0, 2].
  auto Phi = [](double x) { return 0.5 * std::erfc(-(x - 1.15) / (0.45 * std::sqrt(2.0))); };
  const double F0 = Phi(0.0), F2 = Phi(2.0);
  EXPECT_LT(ks_stat(cols[5], [&](double x) { return (Phi(x) - F0) / (F2 - F0); }), ks_crit(kN));
  // f_s log-uniform on [0.1, 1]: F(f) = ln(f/0.1)/ln(10).
  EXPECT_LT(ks_stat(cols[7], [](double f) { return std::log(f / 0.1) / std::log(10.0); }), ks_crit(kN));
  for (int k = 0; k < kThetaDim; ++k)
    for (double v : cols[k]) ASSERT_TRUE(std::isfinite(v));
}

TEST(Priors, StandardizationMatchesMomentsOfTheDraws) {
  const PriorBox p;
  auto cols = draw_theta(p, 99, kN);
  const ThetaStandardization st = theta_standardization(p);
  for (int k = 0; k < kThetaDim; ++k) {
    double m = 0.0, v = 0.0;
    for (double x : cols[k]) m += x;
    m /= kN;
    for (double x : cols[k]) v += (x - m) * (x - m);
    const double sd = std::sqrt(v / (kN - 1));
    EXPECT_NEAR(st.mean[k], m, 5.0 * sd / std::sqrt(double(kN))) << kThetaNames[k];
    EXPECT_NEAR(st.std[k], sd, 5.0 * sd / std::sqrt(2.0 * kN)) << kThetaNames[k];
  }
  // log10 tE moments by quadrature of the truncated normal density (independent of the formula).
  double z = 0, m1 = 0, m2 = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = (i + 0.5) * 2.0 / 200000;
    const double w = std::exp(-0.5 * std::pow((x - 1.15) / 0.45, 2));
    z += w;
    m1 += w * x;
    m2 += w * x * x;
  }
  m1 /= z;
  EXPECT_NEAR(st.mean[5], m1, 1e-9);
  EXPECT_NEAR(st.std[5], std::sqrt(m2 / z - m1 * m1), 1e-9);
}

TEST(Priors, LogDensityIsNormalizedOverTheBox) {
  // ∫ p(θ) dθ = V · E_uniform-in-box[p(θ)] = 1 (Monte Carlo with uniform points in the box).
  const PriorBox p;
  const double lo[kThetaDim] = {std::log10(0.2), -6, 0, 0, 0, 0, -4, 0.1};
  const double hi[kThetaDim] = {std::log10(5.0), 0, 360, 2, 72, 2, -2, 1.0};
  double V = 1.0;
  for (int k = 0; k < kThetaDim; ++k) V *= hi[k] - lo[k];
  double sum = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double th[kThetaDim];
    for (int k = 0; k < kThetaDim; ++k) th[k] = lo[k] + lensflow::core::counter_uniform(3, i, k, 77) * (hi[k] - lo[k]);
    ASSERT_TRUE(in_support(p, th));
    sum += std::exp(log_prior_theta(p, th));
  }
  EXPECT_NEAR(V * sum / n, 1.0, 0.01);
}

TEST(Priors, OutsideSupportIsMinusInfinity) {
  const PriorBox p;
  double th[kThetaDim];
  theta_from_draw(sample_event(p, 1, 0), th);
  ASSERT_TRUE(in_support(p, th));
  ASSERT_TRUE(std::isfinite(log_prior_theta(p, th)));
  const double bad[kThetaDim] = {1.0, 0.5, 361.0, -0.1, 73.0, 2.5, -1.0, 0.05};
  for (int k = 0; k < kThetaDim; ++k) {
    double t2[kThetaDim];
    std::copy(th, th + kThetaDim, t2);
    t2[k] = bad[k];
    EXPECT_FALSE(in_support(p, t2)) << kThetaNames[k];
    EXPECT_EQ(log_prior_theta(p, t2), -HUGE_VAL) << kThetaNames[k];
    t2[k] = std::nan("");
    EXPECT_FALSE(in_support(p, t2)) << kThetaNames[k];
  }
}

TEST(Priors, DrawDependsOnlyOnSeedAndIndex) {
  const PriorBox p;
  std::vector<PriorDraw> serial(1000), threaded(1000);
  for (int i = 0; i < 1000; ++i) serial[i] = sample_event(p, 42, i);
  std::vector<std::thread> th;
  for (int t = 0; t < 3; ++t)
    th.emplace_back([&, t] {
      for (int i = 999 - t; i >= 0; i -= 3) threaded[i] = sample_event(p, 42, i);
    });
  for (auto& x : th) x.join();
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(serial[i].s, threaded[i].s);
    EXPECT_EQ(serial[i].tE, threaded[i].tE);
    EXPECT_EQ(serial[i].fs, threaded[i].fs);
  }
  EXPECT_NE(sample_event(p, 42, 5).q, sample_event(p, 43, 5).q);
  EXPECT_NE(sample_event(p, 42, 5).q, sample_event(p, 42, 6).q);
}

TEST(Priors, ValidateRejectsBadRanges) {
  PriorBox p;
  EXPECT_NO_THROW(validate_prior(p));
  p.s_min = 5.0;
  EXPECT_THROW(validate_prior(p), std::invalid_argument);
  p = PriorBox{};
  p.q_min = -1e-6;
  EXPECT_THROW(validate_prior(p), std::invalid_argument);
  p = PriorBox{};
  p.fs_max = 2.0;
  EXPECT_THROW(validate_prior(p), std::invalid_argument);
  p = PriorBox{};
  p.log10_tE_sigma = 0.0;
  EXPECT_THROW(validate_prior(p), std::invalid_argument);
  p = PriorBox{};
  p.rho_max = std::nan("");
  EXPECT_THROW(validate_prior(p), std::invalid_argument);
}
