// MADE: the autoregressive property (outputs of degree k ignore inputs of degree >= k), context
// dependence, and finite-difference gradients.
#include <gtest/gtest.h>

#include <algorithm>

#include "autodiff/ops.hpp"
#include "nn/made.hpp"
#include "tests/nn/module_gradcheck.hpp"

namespace lensflow::nn {
namespace {

using testing::check_gradients;
using testing::f64_leaf;
using testing::params_and;

TEST(Made, RandomDegreesArePermutations) {
  ad::Generator gen(3);
  for (int64_t d : {1, 2, 5, 8}) {
    auto deg = random_degrees(d, gen);
    std::sort(deg.begin(), deg.end());
    for (int64_t i = 0; i < d; ++i) EXPECT_EQ(deg[i], i + 1);
  }
}

TEST(Made, AutoregressiveByPerturbation) {
  const MadeSizes s{5, 3, 24, 2, 3};
  ad::Generator gen(11);
  const std::vector<int64_t> deg = {3, 1, 5, 2, 4};
  MADE made(s, deg, gen, /*final_scale=*/1.0);
  made.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({1, 5}, gen), h = f64_leaf({1, 3}, gen);
  const auto base = made.forward(x, h).to_f64();  // [1, 5, 3]
  for (int i = 0; i < 5; ++i) {
    auto xv = x.to_f64();
    xv[i] += 0.7;
    const auto out = made.forward(ad::Tensor::from_vector(xv, {1, 5}), h).to_f64();
    bool some_later_changed = false;
    for (int d = 0; d < 5; ++d)
      for (int p = 0; p < 3; ++p) {
        const double diff = std::fabs(out[d * 3 + p] - base[d * 3 + p]);
        if (deg[d] <= deg[i])
          EXPECT_EQ(diff, 0.0) << "output of dim " << d << " (degree " << deg[d]
                               << ") moved with input " << i << " (degree " << deg[i] << ")";
        else if (diff > 1e-9)
          some_later_changed = true;
      }
    if (deg[i] < 5) EXPECT_TRUE(some_later_changed) << "input " << i << " reaches no output";
  }
  // The context reaches every output, including the first dimension's.
  auto hv = h.to_f64();
  hv[0] += 0.5;
  const auto out = made.forward(x, ad::Tensor::from_vector(hv, {1, 3})).to_f64();
  EXPECT_GT(std::fabs(out[1 * 3] - base[1 * 3]), 1e-9);  // dim 1 has degree 1
}

TEST(Made, OneDimensionSeesOnlyTheContext) {
  ad::Generator gen(12);
  MADE made({1, 2, 8, 2, 2}, {1}, gen, 1.0);
  made.to(ad::DType::F64);
  ad::Tensor h = f64_leaf({1, 2}, gen);
  const auto a = made.forward(ad::Tensor::from_vector(std::vector<double>{0.3}, {1, 1}), h).to_f64();
  const auto b = made.forward(ad::Tensor::from_vector(std::vector<double>{-2.0}, {1, 1}), h).to_f64();
  EXPECT_EQ(a, b);
}

TEST(Made, GradientsFiniteDifference) {
  ad::Generator gen(13);
  MADE made({4, 3, 10, 2, 2}, {2, 4, 1, 3}, gen, 1.0);
  made.to(ad::DType::F64);
  testing::jitter_zero_params(made, gen);
  ad::Tensor x = f64_leaf({3, 4}, gen), h = f64_leaf({3, 3}, gen);
  check_gradients("MADE", [&] { return made.forward(x, h); }, params_and(made, {{"x", x}, {"h", h}}));
}

TEST(Made, BadArgumentsThrow) {
  ad::Generator gen(14);
  EXPECT_THROW(MADE({3, 2, 8, 2, 2}, {1, 1, 2}, gen, 1.0), std::invalid_argument);
  EXPECT_THROW(MADE({3, 2, 8, 2, 2}, {1, 2}, gen, 1.0), std::invalid_argument);
  MADE made({3, 2, 8, 2, 2}, {1, 2, 3}, gen, 1.0);
  EXPECT_THROW(made.forward(ad::Tensor::zeros({2, 4}), ad::Tensor::zeros({2, 2})), std::invalid_argument);
  EXPECT_THROW(made.forward(ad::Tensor::zeros({2, 3}), ad::Tensor::zeros({3, 2})), std::invalid_argument);
}

}  // namespace
}  // namespace lensflow::nn
