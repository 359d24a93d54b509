// kernels/gemm.cu — row-major GEMM on cuBLAS (column-major) by computing C^T = op(B)^T op(A)^T:
// a row-major matrix with row stride ld is the column-major transpose with the same ld.
// FP32 math (no TF32) so results match the CPU twin to ~1e-5 relative.
#include "kernels/cuda_utils.cuh"
#include "kernels/gemm.hpp"

namespace lensflow::kernels {

void gemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  if (M == 0 || N == 0) return;
  LF_CUBLAS_CHECK(cublasSgemm(cuda::cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(M), int(K), &alpha,
                              B, int(ldb), A, int(lda), &beta, C, int(ldc)));
}

void gemm_batched_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                       const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                       int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
                       int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  LF_CUBLAS_CHECK(cublasSgemmStridedBatched(
      cuda::cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      int(N), int(M), int(K), &alpha, B, int(ldb), stride_b, A, int(lda), stride_a, &beta, C,
      int(ldc), stride_c, int(batch)));
}

}  // namespace lensflow::kernels
