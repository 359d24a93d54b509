// kernels/grid_loop.cuh — the grid-stride loops used by the elementwise-style CUDA kernels.
#pragma once

#include <cstdint>

#define LF_GRID_LOOP(i, n)                                                                \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);               \
       i += int64_t(blockDim.x) * gridDim.x)

// The same with index type I. Kernels that decode a flat index into coordinates (div/mod per
// element) are instantiated for int32_t and int64_t: 64-bit division is a long emulated sequence
// on the GPU, 32-bit division a few instructions.
#define LF_GRID_LOOP_T(I, i, n)                                                           \
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < I(n);                    \
       i += I(blockDim.x) * I(gridDim.x))

namespace lensflow::kernels::cuda {

// 32-bit indices when every element count and offset a kernel touches is below 2^30: then
// i + grid stride (< 2^27, blocks_for's cap) cannot overflow int32_t either.
constexpr int64_t kMaxIndex32 = int64_t(1) << 30;

// Calls f(int32_t{}) when `largest` (the largest element count or offset + 1 in play) allows
// 32-bit indices, else f(int64_t{}).
template <class F>
void with_index_type(int64_t largest, F&& f) {
  if (largest <= kMaxIndex32)
    f(int32_t{});
  else
    f(int64_t{});
}

}  // namespace lensflow::kernels::cuda
