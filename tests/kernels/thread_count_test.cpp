// The CPU kernels split their work by the sizes of the problem, never by the thread count, so one
// thread and several give the same bits: GEMMs in every split regime (rows, columns, K slices),
// the layer-norm backward's parameter gradients and long sums.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/gemm.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/reduce.hpp"

namespace lensflow::kernels {
namespace {

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> N(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = N(rng);
  return v;
}

// Runs f with 1, 2 and 5 threads and checks the outputs are identical.
template <class F>
void expect_same_for_thread_counts(const F& f) {
  const int saved = core::num_threads();
  core::set_num_threads(1);
  const std::vector<float> ref = f();
  for (int t : {2, 5}) {
    core::set_num_threads(t);
    EXPECT_EQ(f(), ref) << t << " threads";
  }
  core::set_num_threads(saved);
}

TEST(ThreadCount, GemmInEverySplitRegime) {
  struct Shape {
    int64_t M, N, K;
  };
  // Rows split (M large), columns split (N large), K sliced (long K, small C), a single call.
  for (const Shape sh : {Shape{1000, 96, 200}, Shape{40, 700, 300}, Shape{24, 40, 40000}, Shape{30, 30, 30}}) {
    for (const bool ta : {false, true}) {
      const auto A = random_vector(std::size_t(sh.M * sh.K), 1), B = random_vector(std::size_t(sh.K * sh.N), 2);
      expect_same_for_thread_counts([&] {
        std::vector<float> C(std::size_t(sh.M * sh.N), 0.5f);
        gemm_cpu<float>(ta, false, sh.M, sh.N, sh.K, 1.f, A.data(), ta ? sh.M : sh.K, B.data(), sh.N, 0.25f, C.data(),
                        sh.N);
        return C;
      });
    }
  }
}

TEST(ThreadCount, LayerNormBackwardAndLongSums) {
  const int64_t rows = 20000, C = 16;
  const auto x = random_vector(std::size_t(rows * C), 3), gy = random_vector(std::size_t(rows * C), 4);
  const auto gamma = random_vector(std::size_t(C), 5);
  std::vector<float> mean(rows), rstd(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t c = 0; c < C; ++c) m += x[std::size_t(r * C + c)];
    m /= C;
    for (int64_t c = 0; c < C; ++c) v += (x[std::size_t(r * C + c)] - m) * (x[std::size_t(r * C + c)] - m);
    mean[std::size_t(r)] = float(m);
    rstd[std::size_t(r)] = float(1.0 / std::sqrt(v / C + 1e-5));
  }
  expect_same_for_thread_counts([&] {
    std::vector<float> gx(x.size()), gg(C), gb(C);
    layernorm_backward_cpu<float>(x.data(), gamma.data(), mean.data(), rstd.data(), gy.data(), gx.data(), gg.data(),
                                  gb.data(), rows, C);
    gx.insert(gx.end(), gg.begin(), gg.end());
    gx.insert(gx.end(), gb.begin(), gb.end());
    return gx;
  });
  expect_same_for_thread_counts([&] {
    std::vector<float> y(C);
    reduce_cpu<float>(Reduce::Sum, x.data(), y.data(), 1, rows, C);
    return y;
  });
  expect_same_for_thread_counts([&] {
    std::vector<float> y(1);
    reduce_cpu<float>(Reduce::SumSquares, x.data(), y.data(), 1, int64_t(x.size()), 1);
    return y;
  });
}

}  // namespace
}  // namespace lensflow::kernels
