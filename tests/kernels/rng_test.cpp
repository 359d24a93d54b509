// Random tensors on the CPU: any slice of a draw is the same slice of one Philox stream.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/rng.hpp"

namespace lensflow::kernels {
namespace {

TEST(Philox, CpuDrawsAreSlicesOfOneStream) {
  std::vector<float> all(100), tail(40);
  rand_uniform_cpu<float>(all.data(), 100, 99, 0);
  rand_uniform_cpu<float>(tail.data(), 40, 99, 60);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(tail[size_t(i)], all[size_t(60 + i)]);
}

}  // namespace
}  // namespace lensflow::kernels
