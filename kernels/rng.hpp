// kernels/rng.hpp — random tensors: element i of a draw with (seed, offset) is Philox number
// offset + i (core/philox.hpp), on the CPU and on CUDA alike.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

template <class T> void rand_uniform_cpu(T* y, int64_t n, uint64_t seed, uint64_t offset);
template <class T> void rand_normal_cpu(T* y, int64_t n, uint64_t seed, uint64_t offset);
void rand_uniform_cuda(float* y, int64_t n, uint64_t seed, uint64_t offset);
void rand_normal_cuda(float* y, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace lensflow::kernels
