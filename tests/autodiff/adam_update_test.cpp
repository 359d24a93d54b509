// ad::adam_update (the fused Adam step of kernels/adam.hpp) against the same equations as tensor
// ops (nn/adam.cpp's former update), float and double, with and without weight decay, over
// several steps; and its argument checks.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"

namespace lensflow::ad {
namespace {

struct State {
  Tensor p, m, v;
};

State fresh(DType dt, Generator& gen) {
  const int64_t n = 100003;  // several threads' chunks and a ragged tail
  return {randn({n}, gen, Device::CPU, dt), Tensor::zeros({n}, dt), Tensor::zeros({n}, dt)};
}

void composed_step(State& s, const Tensor& g0, double b1, double b2, double eps, double wd,
                   double step_size, double isb) {
  NoGradGuard ng;
  Tensor g = g0;
  if (wd != 0.0) g = g + s.p * wd;
  s.m.copy_(s.m * b1 + g * (1.0 - b1));
  s.v.copy_(s.v * b2 + square(g) * (1.0 - b2));
  const Tensor denom = sqrt(s.v) * isb + eps;
  s.p.copy_(s.p - s.m / denom * step_size);
}

TEST(AdamUpdate, MatchesTheTensorOpEquations) {
  for (DType dt : {DType::F32, DType::F64})
    for (double wd : {0.0, 0.01}) {
      Generator gen(5);
      State a = fresh(dt, gen);
      State b{a.p.to(DType::F64).to(dt), a.m.to(DType::F64).to(dt), a.v.to(DType::F64).to(dt)};
      for (int t = 1; t <= 4; ++t) {
        const Tensor g = randn(a.p.shape(), gen, Device::CPU, dt) * (1.0 / t);
        const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
        adam_update(a.p, g, a.m, a.v, 0.9, 0.999, 1e-8, wd, 1e-3 / bc1, 1 / std::sqrt(bc2));
        composed_step(b, g, 0.9, 0.999, 1e-8, wd, 1e-3 / bc1, 1 / std::sqrt(bc2));
      }
      // One rounding per operation in the same order: equal up to the last bit where no fused
      // multiply-add is formed; 2 ulp of slack for builds that contract.
      const double tol = dt == DType::F32 ? 2.5e-7 : 5e-16;
      for (const auto& [x, y] : {std::pair{a.p, b.p}, {a.m, b.m}, {a.v, b.v}}) {
        const auto xs = x.to_f64(), ys = y.to_f64();
        for (size_t i = 0; i < xs.size(); ++i)
          ASSERT_NEAR(xs[i], ys[i], tol * std::fabs(ys[i])) << "element " << i << " wd " << wd;
      }
    }
}

TEST(AdamUpdate, GradScaleIsTheUpdateOfTheScaledGradient) {
  // Clipping inside the pass: the same bits as scaling the gradient first (g * s, then Adam).
  for (DType dt : {DType::F32, DType::F64})
    for (double wd : {0.0, 0.01}) {
      Generator gen(6);
      State a = fresh(dt, gen);
      State b{a.p.to(DType::F64).to(dt), a.m.to(DType::F64).to(dt), a.v.to(DType::F64).to(dt)};
      for (int t = 1; t <= 3; ++t) {
        const Tensor g = randn(a.p.shape(), gen, Device::CPU, dt);
        const double s = 0.3 / t;
        adam_update(a.p, g, a.m, a.v, 0.9, 0.999, 1e-8, wd, 1e-3, 1.1, s);
        adam_update(b.p, g * s, b.m, b.v, 0.9, 0.999, 1e-8, wd, 1e-3, 1.1);
      }
      EXPECT_EQ(a.p.to_f64(), b.p.to_f64()) << "wd " << wd;
      EXPECT_EQ(a.m.to_f64(), b.m.to_f64()) << "wd " << wd;
      EXPECT_EQ(a.v.to_f64(), b.v.to_f64()) << "wd " << wd;
    }
}

TEST(AdamUpdate, RejectsMismatchedTensors) {
  const Tensor p = Tensor::zeros({4}), g = Tensor::zeros({4}), m = Tensor::zeros({4});
  EXPECT_THROW(adam_update(p, Tensor::zeros({5}), m, m, 0.9, 0.999, 1e-8, 0, 1e-3, 1),
               std::invalid_argument);
  EXPECT_THROW(adam_update(p, g, Tensor::zeros({4}, DType::F64), m, 0.9, 0.999, 1e-8, 0, 1e-3, 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace lensflow::ad
