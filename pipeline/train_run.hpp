// pipeline/train_run.hpp — what `lensflow-train` does: trains the amortized posterior on a simulated
// training set (docs/conventions.md §Training) into a run directory.
//
// Light curves are realized on the fly (sim/realization.hpp) on a background thread. Every epoch
// writes RUN_DIR/checkpoint.h5 and RUN_DIR/log.csv (pipeline/trainer.hpp); running the same options
// again after an interruption (Ctrl-C, max_minutes, a crash) continues from the last checkpoint and
// reproduces the uninterrupted run. RUN_DIR/setup.h5 (io/run_setup.hpp) records the prior and the
// realization for inference. A run directory that is the training-set directory (or whose files
// are shards) is refused, and so is a run directory started with another prior, seed or split; a
// full disk stops the run with an error, the last checkpoint intact.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pipeline/trainer.hpp"

namespace lensflow::pipeline {

struct TrainRunOptions {
  std::string data;  // training-set directory (shards written by lensflow-simulate)
  std::string out;   // run directory
  std::string config = "small", device = "cpu";  // pipeline/model_configs.hpp; cpu or cuda
  int64_t epochs = 20, batch = 512;
  double lr = 1e-3, clip = 5.0, val_fraction = 0.1, test_fraction = 0.05, max_minutes = 0.0;
  int threads = 0, prefetch = 2;
  uint64_t seed = 0;
  const std::atomic<bool>* stop_flag = nullptr;  // set (e.g. by SIGINT) to stop with a checkpoint
};

class TrainRun {
 public:
  // Checks the options and the run directory against the data, opens the training set, splits it,
  // builds (or resumes) the trainer and writes RUN_DIR/setup.h5. Throws std::exception naming the
  // problem.
  explicit TrainRun(TrainRunOptions opt);
  ~TrainRun();
  std::size_t n_train() const;
  std::size_t n_validation() const;
  std::size_t n_missing_shards() const;
  const Trainer& trainer() const;
  // Trains (pipeline/trainer.hpp: Trainer::run).
  TrainOutcome run(const std::function<void(const StepInfo&)>& on_step = {},
                   const std::function<void(const EpochRecord&)>& on_epoch = {});

 private:
  struct State;  // train_run.cpp
  TrainRunOptions opt_;
  std::unique_ptr<State> s_;
};

}  // namespace lensflow::pipeline
