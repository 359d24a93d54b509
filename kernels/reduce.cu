// kernels/reduce.cu — CUDA axis reductions and softmax over [outer, n, inner].
// inner == 1: one block per row, a block-wide tree reduction. inner > 1: one thread per
// (outer, inner) column (coalesced across inner); for sums with few columns and a long axis the
// axis is split over blockIdx.y into partial sums that a second pass adds (fixed order:
// deterministic).
#include <cfloat>

#include <algorithm>

#include "kernels/cuda_utils.cuh"
#include "kernels/elementwise.hpp"
#include "kernels/reduce.hpp"

namespace lensflow::kernels {
namespace {

__device__ float combine(Reduce op, float a, float b) {
  return op == Reduce::Sum ? a + b : fmaxf(a, b);
}

// What a first pass reads of x: its square for SumSquares (rounded on its own, as square()).
__device__ float load(Reduce op, float x) { return op == Reduce::SumSquares ? __fmul_rn(x, x) : x; }
// The combining operation of the first pass (SumSquares sums the squares).
__host__ __device__ Reduce combiner(Reduce op) {
  return op == Reduce::Max || op == Reduce::LogSumExp ? Reduce::Max : Reduce::Sum;
}

// Block-wide reduction of one value per thread (blockDim.x == kThreads); result to all threads.
__device__ float block_reduce(Reduce op, float v) {
  __shared__ float buf[cuda::kThreads];
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] = combine(op, buf[threadIdx.x], buf[threadIdx.x + s]);
    __syncthreads();
  }
  const float r = buf[0];
  __syncthreads();
  return r;
}

__global__ void reduce_rows_kernel(Reduce op, const float* x, float* y, int64_t n) {
  const float* row = x + int64_t(blockIdx.x) * n;
  const Reduce first = combiner(op);
  float acc = first == Reduce::Sum ? 0.0f : -INFINITY;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) acc = combine(first, acc, load(op, row[j]));
  const float m = block_reduce(first, acc);
  if (op != Reduce::LogSumExp) {
    if (threadIdx.x == 0) y[blockIdx.x] = m;
    return;
  }
  if (isinf(m)) {
    if (threadIdx.x == 0) y[blockIdx.x] = m;
    return;
  }
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += expf(row[j] - m);
  s = block_reduce(Reduce::Sum, s);
  if (threadIdx.x == 0) y[blockIdx.x] = m + logf(s);
}

// Sum or max of chunk blockIdx.x of row blockIdx.y: partial[row * gridDim.x + chunk].
__global__ void reduce_row_chunks_kernel(Reduce op, const float* x, float* partial, int64_t n,
                                         int64_t chunk) {
  const float* row = x + int64_t(blockIdx.y) * n;
  const int64_t j0 = int64_t(blockIdx.x) * chunk, j1 = min(n, j0 + chunk);
  const Reduce c = combiner(op);
  float acc = c == Reduce::Sum ? 0.0f : -INFINITY;
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) acc = combine(c, acc, load(op, row[j]));
  acc = block_reduce(c, acc);
  if (threadIdx.x == 0) partial[int64_t(blockIdx.y) * gridDim.x + blockIdx.x] = acc;
}

// Column reduction over j in [j0, j1) for column k = o*inner + i; writes y[part*cols + k].
__global__ void reduce_cols_kernel(Reduce op, const float* x, float* y, int64_t outer, int64_t n,
                                   int64_t inner, int64_t chunk) {
  const int64_t cols = outer * inner;
  const int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= cols) return;
  const int64_t o = k / inner, i = k % inner;
  const int64_t j0 = int64_t(blockIdx.y) * chunk, j1 = min(n, j0 + chunk);
  const float* p = x + o * n * inner + i;
  if (op == Reduce::Sum || op == Reduce::SumSquares) {
    float s = 0.0f;
    for (int64_t j = j0; j < j1; ++j) s = __fadd_rn(s, load(op, p[j * inner]));
    y[int64_t(blockIdx.y) * cols + k] = s;
    return;
  }
  float m = -INFINITY;
  for (int64_t j = j0; j < j1; ++j) m = fmaxf(m, p[j * inner]);
  if (op == Reduce::Max || isinf(m)) {
    y[k] = m;
    return;
  }
  float s = 0.0f;
  for (int64_t j = j0; j < j1; ++j) s += expf(p[j * inner] - m);
  y[k] = m + logf(s);
}

__global__ void softmax_kernel(bool log, const float* x, float* y, int64_t outer, int64_t n,
                               int64_t inner) {
  const int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= outer * inner) return;
  const int64_t base = (k / inner) * n * inner + k % inner;
  float m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = fmaxf(m, x[base + j * inner]);
  float s = 0.0f;
  for (int64_t j = 0; j < n; ++j) s += expf(x[base + j * inner] - m);
  const float lse = m + logf(s);
  for (int64_t j = 0; j < n; ++j) {
    const float v = x[base + j * inner] - lse;
    y[base + j * inner] = log ? v : expf(v);
  }
}

