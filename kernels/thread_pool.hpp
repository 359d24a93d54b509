// kernels/thread_pool.hpp — the CPU twins' threads: a small persistent pool with parallel_for.
#pragma once

#include <cstdint>
#include <functional>

namespace lensflow::kernels {

// Number of worker threads used by parallel_for (0 = all hardware cores). GEMMs are split over the
// same threads; OpenBLAS itself is kept single-threaded.
void set_num_threads(int n);
int num_threads();

// Runs fn(begin, end) over disjoint chunks covering [0, n), in parallel when n >= 2 * grain.
// Nested calls (from inside a chunk) run serially on the calling thread. Exceptions thrown by a
// chunk are rethrown on the caller.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lensflow::kernels
