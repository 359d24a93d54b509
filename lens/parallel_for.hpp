// lens/parallel_for.hpp — the CPU executor of the simulator's batched calls: body(begin, end) over
// [0, n) in chunks taken from a shared counter by n_threads threads (0 = all cores; dynamic, so
// a few expensive events do not stall a statically assigned thread). The calling thread works
// too; the first exception of any worker is rethrown to the caller.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace lensflow::lens {

template <class Body>
void parallel_for_chunks(std::size_t n, std::size_t chunk, int n_threads, const Body& body) {
  if (n == 0) return;
  if (n_threads <= 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
  chunk = std::max<std::size_t>(chunk, 1);
  const std::size_t n_chunks = (n + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(n_threads), n_chunks));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  auto run = [&] {
    try {
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) return;
        const std::size_t c = next.fetch_add(1, std::memory_order_relaxed);
        if (c >= n_chunks) return;
        body(c * chunk, std::min(n, (c + 1) * chunk));
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace lensflow::lens
