// kernels/warp_rows.cuh — the row-per-warp layout of the layer-norm style CUDA kernels (layer norm,
// the fused conv epilogue): rows per block of cuda::kThreads threads, and the sum over a warp's 32
// lanes (every lane gets the total).
#pragma once

#include "kernels/cuda_utils.cuh"

namespace lensflow::kernels::cuda {

constexpr int kRowsPerBlock = kThreads / 32;

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

}  // namespace lensflow::kernels::cuda
