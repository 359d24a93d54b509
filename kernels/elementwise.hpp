// kernels/elementwise.hpp — elementwise maps, broadcasting binaries, fills, casts, strided copies.
// CPU twins are templates (float, double), multithreaded; CUDA versions are float only and queue on
// the context stream (kernels/device.hpp).
#pragma once

#include <cstdint>

namespace lensflow::kernels {

// y = f(x; a, b). Scalars a, b: Clamp uses [a, b]; the *Scalar ops use a.
enum class Unary {
  Neg, Exp, Log, Sqrt, Square, Relu, Tanh, Sigmoid, Softplus, Clamp,
  AddScalar, MulScalar, RSubScalar, RDivScalar
};
enum class Binary { Add, Sub, Mul, Div };

// Up to 8 dims. For an output index (i_0..i_{n-1}) over `shape`, the source element is
// sum_k i_k * stride[k] (stride 0 = broadcast along k; permuted strides = transpose).
constexpr int kMaxDims = 8;
struct StridedIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride[kMaxDims] = {};
};
// a and b strides for a broadcasting binary op over shape.
struct BroadcastIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t a_stride[kMaxDims] = {};
  int64_t b_stride[kMaxDims] = {};
};

template <class T> void unary_cpu(Unary op, const T* x, T* y, int64_t n, double a, double b);
// gx = gy * f'(x) (y = f(x) is passed so that exp/tanh/sigmoid/sqrt reuse it).
template <class T>
void unary_backward_cpu(Unary op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a,
                        double b);
// n = number of output elements; same_shape lets the common case skip index arithmetic.
template <class T>
void binary_cpu(Binary op, const T* a, const T* b, T* y, const BroadcastIndex& ix, int64_t n,
                bool same_shape);
template <class T> void strided_copy_cpu(const T* x, T* y, const StridedIndex& ix, int64_t n);
template <class T> void fill_cpu(T* y, int64_t n, double value);
void cast_cpu(const float* x, double* y, int64_t n);
void cast_cpu(const double* x, float* y, int64_t n);
template <class T> void add_inplace_cpu(T* y, const T* x, int64_t n);  // y += x

void unary_cuda(Unary op, const float* x, float* y, int64_t n, double a, double b);
void unary_backward_cuda(Unary op, const float* x, const float* y, const float* gy, float* gx,
                         int64_t n, double a, double b);
void binary_cuda(Binary op, const float* a, const float* b, float* y, const BroadcastIndex& ix,
                 int64_t n, bool same_shape);
void strided_copy_cuda(const float* x, float* y, const StridedIndex& ix, int64_t n);
void fill_cuda(float* y, int64_t n, double value);
void add_inplace_cuda(float* y, const float* x, int64_t n);

}  // namespace lensflow::kernels
