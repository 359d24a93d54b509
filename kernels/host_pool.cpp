// kernels/host_pool.cpp — size-class free lists behind a mutex.
#include "kernels/host_pool.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

namespace lensflow::kernels {
namespace {

constexpr size_t kSmall = 64 * 1024;

// Multiples of 4 KiB up to 1 MiB, then 8 steps per power of two (<= 12.5% waste).
size_t size_class(size_t bytes) {
  if (bytes <= (size_t(1) << 20)) return (bytes + 4095) / 4096 * 4096;
  size_t p = size_t(1) << 20;
  while (p * 2 < bytes) p *= 2;
  const size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

struct Pool {
  std::mutex m;
  std::unordered_map<void*, size_t> live;
  std::multimap<size_t, void*> free_blocks;
  HostPoolStats stats;
  size_t limit = size_t(2) << 30;

  void trim(size_t keep) {
    while (stats.cached > keep && !free_blocks.empty()) {
      auto it = std::prev(free_blocks.end());  // release the largest first
      stats.cached -= it->first;
      std::free(it->second);
      free_blocks.erase(it);
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: tensors may be freed during static teardown
  return *p;
}

void* system_alloc(size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* host_alloc(size_t bytes) {
  if (bytes < kSmall) return system_alloc(bytes == 0 ? 1 : bytes);
  const size_t cls = size_class(bytes);
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  void* ptr;
  auto it = p.free_blocks.find(cls);
  if (it != p.free_blocks.end()) {
    ptr = it->second;
    p.free_blocks.erase(it);
    p.stats.cached -= cls;
  } else {
    try {
      ptr = system_alloc(cls);
    } catch (const std::bad_alloc&) {
      p.trim(0);
      ptr = system_alloc(cls);
    }
  }
  p.live[ptr] = cls;
  p.stats.in_use += cls;
  if (p.stats.in_use > p.stats.peak) p.stats.peak = p.stats.in_use;
  return ptr;
}

void host_free(void* ptr) {
  if (!ptr) return;
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lk(p.m);
    auto it = p.live.find(ptr);
    if (it != p.live.end()) {
      const size_t cls = it->second;
      p.live.erase(it);
      p.stats.in_use -= cls;
      p.free_blocks.emplace(cls, ptr);
      p.stats.cached += cls;
      p.trim(p.limit);
      return;
    }
  }
  std::free(ptr);  // a small block
}

HostPoolStats host_pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  return p.stats;
}

void set_host_pool_limit(size_t bytes) {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  p.limit = bytes;
  p.trim(bytes);
}

void host_pool_empty_cache() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  p.trim(0);
}

}  // namespace lensflow::kernels
