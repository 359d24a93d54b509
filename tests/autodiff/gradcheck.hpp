// tests/autodiff/gradcheck.hpp — central finite-difference gradient checks in float64.
// The scalar checked is L = Σ f(inputs) ⊙ R with a fixed random R, so every output element's
// gradient path is exercised with a distinct weight.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autodiff/ops.hpp"

namespace lensflow::ad::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// A random F64 leaf of `shape` with values in [lo, hi).
inline Tensor rand_leaf(const Shape& shape, Generator& gen, double lo = -1.0, double hi = 1.0) {
  Tensor u = rand(shape, gen, Device::CPU, DType::F64);
  Tensor t = Tensor::from_vector(((u * (hi - lo)) + lo).to_f64(), shape);
  t.set_requires_grad(true);
  return t;
}

// Checks d L / d input for every element of every input that requires grad.
// Tolerance: |analytic - numeric| <= tol * (1 + |numeric|).
inline void gradcheck(const std::string& name, const Fn& f, std::vector<Tensor> inputs,
                      double h = 1e-6, double tol = 1e-6) {
  Generator gen(12345);
  Tensor out;
  {
    NoGradGuard ng;
    out = f(inputs);
  }
  const Tensor R = rand(out.shape(), gen, Device::CPU, DType::F64) + 0.5;
  auto loss_value = [&]() {
    NoGradGuard ng;
    return sum(mul(f(inputs), R)).item();
  };
  for (Tensor& t : inputs)
    if (t.defined()) t.zero_grad();
  backward(sum(mul(f(inputs), R)));
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& t = inputs[k];
    if (!t.defined() || !t.requires_grad()) continue;
    ASSERT_TRUE(t.grad().defined()) << name << ": no gradient for input " << k;
    ASSERT_EQ(t.grad().shape(), t.shape()) << name;
    const std::vector<double> analytic = t.grad().to_f64();
    double* x = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double x0 = x[i];
      x[i] = x0 + h;
      const double lp = loss_value();
      x[i] = x0 - h;
      const double lm = loss_value();
      x[i] = x0;
      const double numeric = (lp - lm) / (2 * h);
      ASSERT_NEAR(analytic[size_t(i)], numeric, tol * (1 + std::fabs(numeric)))
          << name << ": input " << k << " element " << i;
    }
  }
}

}  // namespace lensflow::ad::testing
