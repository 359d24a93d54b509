// kernels/conv1d.cu — CUDA im2col / col2im for the channels-last convolution (one thread per
// element; consecutive threads walk channels, so reads and writes are coalesced). Index type I:
// 32-bit decoding when the tensors allow (kernels/grid_loop.cuh).
#include <algorithm>

#include "kernels/conv1d.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"

namespace lensflow::kernels {
namespace {

template <class I>
__global__ void im2col_kernel(const float* x, float* cols, I B, I L, I C, I K) {
  const I pad = (K - 1) / 2, KC = K * C, n = B * L * KC;
  LF_GRID_LOOP_T(I, e, n) {
    const I r = e / KC, kc = e - r * KC, k = kc / C, c = kc - k * C;
    const I b = r / L, l = r - b * L, src = l + k - pad;
    cols[e] = (src >= 0 && src < L) ? x[(b * L + src) * C + c] : 0.0f;
  }
}

template <class I>
__global__ void col2im_kernel(const float* gcols, float* gx, I B, I L, I C, I K) {
  const I pad = (K - 1) / 2, n = B * L * C;
  LF_GRID_LOOP_T(I, e, n) {
    const I r = e / C, c = e - r * C, b = r / L, l = r - b * L;
    float s = 0.0f;
    for (I k = 0; k < K; ++k) {
      const I dst = l - k + pad;
      if (dst >= 0 && dst < L) s += gcols[(b * L + dst) * K * C + k * C + c];
    }
    gx[e] = s;
  }
}

}  // namespace

void im2col_cuda(const float* x, float* cols, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t n = B * L * K * C;
  if (n == 0) return;
  cuda::with_index_type(std::max(n, B * L * C), [&](auto tag) {
    using I = decltype(tag);
    im2col_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(x, cols, I(B), I(L), I(C),
                                                                                I(K));
  });
  LF_CUDA_LAUNCHED();
}

void col2im_cuda(const float* gcols, float* gx, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t n = B * L * C;
  if (n == 0) return;
  cuda::with_index_type(std::max(n, B * L * K * C), [&](auto tag) {
    using I = decltype(tag);
    col2im_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(gcols, gx, I(B), I(L), I(C),
                                                                                I(K));
  });
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
