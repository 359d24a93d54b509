// kernels/index.cu — CUDA gathers, scatter-adds (atomicAdd: repeated indices add up) and block
// copies along one axis.
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"
#include "kernels/index.hpp"

namespace lensflow::kernels {
namespace {

__global__ void gather_kernel(const float* x, float* y, const int64_t* idx, int64_t outer,
                              int64_t n, int64_t m, int64_t inner) {
  LF_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, r = e / inner, j = r % m, o = r / m;
    y[e] = x[(o * n + idx[j]) * inner + i];
  }
}
__global__ void scatter_add_kernel(const float* gy, float* gx, const int64_t* idx, int64_t outer,
                                   int64_t n, int64_t m, int64_t inner) {
  LF_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, r = e / inner, j = r % m, o = r / m;
    atomicAdd(gx + (o * n + idx[j]) * inner + i, gy[e]);
  }
}
__global__ void copy_block_kernel(const float* src, float* dst, int64_t outer, int64_t n_src,
                                  int64_t n_dst, int64_t inner, int64_t src_off, int64_t dst_off,
                                  int64_t count) {
  LF_GRID_LOOP(e, outer * count * inner) {
    const int64_t i = e % inner, r = e / inner, j = r % count, o = r / count;
    dst[(o * n_dst + dst_off + j) * inner + i] = src[(o * n_src + src_off + j) * inner + i];
  }
}

}  // namespace

void gather_axis_cuda(const float* x, float* y, const int64_t* idx, int64_t outer, int64_t n,
                      int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  gather_kernel<<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(x, y, idx, outer, n,
                                                                               m, inner);
  LF_CUDA_LAUNCHED();
}
void scatter_add_axis_cuda(const float* gy, float* gx, const int64_t* idx, int64_t outer,
                           int64_t n, int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  scatter_add_kernel<<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
      gy, gx, idx, outer, n, m, inner);
  LF_CUDA_LAUNCHED();
}
void copy_block_cuda(const float* src, float* dst, int64_t outer, int64_t n_src, int64_t n_dst,
                     int64_t inner, int64_t src_off, int64_t dst_off, int64_t count) {
  const int64_t total = outer * count * inner;
  if (total == 0) return;
  copy_block_kernel<<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
      src, dst, outer, n_src, n_dst, inner, src_off, dst_off, count);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
