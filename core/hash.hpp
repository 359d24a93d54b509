// core/hash.hpp — the splitmix64 finalizer (Steele, Lea & Flood 2014) and the conversion of its
// 64-bit words to doubles: the one mixing step behind every seed derivation of lensflow (counter
// RNG keys, dataset splits, epoch orders, redraw rounds, importance resampling, MCMC streams).
#pragma once
#include <cstdint>

#include "core/hd.hpp"

namespace lensflow::core {

inline constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio

// One splitmix64 output for the state z: z + γ through the finalizer, a bijection of 64-bit words
// with full avalanche. Stream k of a seed is splitmix64(seed + k·γ).
LENSFLOW_HD std::uint64_t splitmix64(std::uint64_t z) {
  z += kGoldenGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The top 53 bits of a word as a double in [0, 1) (exact: every value is a multiple of 2^-53).
LENSFLOW_HD double unit_interval_closed_open(std::uint64_t bits) {
  return double(bits >> 11) * (1.0 / 9007199254740992.0);
}

// The same shifted by half a step: a double in the open interval (0, 1), never 0 or 1.
LENSFLOW_HD double unit_interval_open(std::uint64_t bits) {
  return (double(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace lensflow::core
