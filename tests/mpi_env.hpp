// tests/mpi_env.hpp — starts MPI for a GoogleTest executable (before the first test, finalized
// after the last) when it runs under mpirun; alone it is one process (dist/comm.hpp). Include it in
// exactly one file of the executable. Multi-process tests skip with the reason when alone; CTest
// also runs these executables with `mpirun -n 2` when the build has MPI (tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "dist/comm.hpp"

namespace lensflow::testing {

class MpiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { env_ = std::make_unique<dist::Environment>(nullptr, nullptr); }
  void TearDown() override { env_.reset(); }

 private:
  std::unique_ptr<dist::Environment> env_;
};

inline ::testing::Environment* const kMpiEnvironment = ::testing::AddGlobalTestEnvironment(new MpiEnvironment);

}  // namespace lensflow::testing

// Skips the test (with the reason) unless several processes run it.
#define LENSFLOW_REQUIRE_RANKS()                                                                       \
  do {                                                                                                 \
    if (::lensflow::dist::world().size() < 2)                                                          \
      GTEST_SKIP() << "one process: this test runs under `mpirun -n 2` (ctest *_mpi2; needs a build " \
                      "with MPI, LENSFLOW_ENABLE_MPI)";                                                \
  } while (0)