__global__ void softmax_backward_kernel(bool log, const float* y, const float* gy, float* gx,
                                        int64_t outer, int64_t n, int64_t inner) {
  const int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= outer * inner) return;
  const int64_t base = (k / inner) * n * inner + k % inner;
  float dot = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t t = base + j * inner;
    dot += log ? gy[t] : gy[t] * y[t];
  }
  for (int64_t j = 0; j < n; ++j) {
    const int64_t t = base + j * inner;
    gx[t] = log ? gy[t] - expf(y[t]) * dot : y[t] * (gy[t] - dot);
  }
}

unsigned col_blocks(int64_t cols) { return unsigned((cols + cuda::kThreads - 1) / cuda::kThreads); }

}  // namespace

void reduce_cuda(Reduce op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  const int64_t cols = outer * inner;
  if (cols == 0) return;
  if (n == 0) {  // empty reduction: sum 0, max/lse -inf
    const float v = combiner(op) == Reduce::Sum ? 0.0f : -INFINITY;
    fill_cuda(y, cols, v);
    return;
  }
  if (inner == 1 && op != Reduce::LogSumExp && cols <= 65535 && n >= 65536 && cols < 1024) {
    // Few long rows: many blocks per row, then one block per row over the partials.
    int64_t parts = std::min<int64_t>(1024, n / 8192);
    const int64_t chunk = (n + parts - 1) / parts;
    parts = (n + chunk - 1) / chunk;
    cuda::Buffer<float> partial(cols * parts);
    reduce_row_chunks_kernel<<<dim3(unsigned(parts), unsigned(cols)), cuda::kThreads, 0,
                               cuda::stream()>>>(op, x, partial.get(), n, chunk);
    LF_CUDA_LAUNCHED();
    // The partials are sums (of squares, for SumSquares): the second pass adds them.
    const Reduce second = op == Reduce::SumSquares ? Reduce::Sum : op;
    reduce_rows_kernel<<<unsigned(cols), cuda::kThreads, 0, cuda::stream()>>>(second, partial.get(),
                                                                              y, parts);
    LF_CUDA_LAUNCHED();
    return;
  }
  if (inner == 1 && cols <= 65535 * 16) {
    reduce_rows_kernel<<<unsigned(cols), cuda::kThreads, 0, cuda::stream()>>>(op, x, y, n);
    LF_CUDA_LAUNCHED();
    return;
  }
  // Split the axis when the columns alone would leave the GPU mostly idle.
  int64_t parts = 1;
  if (combiner(op) == Reduce::Sum && cols < 65536 && n >= 1024)
    parts = std::min<int64_t>(std::min<int64_t>(n / 256, 65535), (65536 + cols - 1) / cols);
  const int64_t chunk = (n + parts - 1) / parts;
  parts = (n + chunk - 1) / chunk;
  if (parts == 1) {
    reduce_cols_kernel<<<col_blocks(cols), cuda::kThreads, 0, cuda::stream()>>>(op, x, y, outer, n,
                                                                                inner, n);
    LF_CUDA_LAUNCHED();
    return;
  }
  cuda::Buffer<float> partial(parts * cols);
  reduce_cols_kernel<<<dim3(col_blocks(cols), unsigned(parts)), cuda::kThreads, 0,
                       cuda::stream()>>>(op, x, partial.get(), outer, n, inner, chunk);
  LF_CUDA_LAUNCHED();
  // partial is [parts, cols]: a column sum with outer = 1, n = parts, inner = cols.
  reduce_cols_kernel<<<col_blocks(cols), cuda::kThreads, 0, cuda::stream()>>>(
      Reduce::Sum, partial.get(), y, 1, parts, cols, parts);
  LF_CUDA_LAUNCHED();
}

void softmax_cuda(bool log, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  const int64_t cols = outer * inner;
  if (cols == 0 || n == 0) return;
  softmax_kernel<<<col_blocks(cols), cuda::kThreads, 0, cuda::stream()>>>(log, x, y, outer, n,
                                                                         inner);
  LF_CUDA_LAUNCHED();
}

void softmax_backward_cuda(bool log, const float* y, const float* gy, float* gx, int64_t outer,
                           int64_t n, int64_t inner) {
  const int64_t cols = outer * inner;
  if (cols == 0 || n == 0) return;
  softmax_backward_kernel<<<col_blocks(cols), cuda::kThreads, 0, cuda::stream()>>>(
      log, y, gy, gx, outer, n, inner);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
