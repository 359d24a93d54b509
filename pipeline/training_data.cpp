// pipeline/training_data.cpp — see training_data.hpp.
#include "pipeline/training_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "io/prior_fields.hpp"
#include "kernels/device.hpp"

namespace lensflow::pipeline {

sim::RealizationConfig realization_for(const io::DatasetReader& data, std::size_t n_win) {
  sim::RealizationConfig c;
  c.prior = io::prior_from_attr(data.settings().prior);
  c.n_seq = data.n_t();
  c.n_win = n_win;
  c.dt = data.settings().dt;
  c.t0_seq = data.settings().t0_sim;
  sim::validate_realization_config(c);
  return c;
}

RealizedDataset::RealizedDataset(const io::DatasetReader& data, std::vector<std::size_t> rows,
                                 sim::RealizationConfig cfg, uint64_t seed, int threads)
    : data_(data), rows_(std::move(rows)), cfg_(cfg), seed_(seed), threads_(threads) {
  sim::validate_realization_config(cfg_);
  if (cfg_.n_seq != data_.n_t())
    throw std::invalid_argument("RealizedDataset: realization expects sequences of " +
                                std::to_string(cfg_.n_seq) + " points, the dataset holds " +
                                std::to_string(data_.n_t()));
  for (std::size_t r : rows_)
    if (r >= data_.size()) throw std::invalid_argument("RealizedDataset: row out of range");
}

void RealizedDataset::realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x,
                              float* theta) const {
  realize_full(pos, n, epoch, x, theta, nullptr, nullptr);
}

void RealizedDataset::realize_full(const int64_t* pos, int64_t n, uint64_t epoch, float* x,
                                   float* theta_std, double* theta, float* flux) const {
  std::vector<std::size_t> rows(n);
  std::vector<lens::EventParams> ev(n);
  std::vector<std::uint64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) {
    rows[i] = rows_.at(pos[i]);
    const double* t = data_.theta_raw(rows[i]);  // s, q, alpha, u0, t0, tE, rho
    ev[i] = lens::EventParams{t[0], t[1], t[2], t[3], t[4], t[5], t[6]};
    ids[i] = std::uint64_t(data_.event_index(rows[i]));
  }
  std::vector<float> mag(std::size_t(n) * cfg_.n_seq);
  data_.read_mag_rows(rows.data(), rows.size(), mag.data());
  sim::realize_batch_host(cfg_, mag.data(), ev.data(), ids.data(), std::size_t(n), seed_, epoch, x,
                           theta_std, theta, flux, threads_);
}

sim::RealizationDraw RealizedDataset::draw(int64_t pos, uint64_t epoch) const {
  return sim::realization_draw(cfg_, seed_, epoch, std::uint64_t(data_.event_index(rows_.at(pos))));
}

// The rows of a RealizedDataset on the GPU, in position order (position p is row p here).
struct RealizedDataset::DeviceRows {
  void* mag = nullptr;  // size() × n_seq float
  void* ev = nullptr;   // size() EventParams
  void* ids = nullptr;  // size() uint64
  DeviceRows() = default;
  DeviceRows(const DeviceRows&) = delete;
  DeviceRows& operator=(const DeviceRows&) = delete;
  ~DeviceRows() {
    for (void* p : {mag, ev, ids})
      if (p) kernels::device_free(p);
  }
};

bool RealizedDataset::prepare_device() const {
  if (device_tried_) return device_ != nullptr;
  device_tried_ = true;
  if (!kernels::cuda_device_available() || rows_.empty() || cfg_.n_win > sim::kDeviceMaxWindow) return false;
  const std::size_t n = rows_.size(), n_seq = cfg_.n_seq;
  const std::size_t bytes = n * (n_seq * sizeof(float) + sizeof(lens::EventParams) + sizeof(std::uint64_t));
  const std::size_t free_b = kernels::device_free_bytes();
  if (bytes > free_b / 2) {
    std::fprintf(stderr,
                 "training data: %zu samples need %.2f GB on the GPU, %.2f GB free: realizing batches on the "
                 "CPU instead\n",
                 n, double(bytes) * 1e-9, double(free_b) * 1e-9);
    return false;
  }
  auto d = std::make_shared<DeviceRows>();
  d->mag = kernels::device_alloc(n * n_seq * sizeof(float));
  d->ev = kernels::device_alloc(n * sizeof(lens::EventParams));
  d->ids = kernels::device_alloc(n * sizeof(std::uint64_t));
  std::vector<lens::EventParams> ev(n);
  std::vector<std::uint64_t> ids(n);
  for (std::size_t p = 0; p < n; ++p) {
    const double* t = data_.theta_raw(rows_[p]);  // s, q, alpha, u0, t0, tE, rho
    ev[p] = lens::EventParams{t[0], t[1], t[2], t[3], t[4], t[5], t[6]};
    ids[p] = std::uint64_t(data_.event_index(rows_[p]));
  }
  kernels::copy_host_to_device(d->ev, ev.data(), n * sizeof(lens::EventParams));
  kernels::copy_host_to_device(d->ids, ids.data(), n * sizeof(std::uint64_t));
  // Sequences in slices of rows: host memory stays bounded (64 MiB-ish), not the whole set.
  const std::size_t slice = std::max<std::size_t>(1, (std::size_t(64) << 20) / (n_seq * sizeof(float)));
  std::vector<float> mag(std::min(n, slice) * n_seq);
  for (std::size_t p0 = 0; p0 < n; p0 += slice) {
    const std::size_t m = std::min(slice, n - p0);
    data_.read_mag_rows(rows_.data() + p0, m, mag.data());
    for (std::size_t i = 0; i < m * n_seq; ++i)
      if (!(std::isfinite(mag[i]) && mag[i] > 0.0f))
        throw std::invalid_argument("RealizedDataset: dataset row " + std::to_string(rows_[p0 + i / n_seq]) +
                                    " holds a non-finite or non-positive magnification");
    kernels::copy_host_to_device(static_cast<float*>(d->mag) + p0 * n_seq, mag.data(), m * n_seq * sizeof(float));
  }
  device_ = std::move(d);
  return true;
}

void RealizedDataset::realize_on_device(const int64_t* pos_dev, int64_t n, uint64_t epoch, float* x_dev,
                                        float* theta_dev) const {
  if (!prepare_device())
    throw std::logic_error("RealizedDataset::realize_on_device: the device realization is not available");
  sim::realize_batch_device(cfg_, static_cast<const float*>(device_->mag),
                             static_cast<const lens::EventParams*>(device_->ev),
                             static_cast<const std::uint64_t*>(device_->ids), std::size_t(n), seed_, epoch, x_dev,
                             theta_dev, nullptr, nullptr, kernels::device_stream(), pos_dev);
}

}  // namespace lensflow::pipeline
