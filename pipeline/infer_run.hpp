// pipeline/infer_run.hpp — what `lensflow-infer` does: posterior samples for the test split of a
// training set or for a file of light curves, optionally refined with the exact likelihood,
// written to a posterior file (io/posterior_file.hpp) and a summary CSV (per event and parameter:
// median, p16, p84, modes).
//
// The prior, the standardization and the realization come from RUN_DIR/setup.h5 beside the
// checkpoint. An output that is (or resolves to) the checkpoint, its setup.h5, the input file or a
// test-set shard is refused before any work. Both outputs are written under unique temporary
// names and renamed together at the end, so a failure (disk full, a directory in the way) leaves
// the previous files untouched. Events are sampled, refined and written in blocks of at most 2^16
// samples, so memory does not grow with the number of events; one event's samples are drawn
// together, so n_samples is limited to 10^5.
//
// Under MPI (docs/mpi.md) the processes share the blocks of events (block j to process j mod
// size); process 0 receives them in order and alone writes the outputs, which are the ones a single
// process writes (each block is computed by the same code on the same events).
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

namespace lensflow::pipeline {

struct InferOptions {
  std::string model;     // RUN_DIR/checkpoint.h5, or a run/model directory (io::model_checkpoint_path)
  std::string test_set;  // training-set directory (its test split, or every event: split), or
  std::string input;     // light curves: .h5 / .csv / .npy (io/observed_io.hpp)
  std::string out;       // posterior file; the summary CSV goes beside it
  std::string device = "cpu";
  std::string refine;       // "", "is" or "mcmc"
  std::string nan = "error";  // missing points in `input`: error or interpolate
  std::string split = "test";  // test_set rows: "test" (the run's test split) or "all" (a fresh set)
  int64_t n_samples = 1000, batch = 64, max_events = 0, store_flux = 16;
  int max_redraws = 10, threads = 0;
  std::size_t mcmc_steps = 0;  // 0: refine's default
  uint64_t seed = 0;
};

struct InferReport {
  int64_t n_events = 0, n_samples = 0;
  double seconds = 0.0;          // sampling (refinement excluded)
  double mean_acceptance = 0.0;
  int64_t short_events = 0;      // events with fewer than n_samples samples inside the prior
  int64_t with_missing = 0;      // input events with interpolated points
  bool has_test_nll = false;
  double test_nll = 0.0;         // standardized θ, comparable to the training log
  std::string out, summary;      // the files written
};

// "OUT.h5" -> "OUT_summary.csv".
std::string summary_path_for(const std::string& out);

class InferRun {
 public:
  // Checks the options and the outputs against the inputs, loads the model and the events, and
  // creates the (temporary) posterior file. Throws std::exception naming the problem.
  explicit InferRun(InferOptions opt);
  ~InferRun();
  int64_t n_events() const;
  // Samples (and refines) every event, writes both outputs and commits them. `progress` (nullable)
  // receives a progress bar. Collective under MPI; the report is process 0's.
  InferReport run(std::ostream* progress = nullptr);

 private:
  struct State;  // infer_run.cpp
  InferOptions opt_;
  std::unique_ptr<State> s_;
};

}  // namespace lensflow::pipeline
