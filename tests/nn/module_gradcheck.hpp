// tests/nn/module_gradcheck.hpp — finite-difference checks (float64, CPU) of a module's gradients
// with respect to its parameters and inputs. The checked scalar is L = sum(out * R) with a fixed
// random R, so every output element contributes with its own weight.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/ops.hpp"
#include "nn/module.hpp"
#include "tests/autodiff/gradcheck.hpp"

namespace lensflow::nn::testing {

// An F64 CPU leaf with values uniform in [lo, hi).
inline ad::Tensor f64_leaf(const ad::Shape& shape, ad::Generator& gen, double lo = -1, double hi = 1) {
  std::vector<double> v(static_cast<size_t>(ad::shape_numel(shape)));
  for (auto& x : v) x = lo + (hi - lo) * gen.uniform();
  ad::Tensor t = ad::Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

// Checks up to `per_tensor` evenly spread elements of every tensor in `wrt` (all when smaller),
// with the central-difference core of tests/autodiff/gradcheck.hpp.
// Tolerance |analytic - numeric| <= tol * (1 + |numeric|).
inline void check_gradients(const std::string& what, const std::function<ad::Tensor()>& f,
                            const NamedTensors& wrt, int64_t per_tensor = 24, double h = 1e-6,
                            double tol = 1e-6) {
  ad::Generator gen(777);
  ad::Tensor out;
  {
    ad::NoGradGuard ng;
    out = f();
  }
  ASSERT_EQ(out.dtype(), ad::DType::F64) << what << ": convert the module with to(F64)";
  std::vector<double> r(static_cast<size_t>(out.numel()));
  for (auto& x : r) x = 0.5 + gen.uniform();
  const ad::Tensor R = ad::Tensor::from_vector(r, out.shape());
  auto value = [&] {
    ad::NoGradGuard ng;
    return ad::sum(f() * R).item();
  };
  for (auto [name, t] : wrt) t.zero_grad();
  ad::backward(ad::sum(f() * R));
  for (auto [name, t] : wrt) {
    ASSERT_TRUE(t.grad().defined()) << what << ": no gradient reached " << name;
    const int64_t stride = std::max<int64_t>(1, t.numel() / per_tensor);
    const std::string label = what + ": d/d " + name + "[";  // (structured bindings cannot be captured in C++17)
    ASSERT_NO_FATAL_FAILURE(ad::testing::check_elements(t, t.grad().to_f64(), value, stride, h, tol, [&](int64_t i) {
      return label + std::to_string(i) + "]";
    }));
  }
}

// Gives every F64 parameter entry that is exactly zero (biases at initialisation) a small random
// value: with zero biases a ReLU unit whose inputs are all inactive sits exactly on its kink,
// where finite differences are meaningless.
inline void jitter_zero_params(const Module& m, ad::Generator& gen, double scale = 0.1) {
  for (auto [name, t] : m.named_parameters()) {
    double* x = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (x[i] == 0.0) x[i] = scale * (2 * gen.uniform() - 1);
  }
}

// The module's parameters plus named extra inputs.
inline NamedTensors params_and(const Module& m, const NamedTensors& inputs) {
  NamedTensors all = m.named_parameters();
  all.insert(all.end(), inputs.begin(), inputs.end());
  return all;
}

}  // namespace lensflow::nn::testing
