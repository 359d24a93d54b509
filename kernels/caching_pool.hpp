// kernels/caching_pool.hpp — the bookkeeping shared by the host pool (kernels/host_pool.cpp) and the
// CUDA device pool (kernels/device.cu): blocks rounded to size classes, freed blocks kept on
// per-class free lists for reuse, and in-use / peak / cached byte counts. The callers own the
// locking order, the underlying allocate call and its out-of-memory fallback; this header only
// needs the matching release function. Internal to lensflow_kernels (compiled by g++ and nvcc).
#pragma once

#include <cstddef>
#include <iterator>
#include <map>
#include <mutex>
#include <unordered_map>

namespace lensflow::kernels::detail {

// Multiples of `quantum` up to 1 MiB, then 8 steps per power of two (<= 12.5% waste).
inline size_t size_class(size_t bytes, size_t quantum) {
  if (bytes <= (size_t(1) << 20)) return (bytes + quantum - 1) / quantum * quantum;
  size_t p = size_t(1) << 20;
  while (p * 2 < bytes) p *= 2;
  const size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

// Stats: a struct with size_t in_use, peak, cached (HostPoolStats, DevicePoolStats).
// Every member function expects the caller to hold `m`.
template <class Stats>
struct CachingPool {
  std::mutex m;
  std::unordered_map<void*, size_t> live;    // pointer handed out -> its class size
  std::multimap<size_t, void*> free_blocks;  // class size -> cached free block
  Stats stats;

  // A cached block of class `cls`, or nullptr when there is none.
  void* take_cached(size_t cls) {
    auto it = free_blocks.find(cls);
    if (it == free_blocks.end()) return nullptr;
    void* ptr = it->second;
    free_blocks.erase(it);
    stats.cached -= cls;
    return ptr;
  }

  // Records `ptr` (class `cls`) as handed out.
  void hand_out(void* ptr, size_t cls) {
    live[ptr] = cls;
    stats.in_use += cls;
    if (stats.in_use > stats.peak) stats.peak = stats.in_use;
  }

  // Moves a handed-out block to the free lists; false when `ptr` is not one of ours.
  bool take_back(void* ptr) {
    auto it = live.find(ptr);
    if (it == live.end()) return false;
    const size_t cls = it->second;
    live.erase(it);
    stats.in_use -= cls;
    free_blocks.emplace(cls, ptr);
    stats.cached += cls;
    return true;
  }

  // Releases cached blocks, largest first, with release(ptr) until at most `keep` bytes stay cached.
  template <class Release>
  void trim(size_t keep, Release release) {
    while (stats.cached > keep && !free_blocks.empty()) {
      auto it = std::prev(free_blocks.end());
      stats.cached -= it->first;
      release(it->second);
      free_blocks.erase(it);
    }
  }
};

}  // namespace lensflow::kernels::detail
