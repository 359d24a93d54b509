// pipeline/training_data.hpp — the simulated training set as the trainer sees it: stored
// magnification sequences (io/dataset.hpp) realized on the fly (sim/realization.hpp: random
// window, f_s, S/N, noise, time reversal, preprocessing).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "pipeline/batch_loader.hpp"
#include "sim/priors.hpp"
#include "sim/realization.hpp"

namespace lensflow::pipeline {

// The realization matching a dataset (its prior, sequence length and cadence; window of n_win).
sim::RealizationConfig realization_for(const io::DatasetReader& data, std::size_t n_win = 7200);

// Rows of a dataset realized on the fly: x = the preprocessed window [n_win, 1], θ standardized.
// Sample position p is dataset row rows[p]; its randomness is keyed by (seed, epoch, event index).
class RealizedDataset : public SampleSource {
 public:
  RealizedDataset(const io::DatasetReader& data, std::vector<std::size_t> rows,
                  sim::RealizationConfig cfg, uint64_t seed, int threads = 0);
  int64_t size() const override { return int64_t(rows_.size()); }
  int64_t length() const override { return int64_t(cfg_.n_win); }
  int64_t channels() const override { return 1; }
  int64_t dim() const override { return sim::kThetaDim; }
  void realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x, float* theta) const override;
  // The same plus the physical θ (n × 8, double) and raw photon counts (n × n_win; nullable).
  void realize_full(const int64_t* pos, int64_t n, uint64_t epoch, float* x, float* theta_std,
                    double* theta, float* flux) const;
  std::size_t row(int64_t pos) const { return rows_.at(pos); }
  // The random choices (window, f_s, S/N, reversal) of position pos's realization at `epoch`.
  sim::RealizationDraw draw(int64_t pos, uint64_t epoch) const;
  const sim::RealizationConfig& config() const { return cfg_; }
  // On the GPU: the rows' sequences, events and ids are uploaded once (when they take at most
  // half the free device memory and n_win fits the device realization), then every batch is
  // realized in place by sim::realize_batch_device.
  bool prepare_device() const override;
  void realize_on_device(const int64_t* pos_dev, int64_t n, uint64_t epoch, float* x_dev,
                         float* theta_dev) const override;

 private:
  struct DeviceRows;  // training_data.cpp
  const io::DatasetReader& data_;
  std::vector<std::size_t> rows_;
  sim::RealizationConfig cfg_;
  uint64_t seed_;
  int threads_;
  mutable std::shared_ptr<const DeviceRows> device_;  // set by prepare_device()
  mutable bool device_tried_ = false;
};

}  // namespace lensflow::pipeline
