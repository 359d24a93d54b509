// core/xoshiro.hpp — xoshiro256** (Blackman & Vigna 2018), a sequential generator with a fully
// specified stream, identical on every platform (the ensemble MCMC's proposals), seeded by four
// splitmix64 outputs of the seed (core/hash.hpp).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/hash.hpp"

namespace lensflow::core {

class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& v : s_) {
      v = splitmix64(seed);
      seed += kGoldenGamma;
    }
  }
  std::uint64_t next() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return unit_interval_closed_open(next()); }  // [0, 1)
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)); }
  double normal() {  // Box–Muller, one value per call
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace lensflow::core
