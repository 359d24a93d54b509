// kernels/maxpool.cu — CUDA max-pool by 2 (same tie rule as the CPU twin: first of the pair).
// Index type I: 32-bit decoding when the tensors allow (kernels/grid_loop.cuh).
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"
#include "kernels/maxpool.hpp"

namespace lensflow::kernels {
namespace {

template <class I>
__global__ void maxpool_forward_kernel(const float* x, float* y, I B, I L, I C) {
  const I Lo = L / 2, n = B * Lo * C;
  LF_GRID_LOOP_T(I, e, n) {
    const I r = e / C, c = e - r * C, b = r / Lo, l = r - b * Lo;
    const float a = x[(b * L + 2 * l) * C + c], d = x[(b * L + 2 * l + 1) * C + c];
    y[e] = d > a ? d : a;
  }
}

template <class I>
__global__ void maxpool_backward_kernel(const float* x, const float* y, const float* gy, float* gx,
                                        I B, I L, I C) {
  const I Lo = L / 2, n = B * L * C;
  LF_GRID_LOOP_T(I, e, n) {
    const I r = e / C, c = e - r * C, b = r / L, l = r - b * L;
    if (l / 2 >= Lo) {
      gx[e] = 0.0f;
      continue;
    }
    const I o = (b * Lo + l / 2) * C + c;
    const float m = y[o], first = x[(b * L + (l & ~I(1))) * C + c];
    const bool wins = (l % 2 == 0) ? x[e] == m : (x[e] == m && first != m);
    gx[e] = wins ? gy[o] : 0.0f;
  }
}

}  // namespace

void maxpool2_forward_cuda(const float* x, float* y, int64_t B, int64_t L, int64_t C) {
  const int64_t n = B * (L / 2) * C;
  if (n == 0) return;
  cuda::with_index_type(B * L * C, [&](auto tag) {
    using I = decltype(tag);
    maxpool_forward_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(x, y, I(B), I(L),
                                                                                         I(C));
  });
  LF_CUDA_LAUNCHED();
}

void maxpool2_backward_cuda(const float* x, const float* y, const float* gy, float* gx, int64_t B,
                            int64_t L, int64_t C) {
  const int64_t n = B * L * C;
  if (n == 0) return;
  cuda::with_index_type(n, [&](auto tag) {
    using I = decltype(tag);
    maxpool_backward_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(
        x, y, gy, gx, I(B), I(L), I(C));
  });
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
