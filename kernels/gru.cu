// kernels/gru.cu — CUDA fused GRU: the shared step loop (kernels/gru_cell.hpp) over cuBLAS GEMMs
// and one pointwise kernel per step; scratch buffers come from the device pool.
#include "kernels/cuda_utils.cuh"
#include "kernels/gemm.hpp"
#include "kernels/grid_loop.cuh"
#include "kernels/gru.hpp"
#include "kernels/gru_cell.hpp"
#include "kernels/reduce.hpp"

namespace lensflow::kernels {
namespace {

__global__ void bias_rows_kernel(const float* bias, float* y, int64_t rows, int64_t n) {
  LF_GRID_LOOP(e, rows * n) y[e] = bias[e % n];
}

__global__ void step_forward_kernel(GruDims d, int64_t t, const float* Xg, const float* Hg,
                                    const float* hp, int64_t ldh, float* out, float* gates) {
  const int64_t H = d.H, G = 3 * H;
  LF_GRID_LOOP(e, d.B * H) {
    const int64_t b = e / H, j = e % H, row = b * d.T + t;
    gru_cell_forward<float>(j, H, Xg + row * G, Hg + b * G, hp[b * ldh + j], out + row * H + j,
                            gates + row * 4 * H);
  }
}

__global__ void step_backward_kernel(GruDims d, int64_t t, const float* gout, float* gh,
                                     const float* gates, const float* hp, int64_t ldh, float* dXg,
                                     float* dHg) {
  const int64_t H = d.H, G = 3 * H;
  LF_GRID_LOOP(e, d.B * H) {
    const int64_t b = e / H, j = e % H, row = b * d.T + t;
    const float g = gh[e] + gout[row * H + j];
    gru_cell_backward<float>(j, H, g, hp[b * ldh + j], gates + row * 4 * H, dXg + row * G,
                             dHg + row * G, gh + e);
  }
}

// hp[b, 0] = h0[b] (or 0), hp[b, t] = out[b, t-1].
__global__ void shift_hidden_kernel(GruDims d, const float* h0, const float* out, float* hp) {
  const int64_t H = d.H;
  LF_GRID_LOOP(e, d.B * d.T * H) {
    const int64_t j = e % H, r = e / H, b = r / d.T, t = r % d.T;
    hp[e] = t == 0 ? (h0 ? h0[b * H + j] : 0.0f) : out[(b * d.T + t - 1) * H + j];
  }
}

struct CudaBackend {
  template <class T> static cuda::Buffer<T> buffer(int64_t n) { return cuda::Buffer<T>(n); }

  static void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    gemm_cuda(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  static void bias_rows(const float* bias, float* y, int64_t rows, int64_t n) {
    if (rows * n == 0) return;
    bias_rows_kernel<<<cuda::blocks_for(rows * n), cuda::kThreads, 0, cuda::stream()>>>(bias, y,
                                                                                         rows, n);
    LF_CUDA_LAUNCHED();
  }
  static void copy_or_zero(const float* src, float* dst, int64_t n) {
    if (src)
      copy_device_to_device(dst, src, size_t(n) * sizeof(float));
    else
      device_memset_zero(dst, size_t(n) * sizeof(float));
  }
  static void step_forward(const GruDims& d, int64_t t, const float* Xg, const float* Hg,
                           const float* hp, int64_t ldh, float* out, float* gates) {
    step_forward_kernel<<<cuda::blocks_for(d.B * d.H), cuda::kThreads, 0, cuda::stream()>>>(
        d, t, Xg, Hg, hp, ldh, out, gates);
    LF_CUDA_LAUNCHED();
  }
  static void step_backward(const GruDims& d, int64_t t, const float* gout, float* gh,
                            const float* gates, const float* hp, int64_t ldh, float* dXg,
                            float* dHg) {
    step_backward_kernel<<<cuda::blocks_for(d.B * d.H), cuda::kThreads, 0, cuda::stream()>>>(
        d, t, gout, gh, gates, hp, ldh, dXg, dHg);
    LF_CUDA_LAUNCHED();
  }
  static void shift_hidden(const GruDims& d, const float* h0, const float* out, float* hp) {
    shift_hidden_kernel<<<cuda::blocks_for(d.B * d.T * d.H), cuda::kThreads, 0,
                          cuda::stream()>>>(d, h0, out, hp);
    LF_CUDA_LAUNCHED();
  }
  static void sum_rows(const float* x, float* y, int64_t rows, int64_t n) {
    reduce_cuda(Reduce::Sum, x, y, 1, rows, n);
  }
};

}  // namespace

void gru_forward_cuda(const GruDims& d, const float* x, const float* h0, const float* W_ih,
                      const float* W_hh, const float* b_ih, const float* b_hh, float* out,
                      float* gates) {
  gru_forward_loop<CudaBackend, float>(d, x, h0, W_ih, W_hh, b_ih, b_hh, out, gates);
}

void gru_backward_cuda(const GruDims& d, const float* x, const float* h0, const float* W_ih,
                       const float* W_hh, const float* out, const float* gates, const float* gout,
                       float* gx, float* gh0, float* gW_ih, float* gW_hh, float* gb_ih,
                       float* gb_hh) {
  gru_backward_loop<CudaBackend, float>(d, x, h0, W_ih, W_hh, out, gates, gout, gx, gh0, gW_ih,
                                        gW_hh, gb_ih, gb_hh);
}

}  // namespace lensflow::kernels
