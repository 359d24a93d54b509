// kernels/device.cpp — the CPU-only build's device context: no device, every call explains why.
#include "kernels/device.hpp"

#if !LENSFLOW_HAVE_CUDA
#include <stdexcept>

namespace lensflow::kernels {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw std::runtime_error(std::string(what) + ": lensflow was built without CUDA");
}
}  // namespace

bool cuda_device_available() { return false; }
void* device_alloc(size_t) { no_cuda("device_alloc"); }
void device_free(void*) { no_cuda("device_free"); }
DevicePoolStats device_pool_stats() { return {}; }
void device_pool_reset_peak() {}
void device_pool_empty_cache() {}
void* device_stream() { return nullptr; }
void device_synchronize() {}
void copy_host_to_device(void*, const void*, size_t) { no_cuda("copy_host_to_device"); }
void copy_host_to_device_async(void*, const void*, size_t) { no_cuda("copy_host_to_device_async"); }
void copy_device_to_host(void*, const void*, size_t) { no_cuda("copy_device_to_host"); }
void copy_device_to_device(void*, const void*, size_t) { no_cuda("copy_device_to_device"); }
void device_memset_zero(void*, size_t) { no_cuda("device_memset_zero"); }
size_t device_free_bytes() { return 0; }

}  // namespace lensflow::kernels
#endif
