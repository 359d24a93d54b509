// kernels/conv1d.cu — CUDA im2col / col2im for the channels-last convolution (one thread per
// element; consecutive threads walk channels, so reads and writes are coalesced).
#include "kernels/conv1d.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"

namespace lensflow::kernels {
namespace {

__global__ void im2col_kernel(const float* x, float* cols, int64_t B, int64_t L, int64_t C,
                              int64_t K) {
  const int64_t pad = (K - 1) / 2, KC = K * C, n = B * L * KC;
  LF_GRID_LOOP(e, n) {
    const int64_t r = e / KC, kc = e % KC, k = kc / C, c = kc % C;
    const int64_t b = r / L, l = r % L, src = l + k - pad;
    cols[e] = (src >= 0 && src < L) ? x[(b * L + src) * C + c] : 0.0f;
  }
}

__global__ void col2im_kernel(const float* gcols, float* gx, int64_t B, int64_t L, int64_t C,
                              int64_t K) {
  const int64_t pad = (K - 1) / 2, n = B * L * C;
  LF_GRID_LOOP(e, n) {
    const int64_t r = e / C, c = e % C, b = r / L, l = r % L;
    float s = 0.0f;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t dst = l - k + pad;
      if (dst >= 0 && dst < L) s += gcols[(b * L + dst) * K * C + k * C + c];
    }
    gx[e] = s;
  }
}

}  // namespace

void im2col_cuda(const float* x, float* cols, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t n = B * L * K * C;
  if (n == 0) return;
  im2col_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(x, cols, B, L, C, K);
  LF_CUDA_LAUNCHED();
}

void col2im_cuda(const float* gcols, float* gx, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t n = B * L * C;
  if (n == 0) return;
  col2im_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(gcols, gx, B, L, C, K);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
