// The worker pool: coverage, nesting, exceptions, thread-count changes, concurrent loops, the
// per-call thread cap of parallel_for_chunks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.hpp"

namespace lensflow::core {
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

TEST(ThreadPool, ChunksAreHandedOutWhole) {
  set_num_threads(3);
  std::vector<std::atomic<int>> hits(1001);
  std::atomic<bool> bad_bounds{false};
  parallel_for_chunks(1001, 10, 0, [&](std::size_t b, std::size_t e) {
    if (b % 10 != 0 || (e != b + 10 && e != 1001)) bad_bounds = true;
    for (std::size_t i = b; i < e; ++i) hits[i]++;
  });
  EXPECT_FALSE(bad_bounds.load());
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  set_num_threads(0);
}

TEST(ThreadPool, ACallUsesAtMostItsThreadCap) {
  set_num_threads(4);
  for (int cap : {1, 2, 3}) {
    std::mutex m;
    std::set<std::thread::id> ids;
    parallel_for_chunks(400, 1, cap, [&](std::size_t, std::size_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard<std::mutex> lk(m);
      ids.insert(std::this_thread::get_id());
    });
    EXPECT_LE(int(ids.size()), cap);
    if (cap == 1) EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u) << "a cap of 1 runs on the caller";
  }
  EXPECT_THROW(parallel_for_chunks(100, 1, 0,
                                   [](std::size_t b, std::size_t) {
                                     if (b == 50) throw std::runtime_error("chunk failed");
                                   }),
               std::runtime_error);
  set_num_threads(0);
}

TEST(ThreadPool, LoopsFromSeveralThreadsRunAtTheSameTime) {
  // The training loop and the batch loader share the pool: neither may wait for the other's loop,
  // and every loop covers its range exactly once.
  set_num_threads(3);
  std::atomic<int> failures{0};
  auto client = [&](int which) {
    for (int round = 0; round < 200; ++round) {
      std::vector<int> hits(257, 0);
      if (which == 0)
        parallel_for(257, 8, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) hits[size_t(i)]++;
        });
      else
        parallel_for_chunks(257, 3, 2, [&](std::size_t s, std::size_t e) {
          for (std::size_t i = s; i < e; ++i) hits[i]++;
        });
      for (int h : hits) failures += h != 1;
    }
  };
  std::thread a(client, 0), b(client, 1), c(client, 0);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(failures.load(), 0);
  set_num_threads(0);
}

}  // namespace
}  // namespace lensflow::core
