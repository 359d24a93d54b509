// The counter RNG (core/counter_rng.hpp): uniforms in the open interval, independent across keys;
// the normal quantile inverts the CDF (against std::erfc).
#include "core/counter_rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/ks.hpp"

using namespace lensflow::core;
using lensflow::test::ks_crit;
using lensflow::test::ks_stat;

namespace {
constexpr int kN = 20000;
}  // namespace

TEST(CounterRng, NormalQuantileInvertsCdf) {
  // Upper tail only to 5: beyond, p = Φ(x) itself rounds to 1 within ~1e-16 and x is not recoverable.
  for (double x = -8.0; x <= 5.0; x += 0.01) {
    const double p = 0.5 * std::erfc(-x / std::sqrt(2.0));
    EXPECT_NEAR(normal_quantile(p), x, 1e-9 * std::max(1.0, std::fabs(x))) << x;
  }
}

TEST(CounterRng, UniformIsOpenAndUncorrelatedAcrossKeys) {
  std::vector<double> u(kN);
  double sum_xy = 0.0;
  for (int i = 0; i < kN; ++i) {
    u[i] = counter_uniform(7, i, 0, 0);
    ASSERT_GT(u[i], 0.0);
    ASSERT_LT(u[i], 1.0);
    sum_xy += (u[i] - 0.5) * (counter_uniform(7, i, 1, 0) - 0.5);
  }
  EXPECT_LT(ks_stat(u, [](double x) { return x; }), ks_crit(kN));
  EXPECT_LT(std::fabs(sum_xy / kN / (1.0 / 12.0)), 5.0 / std::sqrt(double(kN)));  // correlation ~ 0
}
