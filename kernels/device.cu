// kernels/device.cu — the CUDA context: device query, one stream, cuBLAS handle, and a caching
// allocator (blocks are rounded to size classes and kept on free lists for reuse, so ops never
// call cudaMalloc in steady state; on out-of-memory the cache is released and the call retried).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "kernels/caching_pool.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/device.hpp"

namespace lensflow::kernels {
namespace cuda {

void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
  throw std::runtime_error(std::string("cuBLAS error ") + std::to_string(int(s)) + " in " + what +
                           " at " + file + ":" + std::to_string(line));
}

cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    LF_CUBLAS_CHECK(cublasCreate(&h));
    LF_CUBLAS_CHECK(cublasSetStream(h, stream()));
    return h;
  }();
  return handle;
}

}  // namespace cuda

namespace {

constexpr size_t kQuantum = 512;  // size classes: multiples of 512 B up to 1 MiB

struct Pool : detail::CachingPool<DevicePoolStats> {
  void release_cache() { trim(0, [](void* p) { cudaFree(p); }); }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: blocks may be freed during static teardown
  return *p;
}

}  // namespace

bool cuda_device_available() {
  static const bool available = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error from a failed query
      return false;
    }
    return n > 0;
  }();
  return available;
}

void* device_stream() {
  static cudaStream_t s = [] {
    if (!cuda_device_available()) throw std::runtime_error("device_stream: no CUDA device");
    cudaStream_t st;
    LF_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

void* device_alloc(size_t bytes) {
  if (!cuda_device_available()) throw std::runtime_error("device_alloc: no CUDA device available");
  const size_t cls = detail::size_class(bytes == 0 ? 1 : bytes, kQuantum);
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  void* ptr = p.take_cached(cls);
  if (!ptr) {
    cudaError_t e = cudaMalloc(&ptr, cls);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      // Everything queued may still use cached blocks, here and in the stream-ordered pool that
      // the lens executors keep (core/cuda_buffers.cuh): wait, then hand both back to the driver.
      LF_CUDA_CHECK(cudaDeviceSynchronize());
      p.release_cache();
      int dev = 0;
      cudaMemPool_t stream_pool = nullptr;
      if (cudaGetDevice(&dev) == cudaSuccess &&
          cudaDeviceGetDefaultMemPool(&stream_pool, dev) == cudaSuccess)
        cudaMemPoolTrimTo(stream_pool, 0);
      cudaGetLastError();
      e = cudaMalloc(&ptr, cls);
    }
    core::cuda_check(e, "device_alloc", (std::to_string(cls) + " bytes").c_str());
  }
  p.hand_out(ptr, cls);
  return ptr;
}

void device_free(void* ptr) {
  if (!ptr) return;
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  p.take_back(ptr);  // false: not ours (already released)
}

DevicePoolStats device_pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  return p.stats;
}
void device_pool_reset_peak() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  p.stats.peak = p.stats.in_use;
}
void device_pool_empty_cache() {
  if (!cuda_device_available()) return;
  device_synchronize();
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.m);
  p.release_cache();
}

void device_synchronize() { LF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream())); }

void copy_host_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  LF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda::stream()));
  // The host buffer may be freed right after return: wait for the copy.
  LF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
}
namespace {

// Pinned staging blocks for copy_host_to_device_async: a block is busy until the event recorded
// after its copy has completed, then reused (the pool grows only while the host runs ahead).
struct Staging {
  struct Block {
    void* p = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;
  };
  std::mutex m;
  std::vector<Block> free, busy;
};

Staging& staging() {
  static Staging* s = new Staging();  // never destroyed, like the pool
  return *s;
}

}  // namespace

void copy_host_to_device_async(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  Staging& s = staging();
  std::lock_guard<std::mutex> lk(s.m);
  for (size_t i = 0; i < s.busy.size();) {
    const cudaError_t q = cudaEventQuery(s.busy[i].done);
    if (q == cudaErrorNotReady) {
      ++i;
      continue;
    }
    LF_CUDA_CHECK(q);
    s.free.push_back(s.busy[i]);
    s.busy.erase(s.busy.begin() + std::ptrdiff_t(i));
  }
  Staging::Block b;
  for (size_t i = 0; i < s.free.size(); ++i)
    if (s.free[i].bytes >= bytes) {
      b = s.free[i];
      s.free.erase(s.free.begin() + std::ptrdiff_t(i));
      break;
    }
  if (!b.p) {
    b.bytes = std::max<size_t>(bytes, 64 * 1024);
    LF_CUDA_CHECK(cudaMallocHost(&b.p, b.bytes));
    LF_CUDA_CHECK(cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming));
  }
  std::memcpy(b.p, src, bytes);
  const cudaError_t e = cudaMemcpyAsync(dst, b.p, bytes, cudaMemcpyHostToDevice, cuda::stream());
  const cudaError_t r = e == cudaSuccess ? cudaEventRecord(b.done, cuda::stream()) : e;
  if (r != cudaSuccess) {
    s.free.push_back(b);
    core::cuda_check(r, "copy_host_to_device_async", "cudaMemcpyAsync");
  }
  s.busy.push_back(b);
}
void copy_device_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  LF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda::stream()));
  LF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  LF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda::stream()));
}
void device_memset_zero(void* p, size_t bytes) {
  if (bytes == 0) return;
  LF_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda::stream()));
}
size_t device_free_bytes() {
  if (!cuda_device_available()) return 0;
  size_t free_b = 0, total_b = 0;
  LF_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return free_b;
}

}  // namespace lensflow::kernels
