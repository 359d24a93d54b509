// CPU GEMM (blocks over the thread pool) against a direct triple loop, for every split path
// (rows, columns, K slices), transposes, leading dimensions wider than the matrices, alpha/beta.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/gemm.hpp"

namespace lensflow::kernels {
namespace {

void check(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  const int64_t pad = 3;
  // Stored shapes: A is [M,K] (or [K,M] when ta), B is [K,N] (or [N,K] when tb).
  const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = N + pad;
  std::vector<double> A(size_t(ar * lda)), B(size_t(br * ldb)), C(size_t(M * ldc));
  for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(0.37 * double(i));
  for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(0.11 * double(i));
  for (size_t i = 0; i < C.size(); ++i) C[i] = 0.5 * std::sin(double(i));
  const std::vector<double> C0 = C;
  const double alpha = 1.5, beta = 0.25;
  gemm_cpu<double>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[size_t(k * lda + i)] : A[size_t(i * lda + k)];
        const double b = tb ? B[size_t(j * ldb + k)] : B[size_t(k * ldb + j)];
        s += a * b;
      }
      const double want = alpha * s + beta * C0[size_t(i * ldc + j)];
      ASSERT_NEAR(C[size_t(i * ldc + j)], want, 1e-10 * (1 + std::fabs(want)))
          << "ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K;
    }
  // Padding columns untouched.
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(C[size_t(i * ldc + j)], C0[size_t(i * ldc + j)]);
}

TEST(GemmCpu, EverySplitPathMatchesTheDirectProduct) {
  core::set_num_threads(2);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check(ta, tb, 300, 20, 50);   // rows split
      check(ta, tb, 20, 300, 50);   // columns split
      check(ta, tb, 20, 30, 1500);  // K split
      check(ta, tb, 5, 7, 3);       // one call
    }
  core::set_num_threads(0);
}

#if LENSFLOW_HAVE_CUDA
// cuBLAS takes int sizes: larger ones are refused by name instead of wrapping. The check comes
// before any device work, so this runs in every CUDA build, with or without a GPU.
TEST(GemmCuda, RefusesSizesBeyondCublasInt) {
  const int64_t big = int64_t(INT_MAX) + 1;
  const auto refuses = [](const std::function<void()>& f, const char* what) {
    try {
      f();
      ADD_FAILURE() << what << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refuses([&] { gemm_cuda(false, false, big, 1, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, 1); }, "M = ");
  refuses([&] { gemm_cuda(false, false, 1, big, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, 1); }, "N = ");
  refuses([&] { gemm_cuda(false, false, 1, 1, big, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, 1); }, "K = ");
  refuses([&] { gemm_cuda(false, false, 1, 1, 1, 1.0f, nullptr, big, nullptr, 1, 0.0f, nullptr, 1); }, "lda = ");
  refuses([&] { gemm_cuda(false, false, 1, 1, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, big); }, "ldc = ");
  refuses([&] {
    gemm_batched_cuda(false, false, 1, 1, 1, 1.0f, nullptr, 1, 1, nullptr, 1, 1, 0.0f, nullptr, 1, 1, big);
  }, "batch = ");
}
#endif

}  // namespace
}  // namespace lensflow::kernels
