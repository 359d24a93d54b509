// The CPU twins' thread pool: coverage, nesting, exceptions, thread-count changes.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "kernels/thread_pool.hpp"

namespace lensflow::kernels {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    EXPECT_EQ(num_threads(), threads);
    std::vector<std::atomic<int>> hits(10007);
    parallel_for(10007, 7, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) hits[size_t(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  set_num_threads(0);
}

TEST(ThreadPool, NestedCallsRunAndExceptionsPropagate) {
  std::atomic<int64_t> total{0};
  parallel_for(8, 1, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i)
      parallel_for(100, 1, [&](int64_t a, int64_t b) { total += b - a; });
  });
  EXPECT_EQ(total.load(), 800);
  EXPECT_THROW(parallel_for(1000, 1,
                            [](int64_t s, int64_t) {
                              if (s > 0) throw std::runtime_error("chunk failed");
                            }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int64_t> n{0};
  parallel_for(1000, 1, [&](int64_t s, int64_t e) { n += e - s; });
  EXPECT_EQ(n.load(), 1000);
}

}  // namespace
}  // namespace lensflow::kernels
