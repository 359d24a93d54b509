// kernels/cuda_utils.cuh — CUDA internals shared by the .cu files: the cuBLAS check, the context
// stream and cuBLAS handle, launch sizes, pool-backed scratch buffers.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/cuda_check.hpp"
#include "kernels/device.hpp"

namespace lensflow::kernels::cuda {

[[noreturn]] void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line);

#define LF_CUBLAS_CHECK(expr)                                                            \
  do {                                                                                   \
    const cublasStatus_t lf_st = (expr);                                                 \
    if (lf_st != CUBLAS_STATUS_SUCCESS)                                                  \
      ::lensflow::kernels::cuda::throw_cublas(lf_st, #expr, __FILE__, __LINE__);         \
  } while (0)
// After a launch: reports configuration errors at the launch site.
#define LF_CUDA_LAUNCHED() LF_CUDA_CHECK(cudaGetLastError())

inline cudaStream_t stream() { return static_cast<cudaStream_t>(device_stream()); }
cublasHandle_t cublas();  // created once, bound to stream()

constexpr int kThreads = 256;
// Blocks for a grid-stride loop over n elements (capped; the loop covers the rest).
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

// Scratch memory from the pool, returned on scope exit (stream-ordered reuse is safe: all work
// runs on one stream).
template <class T> class Buffer {
 public:
  explicit Buffer(int64_t n)
      : p_(static_cast<T*>(device_alloc(size_t(n > 0 ? n : 1) * sizeof(T)))) {}
  ~Buffer() { device_free(p_); }
  Buffer(Buffer&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

}  // namespace lensflow::kernels::cuda
