// kernels/device.hpp — CUDA context for the network kernels: device query, one stream, a caching
// device-memory pool, copies. Compiles without CUDA (then cuda_device_available() is false and the
// other calls throw std::runtime_error). Pointers returned are device pointers.
#pragma once

#include <cstddef>

namespace lensflow::kernels {

bool cuda_device_available();  // built with CUDA and cudaGetDeviceCount() > 0

// Caching allocator: freed blocks are kept per rounded size and reused (no cudaMalloc per op).
void* device_alloc(size_t bytes);
void device_free(void* p);
struct DevicePoolStats {
  size_t in_use = 0;  // bytes handed out now
  size_t peak = 0;    // max of in_use since start / reset
  size_t cached = 0;  // bytes held by the pool but free
};
DevicePoolStats device_pool_stats();
void device_pool_reset_peak();
void device_pool_empty_cache();  // cudaFree every cached free block

// All work is queued on one stream per process; copies to the host synchronise it.
void* device_stream();  // the cudaStream_t, as void*
void device_synchronize();
void copy_host_to_device(void* dst, const void* src, size_t bytes);
// Queues the copy and returns at once (no synchronization): src is staged through pinned memory
// that is reused once the copy has run, so the caller may free or change src right away.
void copy_host_to_device_async(void* dst, const void* src, size_t bytes);
void copy_device_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);
void device_memset_zero(void* p, size_t bytes);
size_t device_free_bytes();  // free device memory now (cudaMemGetInfo; 0 without a device)

}  // namespace lensflow::kernels
