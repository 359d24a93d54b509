// kernels/gemm.hpp — row-major GEMM: C[M,N] = alpha * op(A) op(B) + beta * C, where op(A) is
// [M,K] (A stored [K,M] when trans_a) and op(B) is [K,N] (B stored [N,K] when trans_b).
// lda/ldb/ldc are row strides of the stored matrices. CPU: OpenBLAS cblas; CUDA: cuBLAS (one
// handle, on the context stream).
#pragma once

#include <cstdint>

namespace lensflow::kernels {

template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// The same product as one BLAS call on the calling thread: for callers that split work over the
// thread pool themselves (each chunk's GEMM is then the same, whatever the thread count).
template <class T>
void gemm_serial_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                     const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// `batch` independent GEMMs; matrix i uses A + i*stride_a etc. (stride 0 shares a matrix).
template <class T>
void gemm_batched_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                      const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
                      int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c, int64_t batch);

void gemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);
void gemm_batched_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                       const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                       int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
                       int64_t batch);

}  // namespace lensflow::kernels
