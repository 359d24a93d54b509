// tests/gpu_required.hpp — what a GPU test does when it finds no usable CUDA device (a CPU-only
// build, no GPU, or a driver too old for the runtime): it skips, which ctest counts as passed, so
// every CPU machine runs the suite green. With LENSFLOW_REQUIRE_GPU=1 in the environment the skip
// becomes a failure instead, so that a run on a GPU machine cannot pass by skipping its GPU tests
// (bench/run_device.sh sets it).
//
// Use at the top of a GPU test: LENSFLOW_SKIP_WITHOUT_GPU(device_found) << "what is not checked";
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace lensflow_test {

inline bool gpu_required() {
  const char* v = std::getenv("LENSFLOW_REQUIRE_GPU");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace lensflow_test

// Same mechanism as GTEST_SKIP() (a streamable result returned from the test body), with the result
// type chosen at run time. The switch guards against a dangling else at the call site.
#define LENSFLOW_SKIP_WITHOUT_GPU(device_found)                                                   \
  switch (0)                                                                                      \
  case 0:                                                                                         \
  default:                                                                                        \
    if (device_found) {                                                                           \
    } else                                                                                        \
      return ::testing::internal::AssertHelper(                                                   \
                 ::lensflow_test::gpu_required() ? ::testing::TestPartResult::kFatalFailure       \
                                                 : ::testing::TestPartResult::kSkip,              \
                 __FILE__, __LINE__,                                                              \
                 ::lensflow_test::gpu_required()                                                  \
                     ? "LENSFLOW_REQUIRE_GPU=1 but no usable CUDA device (or a build without "    \
                       "CUDA)"                                                                    \
                     : "Skipped") = ::testing::Message()
