// kernels/rng.cpp — CPU twin of the Philox draws, threaded over elements.
#include "kernels/rng.hpp"

#include "core/philox.hpp"
#include "core/thread_pool.hpp"

namespace lensflow::kernels {

using core::philox_normal;
using core::philox_uniform;
using core::philox_uniform_f;

template <class T> void rand_uniform_cpu(T* y, int64_t n, uint64_t seed, uint64_t offset) {
  core::parallel_for(n, 1 << 14, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      if constexpr (sizeof(T) == 4)
        y[i] = philox_uniform_f(offset + uint64_t(i), seed);
      else
        y[i] = T(philox_uniform(offset + uint64_t(i), seed));
    }
  });
}

template <class T> void rand_normal_cpu(T* y, int64_t n, uint64_t seed, uint64_t offset) {
  core::parallel_for(n, 1 << 14, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = T(philox_normal(offset + uint64_t(i), seed));
  });
}

template void rand_uniform_cpu<float>(float*, int64_t, uint64_t, uint64_t);
template void rand_uniform_cpu<double>(double*, int64_t, uint64_t, uint64_t);
template void rand_normal_cpu<float>(float*, int64_t, uint64_t, uint64_t);
template void rand_normal_cpu<double>(double*, int64_t, uint64_t, uint64_t);

}  // namespace lensflow::kernels
