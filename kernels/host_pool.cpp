// kernels/host_pool.cpp — size-class free lists behind a mutex (bookkeeping in kernels/caching_pool.hpp).
#include "kernels/host_pool.hpp"

#include <cstdlib>
#include <mutex>
#include <new>

#include "kernels/caching_pool.hpp"

namespace lensflow::kernels {
namespace {

constexpr size_t kSmall = 64 * 1024;
constexpr size_t kQuantum = 4096;  // size classes: multiples of 4 KiB up to 1 MiB

struct Pool : detail::CachingPool<HostPoolStats> {
  size_t limit = size_t(2) << 30;
  void trim(size_t keep) { detail::CachingPool<HostPoolStats>::trim(keep, [](void* p) { std::free(p); }); }
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
  const size_t cls = detail::size_class(bytes, kQuantum);
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  void* ptr = p.take_cached(cls);
  if (!ptr) {
    try {
      ptr = system_alloc(cls);
    } catch (const std::bad_alloc&) {
      p.trim(0);
      ptr = system_alloc(cls);
    }
  }
  p.hand_out(ptr, cls);
  return ptr;
}

void host_free(void* ptr) {
  if (!ptr) return;
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lk(p.m);
    if (p.take_back(ptr)) {
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
