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

// The finite-difference core shared with tests/nn/module_gradcheck.hpp: compares `analytic`
// (the gradient of loss() with respect to the F64 CPU tensor t) with central differences of step
// h at elements 0, stride, 2·stride, ... Tolerance: |analytic - numeric| <= tol * (1 + |numeric|).
// where(i) names element i in a failure message. Call it under ASSERT_NO_FATAL_FAILURE.
inline void check_elements(Tensor& t, const std::vector<double>& analytic, const std::function<double()>& loss,
                           int64_t stride, double h, double tol, const std::function<std::string(int64_t)>& where) {
  double* x = t.data<double>();
  for (int64_t i = 0; i < t.numel(); i += stride) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double lp = loss();
    x[i] = x0 - h;
    const double lm = loss();
    x[i] = x0;
    const double numeric = (lp - lm) / (2 * h);
    ASSERT_NEAR(analytic[size_t(i)], numeric, tol * (1 + std::fabs(numeric))) << where(i);
  }
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
    ASSERT_NO_FATAL_FAILURE(check_elements(t, t.grad().to_f64(), loss_value, 1, h, tol, [&](int64_t i) {
      return name + ": input " + std::to_string(k) + " element " + std::to_string(i);
    }));
  }
}

}  // namespace lensflow::ad::testing
