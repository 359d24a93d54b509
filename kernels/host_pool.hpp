// kernels/host_pool.hpp — caching allocator for CPU tensor storage. Large activations are
// allocated and freed every step; returning them to the OS and faulting fresh pages back in costs
// more than the ops themselves, so freed blocks are kept per size class (64-byte aligned) and
// reused. Blocks under 64 KiB go straight to the system allocator.
#pragma once

#include <cstddef>

namespace lensflow::kernels {

void* host_alloc(size_t bytes);
void host_free(void* p);

struct HostPoolStats {
  size_t in_use = 0;  // bytes handed out now (pooled sizes only)
  size_t peak = 0;
  size_t cached = 0;  // free bytes kept for reuse
};
HostPoolStats host_pool_stats();
// Upper bound on cached free bytes (default 2 GiB); blocks beyond it are released at once.
void set_host_pool_limit(size_t bytes);
void host_pool_empty_cache();

// Uninitialised scratch of n T's from the pool, freed on scope exit (kernels' work buffers:
// large std::vectors would be mmap'ed and page-faulted afresh on every call).
template <class T> class HostBuffer {
 public:
  explicit HostBuffer(size_t n) : p_(static_cast<T*>(host_alloc(n * sizeof(T)))) {}
  ~HostBuffer() { host_free(p_); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

}  // namespace lensflow::kernels
