// A tiny synthetic SampleSource for the pipeline tests: D = 2 standardized parameters
// θ ~ U(−√3, √3)² (the prior: NLL = 2·ln(2√3) ≈ 2.485 nats), and a light curve of L points
// x_l = θ0·cos(0.4 l) + 0.5·θ1·sin(0.4 l) + 0.1·ε_l, with ε ~ N(0, 1) keyed by (sample, epoch) only.
// θ of sample p is fixed (keyed by p and `salt`, so train and validation sets differ).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "pipeline/batch_loader.hpp"

namespace lensflow::testing {

class SyntheticSource : public pipeline::SampleSource {
 public:
  SyntheticSource(int64_t n, int64_t length, uint64_t salt) : n_(n), L_(length), salt_(salt) {}
  int64_t size() const override { return n_; }
  int64_t length() const override { return L_; }
  int64_t channels() const override { return 1; }
  int64_t dim() const override { return 2; }
  static double prior_nll() { return 2.0 * std::log(2.0 * std::sqrt(3.0)); }

  void theta_of(int64_t p, float* th) const {
    std::mt19937_64 g(salt_ * 1000003ull + uint64_t(p));
    std::uniform_real_distribution<double> u(-std::sqrt(3.0), std::sqrt(3.0));
    th[0] = float(u(g));
    th[1] = float(u(g));
  }
  void realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x, float* theta) const override {
    for (int64_t i = 0; i < n; ++i) {
      float* th = theta + 2 * i;
      theta_of(pos[i], th);
      std::mt19937_64 g((salt_ * 1000003ull + uint64_t(pos[i])) * 7919ull + epoch + 1);
      std::normal_distribution<double> eps(0.0, 1.0);
      for (int64_t l = 0; l < L_; ++l)
        x[i * L_ + l] = float(th[0] * std::cos(0.4 * l) + 0.5 * th[1] * std::sin(0.4 * l) + 0.1 * eps(g));
    }
  }

 private:
  int64_t n_, L_;
  uint64_t salt_;
};

}  // namespace lensflow::testing
