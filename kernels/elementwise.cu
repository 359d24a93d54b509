// kernels/elementwise.cu — CUDA elementwise kernels (grid-stride loops, float).
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
__global__ void binary_bcast_kernel(Binary op, const float* a, const float* b, float* y,
                                    BroadcastIndex ix, int64_t n) {
  LF_GRID_LOOP(i, n) {
    int64_t oa, ob;
    broadcast_offsets(ix, i, oa, ob);
    y[i] = binary_value<float>(op, a[oa], b[ob]);
  }
}
__global__ void strided_copy_kernel(const float* x, float* y, StridedIndex ix, int64_t n) {
  LF_GRID_LOOP(i, n) y[i] = x[strided_offset(ix, i)];
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
  if (same_shape)
    binary_same_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(op, a, b, y, n);
  else
    binary_bcast_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(op, a, b, y,
                                                                                    ix, n);
  LF_CUDA_LAUNCHED();
}
void strided_copy_cuda(const float* x, float* y, const StridedIndex& ix, int64_t n) {
  if (n == 0) return;
  strided_copy_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(x, y, ix, n);
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
