// core/thread_pool.hpp — the process's worker threads: one persistent pool, and the two ways work
// is split over it. parallel_for (the network's CPU kernels) cuts [0, n) into a few chunks per
// thread; parallel_for_chunks (the lens physics and the simulation) hands out fixed-size chunks
// from a shared counter, so a few expensive items (events near caustics) do not stall one thread.
//
// Several threads may run parallel loops at the same time (the training loop and the batch loader
// do): each call is a job of the pool, its caller works on it too, and idle workers help whichever
// job has chunks left. A loop started from inside a chunk runs serially on that thread. The first
// exception of a chunk is rethrown to the caller once the job's other chunks have stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace lensflow::core {

// Threads of the pool, the caller included (0 = all hardware cores; the default).
void set_num_threads(int n);
int num_threads();
int hardware_threads();  // std::thread::hardware_concurrency(), at least 1

// Runs fn(begin, end) over disjoint chunks covering [0, n), in parallel when n >= 2 * grain.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Runs body(begin, end) over [0, n) in chunks of `chunk` items taken in turn by at most n_threads
// threads of the pool (0 = all of them).
void parallel_for_chunks(std::size_t n, std::size_t chunk, int n_threads,
                         const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace lensflow::core
