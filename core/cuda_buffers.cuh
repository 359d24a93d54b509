// core/cuda_buffers.cuh — for the CUDA executors of lens/ and sim/ (not installed): device and pinned
// host arrays that grow on demand and can be kept across calls, and the setting of the device's
// stream-ordered memory pool.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/cuda_check.hpp"

namespace lensflow::core {

inline cudaMemPool_t default_pool() {
  int dev = 0;
  cudaMemPool_t pool = nullptr;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetDefaultMemPool(&pool, dev) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return pool;
}

// The finite-source workspaces and validation flags come from cudaMallocAsync, per call. With the
// pool's default release threshold (0) every synchronization hands that memory back to the driver
// and the next call maps it again (GBs per likelihood call in MCMC). Keep it instead: the pool
// then holds at most the largest working set seen; cudaMalloc below trims it when memory runs out.
inline void retain_stream_ordered_pool() {
  static const bool done = [] {
    if (cudaMemPool_t pool = default_pool()) {
      std::uint64_t keep = UINT64_MAX;
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
      cudaGetLastError();
    }
    return true;
  }();
  (void)done;
}

// cudaMalloc; on out-of-memory, returns the stream-ordered pool's unused memory to the driver and
// tries once more.
inline cudaError_t malloc_or_trim(void** p, std::size_t bytes) {
  cudaError_t e = cudaMalloc(p, bytes);
  if (e != cudaErrorMemoryAllocation) return e;
  cudaGetLastError();
  if (cudaMemPool_t pool = default_pool()) {
    cudaDeviceSynchronize();  // frees queued with cudaFreeAsync become trimmable
    cudaMemPoolTrimTo(pool, 0);
  }
  return cudaMalloc(p, bytes);
}

// Device memory (cudaMalloc, trimming the stream-ordered pool when memory runs out) and page-locked
// host memory (asynchronous copies at full bandwidth).
struct DeviceMemory {
  static constexpr const char* kAlloc = "cudaMalloc";
  static cudaError_t alloc(void** p, std::size_t bytes) { return malloc_or_trim(p, bytes); }
  static void release(void* p) { cudaFree(p); }
};
struct PinnedMemory {
  static constexpr const char* kAlloc = "cudaMallocHost";
  static cudaError_t alloc(void** p, std::size_t bytes) { return cudaMallocHost(p, bytes); }
  static void release(void* p) { cudaFreeHost(p); }
};

// An array of T in Memory that grows (never shrinks) to the largest size asked for. Growing drops
// the contents and must not happen while queued work still uses the array (callers synchronize
// first).
template <class T, class Memory>
class GrowingArray {
 public:
  GrowingArray() = default;
  GrowingArray(std::size_t n, const char* who) { reserve(n, who); }
  ~GrowingArray() { Memory::release(p_); }
  GrowingArray(const GrowingArray&) = delete;
  GrowingArray& operator=(const GrowingArray&) = delete;
  T* reserve(std::size_t n, const char* who) {
    if (n == 0) n = 1;
    if (n > cap_) {
      Memory::release(p_);
      p_ = nullptr;
      cap_ = 0;
      cuda_check(Memory::alloc(reinterpret_cast<void**>(&p_), n * sizeof(T)), who, Memory::kAlloc);
      cap_ = n;
    }
    return p_;
  }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  std::size_t cap_ = 0;
};

template <class T> using DeviceArray = GrowingArray<T, DeviceMemory>;
template <class T> using PinnedArray = GrowingArray<T, PinnedMemory>;

}  // namespace lensflow::core
