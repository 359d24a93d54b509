// kernels/elementwise.cu — CUDA elementwise kernels (grid-stride loops, float).
#include <algorithm>

#include "kernels/cuda_utils.cuh"
#include "kernels/elementwise.hpp"
#include "kernels/elementwise_math.hpp"
#include "kernels/grid_loop.cuh"

namespace lensflow::kernels {
namespace {

__global__ void unary_kernel(Unary op, const float* x, float* y, int64_t n, float a, float b) {
  LF_GRID_LOOP(i, n) y[i] = unary_value<float>(op, x[i], a, b);
}
__global__ void unary_backward_kernel(Unary op, const float* x, const float* y, const float* gy,
                                      float* gx, int64_t n, float a, float b) {
  LF_GRID_LOOP(i, n) gx[i] = unary_grad<float>(op, x[i], y[i], gy[i], a, b);
}
__global__ void binary_same_kernel(Binary op, const float* a, const float* b, float* y,
                                   int64_t n) {
  LF_GRID_LOOP(i, n) y[i] = binary_value<float>(op, a[i], b[i]);
}
// Flat index -> offsets, in index type I (32-bit when the tensors allow: kernels/grid_loop.cuh).
template <class I>
__device__ void broadcast_offsets_t(const BroadcastIndex& ix, I i, I& oa, I& ob) {
  oa = 0;
  ob = 0;
  for (int k = ix.ndim - 1; k >= 0; --k) {
    const I d = I(ix.shape[k]), q = i / d, c = i - q * d;
    i = q;
    oa += c * I(ix.a_stride[k]);
    ob += c * I(ix.b_stride[k]);
  }
}
template <class I>
__global__ void binary_bcast_kernel(Binary op, const float* a, const float* b, float* y,
                                    BroadcastIndex ix, I n) {
  LF_GRID_LOOP_T(I, i, n) {
    I oa, ob;
    broadcast_offsets_t(ix, i, oa, ob);
    y[i] = binary_value<float>(op, a[oa], b[ob]);
  }
}
template <class I>
__global__ void strided_copy_kernel(const float* x, float* y, StridedIndex ix, I n) {
  LF_GRID_LOOP_T(I, i, n) {
    I o = 0, r = i;
    for (int k = ix.ndim - 1; k >= 0; --k) {
      const I d = I(ix.shape[k]), q = r / d;
      o += (r - q * d) * I(ix.stride[k]);
      r = q;
    }
    y[i] = x[o];
  }
}

// 1 + the largest offset reached through (shape, stride): the extent an index type must cover.
int64_t extent(int ndim, const int64_t* shape, const int64_t* stride) {
  int64_t e = 1;
  for (int k = 0; k < ndim; ++k) e += (shape[k] - 1) * (stride[k] < 0 ? -stride[k] : stride[k]);
  return e;
}

__global__ void fill_kernel(float* y, int64_t n, float v) {
  LF_GRID_LOOP(i, n) y[i] = v;
}
__global__ void add_inplace_kernel(float* y, const float* x, int64_t n) {
  LF_GRID_LOOP(i, n) y[i] += x[i];
}

}  // namespace

void unary_cuda(Unary op, const float* x, float* y, int64_t n, double a, double b) {
  if (n == 0) return;
  unary_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(op, x, y, n, float(a),
                                                                           float(b));
  LF_CUDA_LAUNCHED();
}
void unary_backward_cuda(Unary op, const float* x, const float* y, const float* gy, float* gx,
                         int64_t n, double a, double b) {
  if (n == 0) return;
  unary_backward_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(
      op, x, y, gy, gx, n, float(a), float(b));
  LF_CUDA_LAUNCHED();
}
void binary_cuda(Binary op, const float* a, const float* b, float* y, const BroadcastIndex& ix,
                 int64_t n, bool same_shape) {
  if (n == 0) return;
  if (same_shape) {
    binary_same_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(op, a, b, y, n);
  } else {
    const int64_t largest = std::max({n, extent(ix.ndim, ix.shape, ix.a_stride),
                                      extent(ix.ndim, ix.shape, ix.b_stride)});
    cuda::with_index_type(largest, [&](auto tag) {
      using I = decltype(tag);
      binary_bcast_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(op, a, b, y,
                                                                                         ix, I(n));
    });
  }
  LF_CUDA_LAUNCHED();
}
void strided_copy_cuda(const float* x, float* y, const StridedIndex& ix, int64_t n) {
  if (n == 0) return;
  cuda::with_index_type(std::max(n, extent(ix.ndim, ix.shape, ix.stride)), [&](auto tag) {
    using I = decltype(tag);
    strided_copy_kernel<I><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(x, y, ix, I(n));
  });
  LF_CUDA_LAUNCHED();
}
void fill_cuda(float* y, int64_t n, double value) {
  if (n == 0) return;
  fill_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(y, n, float(value));
  LF_CUDA_LAUNCHED();
}
void add_inplace_cuda(float* y, const float* x, int64_t n) {
  if (n == 0) return;
  add_inplace_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(y, x, n);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
