// dist/comm.hpp — the processes of one run (docs/mpi.md): rank, size and the few collectives the
// pipeline needs, over MPI when the program was started by an MPI launcher (mpirun, srun) and the
// build has MPI (LENSFLOW_ENABLE_MPI), otherwise one process of size 1 whose collectives are
// no-ops. Pipeline code calls dist::world() and never tests for MPI itself.
//
// Every collective must be called by every rank in the same order. A rank that fails cannot leave
// the others waiting in a collective: the programs call abort() after printing the error, which
// ends every rank (MPI_Abort).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lensflow::dist {

// Starts MPI (MPI_Init_thread, funneled: only the main thread communicates) when the program runs
// under an MPI launcher, and finalizes it when destroyed. One per program, first thing in main().
// On a CUDA build with several visible GPUs, each rank of a node takes GPU (local rank mod count).
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

class Comm {
 public:
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // In place, element-wise over the ranks; every rank gets the same result.
  void allreduce_sum(float* v, std::size_t n) const;
  void allreduce_sum(double* v, std::size_t n) const;
  void allreduce_sum(int64_t* v, std::size_t n) const;
  void allreduce_max(double* v, std::size_t n) const;
  // Same as allreduce_sum(float*) on a DEVICE array queued on `stream` (a cudaStream_t) with NCCL;
  // only when device_allreduce() (a CUDA build with NCCL, or one rank). Otherwise the caller stages
  // the array through the host.
  bool device_allreduce() const;
  void allreduce_sum_device(float* v_dev, std::size_t n, void* stream) const;
  void barrier() const;
  // root's bytes to every rank (resized on the receivers).
  void broadcast(std::vector<char>& bytes, int root) const;
  // Point to point (tag >= 0); recv sizes the buffer to what was sent.
  void send(const std::vector<char>& bytes, int dest, int tag) const;
  std::vector<char> recv(int source, int tag) const;
  // Ends every rank with exit status `code` (MPI_Abort), or this process when there is one.
  [[noreturn]] void abort(int code) const;

 private:
  friend class Environment;
  int rank_ = 0, size_ = 1;
};

// Work shared as it comes: next() hands out 0, 1, 2, ... over all the processes of `comm`, each
// number to exactly one of them (MPI one-sided fetch-and-add on rank 0's memory), so a process that
// finishes early takes more. Construction and destruction are collective (the destructor skips the
// collective while an exception unwinds: the program is then ending every process anyway).
class WorkCounter {
 public:
  explicit WorkCounter(const Comm& comm);
  ~WorkCounter();
  WorkCounter(const WorkCounter&) = delete;
  WorkCounter& operator=(const WorkCounter&) = delete;
  int64_t next();

 private:
  struct Window;  // comm.cpp
  const Comm& comm_;
  int64_t local_ = 0;  // one process: the counter itself
  Window* win_ = nullptr;
};

// The processes of this run (size 1 before Environment starts MPI, or without MPI).
const Comm& world();
// This process alone (size 1), e.g. for a single-process reference inside a parallel run.
const Comm& self();

// A program's error: prints "PROGRAM: error: MESSAGE" to stderr and returns 1 (the exit status) in
// a single process; under MPI prints "PROGRAM: error (rank r of n): MESSAGE" and ends every rank.
int fail(const char* program, const std::string& message);

// The share of `n` items rank `rank` of `size` takes: items [lo, hi), contiguous, sizes differing
// by at most one (the first n % size ranks take one more).
struct Range {
  int64_t lo = 0, hi = 0;
  int64_t size() const { return hi - lo; }
};
Range share(int64_t n, int rank, int size);

}  // namespace lensflow::dist
