// kernels/rng.cu — CUDA Philox draws: element i from counter offset + i, as on the CPU.
#include "core/philox.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"
#include "kernels/rng.hpp"

namespace lensflow::kernels {
namespace {

using core::philox_normal;
using core::philox_uniform_f;

__global__ void uniform_kernel(float* y, int64_t n, uint64_t seed, uint64_t offset) {
  LF_GRID_LOOP(i, n) y[i] = philox_uniform_f(offset + uint64_t(i), seed);
}
__global__ void normal_kernel(float* y, int64_t n, uint64_t seed, uint64_t offset) {
  LF_GRID_LOOP(i, n) y[i] = float(philox_normal(offset + uint64_t(i), seed));
}

}  // namespace

void rand_uniform_cuda(float* y, int64_t n, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  uniform_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(y, n, seed, offset);
  LF_CUDA_LAUNCHED();
}
void rand_normal_cuda(float* y, int64_t n, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  normal_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(y, n, seed, offset);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
