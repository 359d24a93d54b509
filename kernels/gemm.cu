// kernels/gemm.cu — row-major GEMM on cuBLAS (column-major) by computing C^T = op(B)^T op(A)^T:
// a row-major matrix with row stride ld is the column-major transpose with the same ld.
// FP32 math (no TF32) so results match the CPU twin to ~1e-5 relative.
#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "kernels/cuda_utils.cuh"
#include "kernels/gemm.hpp"

namespace lensflow::kernels {
namespace {

// cuBLAS takes sizes and leading dimensions as int: refuse what would wrap instead of computing
// on truncated sizes.
int as_int(const char* fn, const char* what, int64_t v) {
  if (v < 0 || v > int64_t(INT_MAX))
    throw std::invalid_argument(std::string(fn) + ": " + what + " = " + std::to_string(v) +
                                " is outside cuBLAS's int range [0, " + std::to_string(INT_MAX) +
                                "]");
  return int(v);
}
// A leading dimension for cuBLAS's check (>= 1): with K == 0 the row stride of an empty [M, 0]
// operand may be 0, and cuBLAS reads neither A nor B (C = beta C, like the CPU twin).
int ld_for(const char* fn, const char* what, int64_t ld) { return std::max(1, as_int(fn, what, ld)); }

}  // namespace

void gemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  if (M == 0 || N == 0) return;
  constexpr const char* fn = "gemm_cuda";
  const int m = as_int(fn, "M", M), n = as_int(fn, "N", N), k = as_int(fn, "K", K);
  const int la = ld_for(fn, "lda", lda), lb = ld_for(fn, "ldb", ldb), lc = ld_for(fn, "ldc", ldc);
  LF_CUBLAS_CHECK(cublasSgemm(cuda::cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, B, lb, A, la,
                              &beta, C, lc));
}

void gemm_batched_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                       const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                       int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
                       int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  constexpr const char* fn = "gemm_batched_cuda";
  const int m = as_int(fn, "M", M), n = as_int(fn, "N", N), k = as_int(fn, "K", K);
  const int la = ld_for(fn, "lda", lda), lb = ld_for(fn, "ldb", ldb), lc = ld_for(fn, "ldc", ldc);
  const int nb = as_int(fn, "batch", batch);
  LF_CUBLAS_CHECK(cublasSgemmStridedBatched(
      cuda::cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n,
      m, k, &alpha, B, lb, stride_b, A, la, stride_a, &beta, C, lc, stride_c, nb));
}

}  // namespace lensflow::kernels
