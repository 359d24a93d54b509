// autodiff/dispatch.hpp — choosing the CPU template or the CUDA kernel for an op (internal; the
// one place the choice is written), and the argument checks shared by the ops.
#pragma once

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "autodiff/tensor.hpp"

namespace lensflow::ad {

// Calls f(float{}) or f(double{}) for the dtype of a CPU tensor.
template <class F> void dispatch_cpu(DType t, F&& f) {
  if (t == DType::F32)
    f(float{});
  else
    f(double{});
}

// Runs f() in a build with CUDA. A build without CUDA has no CUDA tensor, so reaching this there is
// a logic error; f (which calls the *_cuda kernels, not compiled in that build) is never called.
template <class F> void cuda_only(F&& f) {
#if LENSFLOW_HAVE_CUDA
  f();
#else
  (void)f;
  throw std::logic_error("lensflow was built without CUDA");
#endif
}

// The backend choice of an op: cuda() for a tensor on the GPU (float32 there), cpu(T{}) with T the
// dtype (float or double) of one on the host.
template <class Cuda, class Cpu> void on_device(const Tensor& like, Cuda&& cuda, Cpu&& cpu) {
  if (like.device() == Device::CUDA)
    cuda_only(cuda);
  else
    dispatch_cpu(like.dtype(), cpu);
}

// Throws std::invalid_argument naming the op unless every tensor is defined and all share the
// device and dtype of the first.
void check_same(const char* op, std::initializer_list<const Tensor*> ts);
// "op: <what> (shapes [..], [..])"
[[noreturn]] void shape_error(const char* op, const std::string& what,
                              std::initializer_list<const Tensor*> ts);
int normalize_axis(const char* op, int axis, int ndim);

// Data pointers of optional tensors: nullptr for an undefined one.
inline const float* fptr(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
inline float* fptr(Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
template <class T> const T* tptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <class T> T* tptr(Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

}  // namespace lensflow::ad

namespace lensflow::ad {

// Broadcasting helpers (autodiff/ops_elementwise.cpp), differentiable.
Shape broadcast_shapes(const char* op, const Tensor& a, const Tensor& b);
Tensor expand(const Tensor& a, const Shape& shape);  // broadcast a to shape (copies)
Tensor sum_to(const Tensor& g, const Shape& shape);  // sums g over broadcast dims down to shape

// Row-major GEMM on the tensors' device: C = op(A) op(B) (+ C when accumulate), matrices given by
// raw pointers into the tensors' storage (autodiff/ops_linalg.cpp).
void gemm_on(const Tensor& like, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
             const void* A, int64_t lda, const void* B, int64_t ldb, bool accumulate, void* C,
             int64_t ldc);

// Product of dims [from, to) of a shape.
int64_t prod(const Shape& s, int from, int to);

}  // namespace lensflow::ad
