// bench/kernels/machine_rates.hpp — this machine's attainable rates, the floors the per-stage
// profile is measured against: sgemm GFLOP/s through kernels::gemm_cpu (single-threaded OpenBLAS
// on blocks split over the thread pool: what the convolutions get) and STREAM-like memory
// bandwidth (copy and triad over arrays far larger than the caches, split over the pool).
// Header-only: bench/CMakeLists.txt turns every bench/**/*.cpp into its own executable.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bench/bench_util.hpp"
#include "core/thread_pool.hpp"
#include "kernels/gemm.hpp"

namespace lensflow::bench_util {

// Best-of-`repeat` GFLOP/s of an n x n x n sgemm on the pool's current threads.
inline double sgemm_gflops(int64_t n, int repeat) {
  std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f), c(size_t(n * n), 0.0f);
  const double s = best_time(repeat, [&] {
    kernels::gemm_cpu<float>(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  });
  return 2.0 * double(n) * double(n) * double(n) / s * 1e-9;
}

struct Bandwidth {
  double copy_gbs = 0, triad_gbs = 0;  // STREAM convention: 8 and 12 bytes per element
};

// Copy b = a and triad a = b + s c over `n` floats per array (n * 4 bytes >> the L3 cache).
inline Bandwidth stream_gbs(int64_t n, int repeat) {
  std::vector<float> a(size_t(n), 1.0f), b(size_t(n), 2.0f), c(size_t(n), 3.0f);
  const int64_t grain = 1 << 16;
  Bandwidth r;
  const double tc = best_time(repeat, [&] {
    core::parallel_for(n, grain, [&](int64_t s, int64_t e) {
      std::copy(a.data() + s, a.data() + e, b.data() + s);
    });
  });
  const double tt = best_time(repeat, [&] {
    core::parallel_for(n, grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) a[size_t(i)] = b[size_t(i)] + 3.0f * c[size_t(i)];
    });
  });
  r.copy_gbs = 8.0 * double(n) / tc * 1e-9;
  r.triad_gbs = 12.0 * double(n) / tt * 1e-9;
  return r;
}

}  // namespace lensflow::bench_util
