// Tensor handles, grad mode, error messages, random streams.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"

namespace lensflow::ad {
namespace {

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Tensor, CreationAndTransfer) {
  const Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.dim(-1), 3);
  EXPECT_EQ(z.dtype(), DType::F32);
  EXPECT_EQ(z.device(), Device::CPU);
  EXPECT_EQ(z.to_f32(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(Tensor::full({2}, 2.5, DType::F64).to_f64(), (std::vector<double>{2.5, 2.5}));
  const Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  EXPECT_EQ(a.to(DType::F64).to_f64(), (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(Tensor().defined());
  EXPECT_DOUBLE_EQ(sum(a).item(), 6.0);
}

TEST(Tensor, ReshapeSharesStorageAndCopyIsInPlace) {
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  Tensor r = a.reshape({4});
  EXPECT_EQ(r.raw_data(), a.raw_data());
  EXPECT_EQ(a.reshape({-1, 1}).shape(), (Shape{4, 1}));
  a.copy_(Tensor::from_vector(std::vector<float>{5, 6, 7, 8}, {2, 2}));
  EXPECT_EQ(r.to_f32(), (std::vector<float>{5, 6, 7, 8}));
}

TEST(Tensor, ErrorsNameTheOpAndShapes) {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  std::string e = error_of([&] { add(a, b); });
  EXPECT_NE(e.find("add"), std::string::npos) << e;
  EXPECT_NE(e.find("[2, 3]"), std::string::npos) << e;
  EXPECT_NE(e.find("[4, 5]"), std::string::npos) << e;
  e = error_of([&] { matmul(a, b); });
  EXPECT_NE(e.find("matmul"), std::string::npos) << e;
  e = error_of([&] { add(a, Tensor::zeros({2, 3}, DType::F64)); });
  EXPECT_NE(e.find("dtype"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { conv1d(a, b, Tensor()); }).find("conv1d"), std::string::npos);
  EXPECT_NE(error_of([&] { layer_norm(a, Tensor::zeros({2}), Tensor::zeros({3})); })
                .find("layer_norm"),
            std::string::npos);
  EXPECT_NE(error_of([&] { gru(a, Tensor(), a, a, a, a); }).find("gru"), std::string::npos);
  EXPECT_NE(error_of([&] { slice(a, 1, 2, 5); }).find("slice"), std::string::npos);
  EXPECT_NE(error_of([&] { index_select(a, 0, {2}); }).find("index_select"), std::string::npos);
  EXPECT_NE(error_of([&] { a.reshape({5}); }).find("reshape"), std::string::npos);
  EXPECT_NE(error_of([&] { sum(a, 2); }).find("sum"), std::string::npos);
  EXPECT_NE(error_of([&] { add(a, Tensor()); }).find("undefined"), std::string::npos);
  EXPECT_NE(error_of([&] { Tensor::from_vector(std::vector<float>{1, 2}, {3}); }).find("from_vector"),
            std::string::npos);
  EXPECT_NE(error_of([&] { mog_logpdf(a, a, a, a); }).find("mog_logpdf"), std::string::npos);
  if (!cuda_available())
    EXPECT_FALSE(error_of([&] { Tensor::zeros({2}, DType::F32, Device::CUDA); }).empty());
}

TEST(Tensor, NoGradGuardRecordsNothing) {
  Tensor w = Tensor::full({3}, 2.0);
  w.set_requires_grad(true);
  {
    NoGradGuard ng;
    EXPECT_FALSE(grad_enabled());
    const Tensor y = sum(exp(w) * w);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_THROW(backward(y), std::invalid_argument);
  }
  EXPECT_TRUE(grad_enabled());
  const Tensor y = sum(w * w);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_NE(y.grad_fn(), nullptr);
}

TEST(Tensor, GradientsAccumulateAcrossBackwardCalls) {
  Tensor w = Tensor::from_vector(std::vector<float>{1, 2}, {2});
  w.set_requires_grad(true);
  backward(sum(w * w));
  backward(sum(w * w));
  EXPECT_EQ(w.grad().to_f32(), (std::vector<float>{4, 8}));
  w.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  // A tensor used twice in one graph gets both contributions.
  backward(sum(w * 3.0 + w));
  EXPECT_EQ(w.grad().to_f32(), (std::vector<float>{4, 4}));
  // A second backward through the same (released) graph is an error, not a silent no-op.
  const Tensor once = sum(w * w);
  backward(once);
  EXPECT_THROW(backward(once), std::invalid_argument);
  // detach cuts the graph.
  Tensor v = Tensor::from_vector(std::vector<float>{1, 2}, {2});
  v.set_requires_grad(true);
  EXPECT_FALSE((v.detach() * 2.0).requires_grad());
}

TEST(Random, SameSeedSameTensorsDifferentSeedsDiffer) {
  Generator g1(7), g2(7), g3(8);
  const auto a = randn({1000}, g1).to_f32(), b = randn({1000}, g2).to_f32(),
             c = randn({1000}, g3).to_f32();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Successive draws continue the stream instead of repeating it.
  EXPECT_NE(randn({1000}, g1).to_f32(), a);
  randn({1000}, g2);
  EXPECT_EQ(randint(50, 10, g1), randint(50, 10, g2));
  // A generator restored to an offset replays the stream (checkpoint/resume).
  Generator ga(7), gb(7);
  randn({1000}, ga);
  const auto next = rand({10}, ga).to_f32();
  gb.set_offset(1000);
  EXPECT_EQ(rand({10}, gb).to_f32(), next);
}

TEST(Random, MomentsAndRanges) {
  Generator g(3);
  const auto n = randn({200000}, g, Device::CPU, DType::F64).to_f64();
  double m = 0, v = 0;
  for (double x : n) m += x / double(n.size());
  for (double x : n) v += (x - m) * (x - m) / double(n.size());
  EXPECT_NEAR(m, 0.0, 0.01);  // 4.5 sigma of the sample mean
  EXPECT_NEAR(v, 1.0, 0.015);
  const auto u = rand({100000}, g).to_f32();
  double um = 0;
  for (float x : u) {
    ASSERT_GE(x, 0.0f);
    ASSERT_LT(x, 1.0f);
    um += x / double(u.size());
  }
  EXPECT_NEAR(um, 0.5, 0.005);
  for (int64_t k : randint(1000, 7, g)) {
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 7);
  }
  auto p = randperm(100, g);
  std::sort(p.begin(), p.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(p[size_t(i)], i);
}

}  // namespace
}  // namespace lensflow::ad
