// pipeline/simulate_run.hpp — what `lensflow-simulate` does: the Roman-like 2L1S training set
// (docs/conventions.md §Training set) as HDF5 shard files (layout: io/dataset.hpp).
//
// Prior draw i (0 <= i < n_events) goes to shard i / events_per_shard. Without a shard number every
// shard is simulated; with one only that one, so independent jobs can share the directory with no
// coordination beyond the file system. Each shard is written atomically (a temporary file unique
// to the process, then a rename); a rerun skips shards whose final file is present and valid with
// the same settings, redoes corrupt ones, and refuses a directory holding shards made with other
// settings or of another shard set (another n_events or shard size). A full disk stops the run
// with the shards written so far complete.
//
// Under MPI (dist/comm.hpp, docs/mpi.md) the ranks check the directory together, then take the
// shards of todo() one at a time as they finish the previous one (dist::WorkCounter: the costs of
// shards differ). A shard is a pure function of the settings and its index, so the dataset is the
// one a single process writes, and an interrupted run resumes with any number of ranks.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "sim/simulator.hpp"

namespace lensflow::pipeline {

struct SimulateOptions {
  std::string out;  // output directory (created if missing)
  sim::SimulationConfig config;  // prior, seed, grid, cut, finite-source accuracy
  uint64_t n_events = 0;         // total prior draws over all shards
  uint64_t events_per_shard = 0, num_shards = 0;  // one or neither (default 10000 per shard)
  int64_t shard = -1;            // only this shard (-1: all)
  sim::SimDevice device = sim::SimDevice::cpu;
  int threads = 0;
  std::size_t device_batch = 1024;  // events per device batch
};

struct SimulateReport {
  std::size_t shards_simulated = 0;
  uint64_t run_drawn = 0, run_accepted = 0;  // this run (all ranks)
  double seconds = 0.0;  // the slowest rank's
  uint64_t all_drawn = 0, all_accepted = 0;  // over the shards of the job's range, done before included
};

class SimulateRun {
 public:
  // Checks the options (the lens library's domain included), creates the directory, refuses shards
  // of another dataset and finds the shards to simulate. Throws std::exception naming the problem.
  explicit SimulateRun(SimulateOptions opt);
  const std::vector<uint64_t>& todo() const { return todo_; }               // shards to simulate
  const std::vector<uint64_t>& done_before() const { return done_before_; }  // already complete
  const std::vector<std::string>& redone() const { return redone_; }  // why corrupt shards are redone
  uint64_t todo_events() const;  // events of todo()
  uint64_t share_events() const;  // this process's expected part of them (todo_events() / ranks)
  // Simulates and writes this rank's shards; `on_progress(events this rank has done)` (optional).
  // The report covers every rank (a collective call under MPI).
  SimulateReport run(const sim::SimulationProgress& on_progress = {});

 private:
  SimulateOptions opt_;
  io::DatasetSettings settings_;
  std::vector<uint64_t> todo_, done_before_;
  std::vector<std::string> redone_;
  uint64_t shard_size(uint64_t i) const;
  std::string shard_path(uint64_t i) const;
};

}  // namespace lensflow::pipeline
