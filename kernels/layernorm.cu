// kernels/layernorm.cu — CUDA layer norm: one warp per row (C is the channel count, <= a few
// hundred); gamma/beta gradients as per-row-chunk partial column sums, then a column reduction.
#include <algorithm>

#include "kernels/cuda_utils.cuh"
#include "kernels/layernorm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/warp_rows.cuh"

namespace lensflow::kernels {
namespace {

using cuda::kRowsPerBlock;
using cuda::warp_sum;

__global__ void ln_forward_kernel(const float* x, const float* gamma, const float* beta, float* y,
                                  float* mean, float* rstd, int64_t rows, int64_t C, float eps) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;  // whole warp exits together
  const float* xr = x + r * C;
  float s = 0.0f;
  for (int64_t c = lane; c < C; c += 32) s += xr[c];
  const float m = warp_sum(s) / float(C);
  float v = 0.0f;
  for (int64_t c = lane; c < C; c += 32) v += (xr[c] - m) * (xr[c] - m);
  const float rs = rsqrtf(warp_sum(v) / float(C) + eps);
  if (lane == 0) {
    mean[r] = m;
    rstd[r] = rs;
  }
  float* yr = y + r * C;
  for (int64_t c = lane; c < C; c += 32) yr[c] = (xr[c] - m) * rs * gamma[c] + beta[c];
}

__global__ void ln_backward_x_kernel(const float* x, const float* gamma, const float* mean,
                                     const float* rstd, const float* gy, float* gx, int64_t rows,
                                     int64_t C) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;
  const float* xr = x + r * C;
  const float* gr = gy + r * C;
  const float m = mean[r], rs = rstd[r];
  float a = 0.0f, b = 0.0f;
  for (int64_t c = lane; c < C; c += 32) {
    const float gh = gr[c] * gamma[c];
    a += gh;
    b += gh * (xr[c] - m) * rs;
  }
  a = warp_sum(a) / float(C);
  b = warp_sum(b) / float(C);
  float* out = gx + r * C;
  for (int64_t c = lane; c < C; c += 32)
    out[c] = rs * (gr[c] * gamma[c] - a - (xr[c] - m) * rs * b);
}

// Thread (column c, chunk blockIdx.y) sums gy*xhat and gy over its chunk of rows.
__global__ void ln_backward_params_kernel(const float* x, const float* mean, const float* rstd,
                                          const float* gy, float* pg, float* pb, int64_t rows,
                                          int64_t C, int64_t chunk) {
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int64_t r0 = int64_t(blockIdx.y) * chunk, r1 = min(rows, r0 + chunk);
  float sg = 0.0f, sb = 0.0f;
  for (int64_t r = r0; r < r1; ++r) {
    const float g = gy[r * C + c];
    sg += g * (x[r * C + c] - mean[r]) * rstd[r];
    sb += g;
  }
  pg[int64_t(blockIdx.y) * C + c] = sg;
  pb[int64_t(blockIdx.y) * C + c] = sb;
}

}  // namespace

void layernorm_forward_cuda(const float* x, const float* gamma, const float* beta, float* y,
                            float* mean, float* rstd, int64_t rows, int64_t C, double eps) {
  if (rows == 0) return;
  const unsigned blocks = unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  ln_forward_kernel<<<blocks, cuda::kThreads, 0, cuda::stream()>>>(x, gamma, beta, y, mean, rstd,
                                                                   rows, C, float(eps));
  LF_CUDA_LAUNCHED();
}

void layernorm_backward_cuda(const float* x, const float* gamma, const float* mean,
                             const float* rstd, const float* gy, float* gx, float* ggamma,
                             float* gbeta, int64_t rows, int64_t C) {
  if (C == 0) return;  // every output is empty
  if (rows == 0) {     // sums over no rows: zeros, as the CPU twin writes
    device_memset_zero(ggamma, size_t(C) * sizeof(float));
    device_memset_zero(gbeta, size_t(C) * sizeof(float));
    return;
  }
  const unsigned blocks = unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  ln_backward_x_kernel<<<blocks, cuda::kThreads, 0, cuda::stream()>>>(x, gamma, mean, rstd, gy, gx,
                                                                      rows, C);
  LF_CUDA_LAUNCHED();
  // About 64k threads in flight: chunks of rows so that chunks * C >= 65536.
  int64_t parts = std::max<int64_t>(1, std::min<int64_t>(rows, (65536 + C - 1) / C));
  parts = std::min<int64_t>(parts, 65535);
  const int64_t chunk = (rows + parts - 1) / parts;
  parts = (rows + chunk - 1) / chunk;
  cuda::Buffer<float> pg(parts * C), pb(parts * C);
  const dim3 grid(unsigned((C + cuda::kThreads - 1) / cuda::kThreads), unsigned(parts));
  ln_backward_params_kernel<<<grid, cuda::kThreads, 0, cuda::stream()>>>(
      x, mean, rstd, gy, pg.get(), pb.get(), rows, C, chunk);
  LF_CUDA_LAUNCHED();
  reduce_cuda(Reduce::Sum, pg.get(), ggamma, 1, parts, C);
  reduce_cuda(Reduce::Sum, pb.get(), gbeta, 1, parts, C);
}

}  // namespace lensflow::kernels
