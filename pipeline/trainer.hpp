// pipeline/trainer.hpp — the training loop (docs/conventions.md §Training): Adam, cosine annealing
// to lr_min over all steps, global gradient-norm clipping, validation NLL each epoch, a checkpoint
// each epoch, and exact resumption after an interruption.
//
// Run directory:
//   checkpoint.h5  the latest state (model, Adam, training state), written atomically at the end of
//                  every epoch and when a run stops early (time budget, step budget, stop flag);
//   best.h5        the model (no optimizer) with the lowest validation NLL so far, its history
//                  up to that epoch;
//   log.csv        one row per completed epoch: epoch,train_nll,val_nll,lr,seconds (rewritten
//                  atomically from the checkpoint's history, so it always matches it: it is staged
//                  before the checkpoint is replaced and renamed right after).
// Every file is written under a unique temporary name and renamed (core/atomic_file.hpp); a run
// starts by removing the temporary files of killed runs in the directory.
// Exactness: batch b of epoch e is a pure function of (seed, e, b) (pipeline/batch_loader.hpp) and
// no other random state is used, so a run resumed from any checkpoint — also one written in the
// middle of an epoch — performs the same steps on the same batches as an uninterrupted run and
// reproduces its loss trajectory (bit for bit on the same device and thread count).
// The checkpoint's TrainState.history holds 5 values per completed epoch (epoch, train_nll,
// val_nll, lr, seconds) followed by 4 for the epoch in progress (sum of its finite step losses, the
// number of those, its steps done, its seconds so far) and, for a run of several processes, their
// number.
//
// Under MPI (docs/mpi.md) the processes train one model data-parallel: process r realizes part r
// of every batch (dist::share), its mean loss weighted by its share of the batch; the gradients are
// summed over the processes before clipping, so every process takes the same Adam step, and the
// loss trajectory is the single process's up to float reassociation. Process 0 writes the files;
// a checkpoint resumes only with the number of processes that wrote it. train_nll is the mean step loss of the epoch
// (steps with a non-finite loss or gradient skip the update and are left out of the mean).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "dist/comm.hpp"
#include "nn/posterior_model.hpp"
#include "pipeline/batch_loader.hpp"

namespace lensflow::pipeline {

struct TrainerOptions {
  int64_t epochs = 250;
  int64_t batch_size = 512;
  double lr = 1e-3, lr_min = 0.0;  // cosine from lr to lr_min over epochs × batches_per_epoch
  double clip = 5.0;               // global gradient-norm bound (<= 0: no clipping)
  ad::Device device = ad::Device::CPU;
  uint64_t seed = 0;               // batch order (realization randomness is the source's)
  double max_minutes = 0.0;        // > 0: stop (with a checkpoint) once this much time has passed
  int64_t max_steps = 0;           // > 0: stop (with a checkpoint) after this many steps in this run
  int prefetch = 2;                // batches realized ahead on the loader thread
  int64_t eval_batch = 256;        // validation batch size
  const std::atomic<bool>* stop_flag = nullptr;  // set (e.g. by SIGINT) to stop with a checkpoint
  const dist::Comm* comm = nullptr;  // the processes training together (null: dist::world())
};

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double train_nll = 0.0, val_nll = 0.0, lr = 0.0, seconds = 0.0;
};

struct StepInfo {
  int64_t epoch = 0, batch = 0, batches_per_epoch = 0, step = 0, total_steps = 0;
  double loss = 0.0, lr = 0.0, grad_norm = 0.0, seconds = 0.0;  // seconds since this run began
};

struct TrainOutcome {
  bool completed = false;             // every epoch done
  bool resumed = false;               // continued from run_dir/checkpoint.h5
  int64_t start_step = 0, end_step = 0, total_steps = 0;
  int64_t skipped_steps = 0;          // non-finite loss or gradient: update skipped
  std::vector<double> step_losses;    // the losses of the steps run in this call, in order
  std::vector<EpochRecord> history;   // every completed epoch (also those before a resume)
  std::string stop_reason;            // empty when completed
};

class Trainer {
 public:
  // `val` may be null (no validation: val_nll is NaN). Resumes from run_dir/checkpoint.h5 when it
  // exists; its configuration, seed, batch size, epochs and learning-rate schedule must then equal
  // the requested ones (std::runtime_error naming the difference otherwise).
  Trainer(const nn::PosteriorConfig& cfg, const SampleSource& train, const SampleSource* val,
          TrainerOptions opt, std::string run_dir);
  ~Trainer();

  TrainOutcome run(const std::function<void(const StepInfo&)>& on_step = {},
                   const std::function<void(const EpochRecord&)>& on_epoch = {});

  const nn::PosteriorModel& model() const { return *model_; }
  int64_t batches_per_epoch() const { return n_batches_; }
  std::string checkpoint_path() const { return run_dir_ + "/checkpoint.h5"; }

 private:
  nn::PosteriorConfig cfg_;
  const SampleSource& train_;
  const SampleSource* val_;
  TrainerOptions opt_;
  std::string run_dir_;
  int64_t n_batches_ = 0;
  std::unique_ptr<nn::PosteriorModel> model_;
};

// Mean NLL (−log q(θ|x), standardized θ) of a model over a whole source, realized at `epoch`, in
// batches, without autograd. With `comm` (collective) the processes share the batches.
double mean_nll(const nn::PosteriorModel& model, const SampleSource& source, int64_t batch,
                uint64_t epoch = 0, const dist::Comm* comm = nullptr);

}  // namespace lensflow::pipeline
