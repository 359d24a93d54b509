// The CPU storage pool: alignment, reuse of freed blocks, the cache limit.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "kernels/host_pool.hpp"

namespace lensflow::kernels {
namespace {

TEST(HostPool, AlignedReusedAndBounded) {
  void* small = host_alloc(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  host_free(small);

  const size_t big = size_t(3) << 20;
  void* a = host_alloc(big);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 1, big);  // the whole request is usable
  const HostPoolStats in_use = host_pool_stats();
  EXPECT_GE(in_use.in_use, big);
  host_free(a);
  EXPECT_GE(host_pool_stats().cached, big);
  void* b = host_alloc(big - 100);  // same size class: the cached block comes back
  EXPECT_EQ(b, a);
  host_free(b);

  set_host_pool_limit(0);  // nothing may stay cached
  EXPECT_EQ(host_pool_stats().cached, 0u);
  void* c = host_alloc(big);
  host_free(c);
  EXPECT_EQ(host_pool_stats().cached, 0u);
  set_host_pool_limit(size_t(2) << 30);
  host_pool_empty_cache();
}

}  // namespace
}  // namespace lensflow::kernels
