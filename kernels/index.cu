// kernels/index.cu — CUDA gathers, the gather-form sums that replace scatter-adds (no atomics:
// deterministic), and block copies along one axis. Index type I: 32-bit decoding when the tensors
// allow (kernels/grid_loop.cuh).
#include <algorithm>

#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"
#include "kernels/index.hpp"

namespace lensflow::kernels {
namespace {

// Flat index e of [outer, m, inner] -> (o, j, i), in index type I (32-bit when the tensors allow:
// kernels/grid_loop.cuh).
template <class I>
__device__ void decode(I e, I m, I inner, I& o, I& j, I& i) {
  const I r = e / inner;
  i = e - r * inner;
  o = r / m;
  j = r - o * m;
}

template <class I>
__global__ void gather_kernel(const float* x, float* y, const int64_t* idx, I outer, I n, I m,
                              I inner) {
  LF_GRID_LOOP_T(I, e, outer * m * inner) {
    I o, j, i;
    decode(e, m, inner, o, j, i);
    y[e] = x[(o * n + I(idx[j])) * inner + i];
  }
}
template <class I>
__global__ void gather_sum_kernel(const float* gy, float* gx, const int64_t* offsets,
                                  const int64_t* cols, I outer, I n, I m, I inner) {
  LF_GRID_LOOP_T(I, e, outer * n * inner) {
    I o, r, i;
    decode(e, n, inner, o, r, i);
    float s = 0.0f;
    for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k)
      s += gy[(o * m + I(cols[k])) * inner + i];
    gx[e] = s;
  }
}
template <class I>
__global__ void copy_block_kernel(const float* src, float* dst, I outer, I n_src, I n_dst, I inner,
                                  I src_off, I dst_off, I count) {
  LF_GRID_LOOP_T(I, e, outer * count * inner) {
    I o, j, i;
    decode(e, count, inner, o, j, i);
    dst[(o * n_dst + dst_off + j) * inner + i] = src[(o * n_src + src_off + j) * inner + i];
  }
}

}  // namespace

void gather_axis_cuda(const float* x, float* y, const int64_t* idx, int64_t outer, int64_t n,
                      int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  cuda::with_index_type(std::max(total, outer * n * inner), [&](auto tag) {
    using I = decltype(tag);
    gather_kernel<I><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        x, y, idx, I(outer), I(n), I(m), I(inner));
  });
  LF_CUDA_LAUNCHED();
}
void gather_sum_axis_cuda(const float* gy, float* gx, const int64_t* offsets, const int64_t* cols,
                          int64_t outer, int64_t n, int64_t m, int64_t inner) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  cuda::with_index_type(std::max(total, outer * m * inner), [&](auto tag) {
    using I = decltype(tag);
    gather_sum_kernel<I><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        gy, gx, offsets, cols, I(outer), I(n), I(m), I(inner));
  });
  LF_CUDA_LAUNCHED();
}
void copy_block_cuda(const float* src, float* dst, int64_t outer, int64_t n_src, int64_t n_dst,
                     int64_t inner, int64_t src_off, int64_t dst_off, int64_t count) {
  const int64_t total = outer * count * inner;
  if (total == 0) return;
  cuda::with_index_type(std::max({total, outer * n_src * inner, outer * n_dst * inner}), [&](auto tag) {
    using I = decltype(tag);
    copy_block_kernel<I><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        src, dst, I(outer), I(n_src), I(n_dst), I(inner), I(src_off), I(dst_off), I(count));
  });
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
