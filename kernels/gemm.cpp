// kernels/gemm.cpp — CPU GEMM: single-threaded OpenBLAS calls on blocks run by the thread pool.
#include "kernels/gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {
namespace {
// GEMMs are split over core's pool (below); OpenBLAS's own threads would spin between calls and
// compete with it for the cores, so OpenBLAS is kept single-threaded from the first call on.
void single_threaded_blas() {
  static const bool done = (openblas_set_num_threads(1), true);
  (void)done;
}
void call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
}
void call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  single_threaded_blas();
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
}
}  // namespace

template <class T>
void gemm_serial_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                     const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // BLAS leaves C untouched for K == 0; the product is zero.
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  call(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// One GEMM split over the pool's threads, each block a single-threaded OpenBLAS call: (weight
// gradients: small C, long K) a fixed number of K slices summed in order, else rows of C when M is
// large, else columns of C when N is large. The blocks depend on the shape only, never on the thread
// count, so every element is computed by the same call on the same numbers with 1 or N threads: the
// result is the same bits (OpenBLAS picks its kernels by CPU and call shape, so across CPU models or
// shapes no such promise holds). OpenBLAS's own threads are switched off (single_threaded_blas): they
// spin between calls and starve the pool's elementwise kernels.
template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const int64_t work = M * N * K;
  constexpr int64_t kBlock = 64, kSlices = 4;
  if (work < (int64_t(1) << 18)) {
    gemm_serial_cpu<T>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else if (M < 2 * kBlock && N < 2 * kBlock && K >= kBlock * kSlices) {
    const int64_t step = (K + kSlices - 1) / kSlices;
    std::vector<T> partial(static_cast<size_t>(kSlices * M * N));
    core::parallel_for(kSlices, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t k0 = p * step, k1 = std::min(K, k0 + step);
        T* out = partial.data() + p * M * N;
        if (k0 >= k1) {
          std::fill(out, out + M * N, T(0));
          continue;
        }
        const T* a = trans_a ? A + k0 * lda : A + k0;
        const T* b = trans_b ? B + k0 : B + k0 * ldb;
        call(trans_a, trans_b, M, N, k1 - k0, T(1), a, lda, b, ldb, T(0), out, N);
      }
    });
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        T s = 0;
        for (int64_t p = 0; p < kSlices; ++p) s += partial[size_t((p * M + i) * N + j)];
        T& c = C[i * ldc + j];
        c = alpha * s + (beta == T(0) ? T(0) : beta * c);
      }
  } else if (M >= 2 * kBlock) {
    core::parallel_for((M + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t r = b0 * kBlock; r < std::min(M, b1 * kBlock); r += kBlock) {
        const int64_t re = std::min(M, r + kBlock);
        const T* a = trans_a ? A + r : A + r * lda;
        call(trans_a, trans_b, re - r, N, K, alpha, a, lda, B, ldb, beta, C + r * ldc, ldc);
      }
    });
  } else if (N >= 2 * kBlock) {
    core::parallel_for((N + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t c = b0 * kBlock; c < std::min(N, b1 * kBlock); c += kBlock) {
        const int64_t ce = std::min(N, c + kBlock);
        const T* b = trans_b ? B + c * ldb : B + c;
        call(trans_a, trans_b, M, ce - c, K, alpha, A, lda, b, ldb, beta, C + c, ldc);
      }
    });
  } else {
    gemm_serial_cpu<T>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

template <class T>
void gemm_batched_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                      const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
                      int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c,
                      int64_t batch) {
  // Sequential over the batch: each GEMM is split over the threads.
  for (int64_t i = 0; i < batch; ++i)
    gemm_cpu<T>(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb,
                beta, C + i * stride_c, ldc);
}

#define LF_INSTANTIATE(T)                                                                      \
  template void gemm_cpu<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t,       \
                            const T*, int64_t, T, T*, int64_t);                                \
  template void gemm_serial_cpu<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, \
                                   const T*, int64_t, T, T*, int64_t);                         \
  template void gemm_batched_cpu<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*,        \
                                    int64_t, int64_t, const T*, int64_t, int64_t, T, T*,       \
                                    int64_t, int64_t, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
