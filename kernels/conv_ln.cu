// kernels/conv_ln.cu — CUDA fused convolution + layer norm + residual + ReLU: im2col and one
// cuBLAS GEMM for the convolution, then one warp per row for the epilogue (bias, norm, residual,
// ReLU); the backward runs the row-wise adjoint the same way, column sums for the bias, gamma and
// beta gradients, and two GEMMs (+ col2im) for the weight and input gradients.
#include "kernels/conv1d.hpp"
#include "kernels/conv_ln.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/gemm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/warp_rows.cuh"

namespace lensflow::kernels {
namespace {

using cuda::kRowsPerBlock;
using cuda::warp_sum;

// z: the bare convolution (gets the bias when there is a norm, else it is y).
__global__ void epilogue_kernel(float* z, const float* b, const float* gamma, const float* beta,
                                const float* res, bool relu, float eps, float* mean, float* rstd,
                                float* y, int64_t rows, int64_t C) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;  // whole warp exits together
  float* zr = z + r * C;
  float* yr = y + r * C;
  if (b)
    for (int64_t c = lane; c < C; c += 32) zr[c] += b[c];
  float m = 0.0f, rs = 0.0f;
  if (gamma) {
    __syncwarp();
    float s = 0.0f;
    for (int64_t c = lane; c < C; c += 32) s += zr[c];
    m = warp_sum(s) / float(C);
    float v = 0.0f;
    for (int64_t c = lane; c < C; c += 32) v += (zr[c] - m) * (zr[c] - m);
    rs = rsqrtf(warp_sum(v) / float(C) + eps);
    if (lane == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
  }
  for (int64_t c = lane; c < C; c += 32) {
    float v = gamma ? (zr[c] - m) * rs * gamma[c] + beta[c] : zr[c];
    if (res) v += res[r * C + c];
    yr[c] = relu && !(v > 0.0f) ? 0.0f : v;  // NaN -> 0, as the CPU twin
  }
}

// gpre = gy through the ReLU mask (also the residual's gradient); gz = the norm's adjoint of it;
// gx_hat = gpre * xhat (summed into the gamma gradient).
__global__ void prologue_kernel(const float* gy, const float* y, const float* z, const float* mean,
                                const float* rstd, const float* gamma, bool relu, float* gpre,
                                float* gz, float* gxhat, int64_t rows, int64_t C) {
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;
  const int64_t o = r * C;
  for (int64_t c = lane; c < C; c += 32) {
    const float g = gy[o + c];
    gpre[o + c] = relu && !(y[o + c] > 0.0f) ? 0.0f : g;
  }
  if (!gamma) return;  // gz is gpre (the caller passes the same buffer)
  __syncwarp();
  const float m = mean[r], rs = rstd[r];
  float a = 0.0f, s = 0.0f;
  for (int64_t c = lane; c < C; c += 32) {
    const float gh = gpre[o + c] * gamma[c];
    a += gh;
    s += gh * (z[o + c] - m) * rs;
  }
  a = warp_sum(a) / float(C);
  s = warp_sum(s) / float(C);
  for (int64_t c = lane; c < C; c += 32) {
    const float xh = (z[o + c] - m) * rs, g = gpre[o + c];
    gxhat[o + c] = g * xh;
    gz[o + c] = rs * (g * gamma[c] - a - xh * s);
  }
}

}  // namespace

void conv_ln_forward_cuda(const ConvLnDims& d, const float* x, const float* w, const float* b,
                          const float* gamma, const float* beta, const float* res, bool relu,
                          double eps, float* z, float* mean, float* rstd, float* y) {
  const int64_t rows = d.B * d.L, KC = d.K * d.Cin;
  if (rows == 0) return;
  float* conv_out = gamma ? z : y;
  if (d.K == 1) {
    gemm_cuda(false, false, rows, d.Cout, KC, 1.0f, x, KC, w, d.Cout, 0.0f, conv_out, d.Cout);
  } else {
    cuda::Buffer<float> cols(rows * KC);
    im2col_cuda(x, cols.get(), d.B, d.L, d.Cin, d.K);
    gemm_cuda(false, false, rows, d.Cout, KC, 1.0f, cols.get(), KC, w, d.Cout, 0.0f, conv_out,
              d.Cout);
  }
  const unsigned blocks = unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  epilogue_kernel<<<blocks, cuda::kThreads, 0, cuda::stream()>>>(
      conv_out, b, gamma, beta, res, relu, float(eps), mean, rstd, y, rows, d.Cout);
  LF_CUDA_LAUNCHED();
}

void conv_ln_backward_cuda(const ConvLnDims& d, const float* x, const float* w, const float* gamma,
                           const float* z, const float* mean, const float* rstd, const float* y,
                           const float* gy, bool relu, float* gx, float* gw, float* gb,
                           float* ggamma, float* gbeta, float* gres) {
  const int64_t rows = d.B * d.L, KC = d.K * d.Cin, C = d.Cout, n = rows * C;
  if (rows == 0) {
    if (gw) LF_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * size_t(KC * C), cuda::stream()));
    for (float* p : {gb, gamma ? ggamma : nullptr, gamma ? gbeta : nullptr})
      if (p) LF_CUDA_CHECK(cudaMemsetAsync(p, 0, sizeof(float) * size_t(C), cuda::stream()));
    return;
  }
  cuda::Buffer<float> pre_buf(gres ? 1 : n), gz_buf(gamma ? n : 1), gxhat(gamma ? n : 1);
  float* gpre = gres ? gres : pre_buf.get();
  float* gz = gamma ? gz_buf.get() : gpre;
  const unsigned blocks = unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  prologue_kernel<<<blocks, cuda::kThreads, 0, cuda::stream()>>>(gy, y, z, mean, rstd, gamma, relu,
                                                                 gpre, gz, gxhat.get(), rows, C);
  LF_CUDA_LAUNCHED();
  if (gb) reduce_cuda(Reduce::Sum, gz, gb, 1, rows, C);
  if (gamma && gbeta) reduce_cuda(Reduce::Sum, gpre, gbeta, 1, rows, C);
  if (gamma && ggamma) reduce_cuda(Reduce::Sum, gxhat.get(), ggamma, 1, rows, C);
  if (gw) {
    if (d.K == 1) {
      gemm_cuda(true, false, KC, C, rows, 1.0f, x, KC, gz, C, 0.0f, gw, C);
    } else {
      cuda::Buffer<float> cols(rows * KC);
      im2col_cuda(x, cols.get(), d.B, d.L, d.Cin, d.K);
      gemm_cuda(true, false, KC, C, rows, 1.0f, cols.get(), KC, gz, C, 0.0f, gw, C);
    }
  }
  if (gx) {
    if (d.K == 1) {
      gemm_cuda(false, true, rows, d.Cin, C, 1.0f, gz, C, w, C, 0.0f, gx, d.Cin);
    } else {
      cuda::Buffer<float> gcols(rows * KC);
      gemm_cuda(false, true, rows, KC, C, 1.0f, gz, C, w, C, 0.0f, gcols.get(), KC);
      col2im_cuda(gcols.get(), gx, d.B, d.L, d.Cin, d.K);
    }
  }
}

}  // namespace lensflow::kernels
