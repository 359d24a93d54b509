// core/philox.hpp — counter-based Philox-4x32-10 random numbers (Salmon et al. 2011), the stream of
// the network's random tensors (kernels/rng.hpp, autodiff's Generator). Element i of a draw with
// (seed, offset) is a pure function of (seed, offset + i), so CPU and CUDA produce the same
// stream and any slice can be regenerated without replaying the others.
#pragma once

#include <math.h>

#include <cstdint>

#include "core/hd.hpp"

namespace lensflow::core {

struct Philox4 {
  uint32_t v[4];
};

// Philox-4x32 with 10 rounds on a full 128-bit counter and 64-bit key.
LENSFLOW_HD Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c.v[0];
    const uint64_t p1 = uint64_t(0xCD9E8D57u) * c.v[2];
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c.v[1] ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c.v[3] ^ k1;
    c.v[1] = uint32_t(p1);
    c.v[3] = uint32_t(p0);
    c.v[0] = n0;
    c.v[2] = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

// The stream used here: counter (ctr, 0), key = seed.
LENSFLOW_HD Philox4 philox4x32(uint64_t ctr, uint64_t seed) {
  return philox4x32_10(Philox4{{uint32_t(ctr), uint32_t(ctr >> 32), 0u, 0u}}, uint32_t(seed),
                       uint32_t(seed >> 32));
}

// U[0,1) with 53 random bits (exactly representable, identical on host and device).
LENSFLOW_HD double philox_uniform(uint64_t ctr, uint64_t seed) {
  const Philox4 r = philox4x32(ctr, seed);
  const uint64_t bits = (uint64_t(r.v[0]) << 21) ^ (uint64_t(r.v[1]) >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}
// U[0,1) for float: 24 bits, never rounds up to 1.
LENSFLOW_HD float philox_uniform_f(uint64_t ctr, uint64_t seed) {
  return float(philox4x32(ctr, seed).v[0] >> 8) * (1.0f / 16777216.0f);
}

// Standard normal from one counter (Box–Muller in double).
LENSFLOW_HD double philox_normal(uint64_t ctr, uint64_t seed) {
  const Philox4 r = philox4x32(ctr, seed);
  // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
  const double u1 = (double(r.v[0]) + 1.0) * (1.0 / 4294967296.0);
  const double u2 = double(r.v[1]) * (1.0 / 4294967296.0);
  return ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586477 * u2);
}

}  // namespace lensflow::core
