// io/run_setup.hpp — the run setup file RUN_DIR/setup.h5, written by `lensflow-train` beside
// checkpoint.h5 and read by `lensflow-infer`: what inference needs to undo the standardization and
// realize test events as in training.
//
// Attributes on "/": format = "lensflow-run-setup", prior (18 values, io/prior_fields.hpp),
// theta_mean and theta_std (8 each: the standardization), n_seq, n_win, dt, t0_seq, snr_min,
// snr_max, time_reversal, seed (realization seed), test_fraction, validation_fraction, split_salt,
// dataset (path used for training).
#pragma once

#include <cstdint>
#include <string>

#include "io/dataset.hpp"
#include "sim/realization.hpp"

namespace lensflow::io {

struct RunSetup {
  sim::RealizationConfig realization;
  uint64_t seed = 0;
  SplitOptions split;
  std::string dataset;
};
void write_run_setup(const std::string& path, const RunSetup& s);
RunSetup read_run_setup(const std::string& path);  // std::runtime_error naming the file
// RUN_DIR/setup.h5 for a checkpoint path RUN_DIR/checkpoint.h5 (any file name in RUN_DIR).
std::string run_setup_path_for(const std::string& checkpoint_path);
// The checkpoint a `--model` argument names: a file as given, or for a run or model directory its
// best.h5 (the best validation loss) when present, else its checkpoint.h5. Throws
// std::runtime_error when the path does not exist or a directory holds neither.
std::string model_checkpoint_path(const std::string& model);

}  // namespace lensflow::io
