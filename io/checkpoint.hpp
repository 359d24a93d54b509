// io/checkpoint.hpp — save/load a nn::PosteriorModel, its nn::Adam state and the training state to one
// HDF5 file (written atomically through io::H5Writer), so that training resumes exactly.
//
// Layout (plain HDF5, readable with h5py):
//   attrs on "/":  format = "lensflow-checkpoint", format_version = 1,
//                  every config field ("featurizer.n_blocks", "flow.dim", "flow.clamp",
//                  "init_seed", ...), training state ("train.epoch", "train.step",
//                  "train.total_steps", "train.lr0", "train.lr_min", "train.best_val_loss"),
//                  nn::Adam settings ("adam.step", "adam.lr", "adam.beta1", ...; present when saved
//                  with an optimizer, flagged by "adam.present" = 1).
//   /params/<name>      one dataset per parameter, the parameter's shape (names as
//                        nn::Module::named_parameters, e.g. "flow.blocks.0.made.l0.weight")
//   /orderings          int64 [n_blocks + 1, D]: degree of each dimension per flow block, then
//                        the base's
//   /adam/m/<name>, /adam/v/<name>   nn::Adam moments (when saved with an optimizer)
//   /train/rng          int64 [n, 2]: (seed, offset) of each training generator (when any)
//   /train/history      float64 [n]: free-form per-epoch record kept by the trainer (when any)
// Loading checks the format, the version, the configuration (field by field), every parameter's
// presence, shape and finiteness (a NaN or Inf value is refused, naming the dataset) and the
// orderings; any mismatch, a truncated or a foreign file throws std::runtime_error naming the file
// and the problem. The model is untouched on failure.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn/adam.hpp"
#include "nn/posterior_model.hpp"

namespace lensflow::io {

inline constexpr int64_t kCheckpointVersion = 1;

struct RngState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

struct TrainState {
  int64_t epoch = 0;        // epochs completed
  int64_t step = 0;         // optimizer steps completed
  int64_t total_steps = 0;  // scheduler length
  double lr0 = 1e-3;        // scheduler start
  double lr_min = 0.0;      // scheduler end
  double best_val_loss = std::numeric_limits<double>::infinity();
  std::vector<RngState> rngs;    // generators to restore (shuffling, noise, ...)
  std::vector<double> history;   // trainer-defined per-epoch record
};

// Writes `path` atomically. `adam` may be null (an inference-only file).
void save_checkpoint(const std::string& path, const nn::PosteriorModel& model, const nn::Adam* adam,
                     const TrainState& state);

// The configuration stored in a checkpoint (to build the model before load_checkpoint).
nn::PosteriorConfig read_checkpoint_config(const std::string& path);

// Loads parameters into `model` (whose config must equal the file's), and, when given, the nn::Adam
// state into `adam` (the file must hold one) and the training state into `state`.
void load_checkpoint(const std::string& path, nn::PosteriorModel& model, nn::Adam* adam = nullptr,
                     TrainState* state = nullptr);

}  // namespace lensflow::io
