// kernels/rng_math.hpp — standard normal from one Philox counter (Box–Muller in double), shared by
// the CPU and CUDA twins.
#pragma once

#include <math.h>

#include "kernels/rng.hpp"

namespace lensflow::kernels {

LENSFLOW_HD double philox_normal(uint64_t ctr, uint64_t seed) {
  const Philox4 r = philox4x32(ctr, seed);
  // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
  const double u1 = (double(r.v[0]) + 1.0) * (1.0 / 4294967296.0);
  const double u2 = double(r.v[1]) * (1.0 / 4294967296.0);
  return ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586477 * u2);
}

}  // namespace lensflow::kernels
