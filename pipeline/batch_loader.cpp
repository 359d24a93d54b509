// pipeline/batch_loader.cpp — see batch_loader.hpp.
#include "pipeline/batch_loader.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autodiff/tensor.hpp"
#include "core/hash.hpp"
#include "dist/comm.hpp"

namespace lensflow::pipeline {

int64_t batches_per_epoch(int64_t n_samples, int64_t batch_size) {
  if (n_samples < 1) throw std::invalid_argument("batch loader: no samples");
  if (batch_size < 1) throw std::invalid_argument("batch loader: batch size must be >= 1");
  return n_samples < batch_size ? 1 : n_samples / batch_size;
}

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  // The generator seed: splitmix64 stream `epoch` of the seed.
  ad::Generator gen(core::splitmix64(seed + core::kGoldenGamma * static_cast<uint64_t>(epoch)));
  return ad::randperm(n, gen);
}

BatchLoader::BatchLoader(const SampleSource& source, int64_t batch_size, uint64_t seed, int depth, int part,
                         int parts)
    : source_(source),
      batch_size_(std::min(batch_size, source.size())),
      n_batches_(batches_per_epoch(source.size(), batch_size)),
      seed_(seed),
      depth_(depth) {
  if (depth < 1) throw std::invalid_argument("batch loader: depth must be >= 1");
  const dist::Range r = dist::share(batch_size_, part, parts);
  if (r.size() < 1)
    throw std::invalid_argument("batch loader: a batch of " + std::to_string(batch_size_) + " samples cannot be split " +
                                "into " + std::to_string(parts) + " parts (use a batch of at least one sample per process)");
  part_lo_ = r.lo;
  part_hi_ = r.hi;
}

BatchLoader::~BatchLoader() { stop(); }

void BatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lk(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lk(m_);
  queue_.clear();
  error_ = nullptr;
  stopping_ = false;
  done_ = true;
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  if (first_batch < 0 || first_batch > n_batches_)
    throw std::invalid_argument("batch loader: first batch " + std::to_string(first_batch) +
                                " outside [0, " + std::to_string(n_batches_) + "]");
  stop();
  done_ = false;
  worker_ = std::thread([this, epoch, first_batch] { produce(epoch, first_batch); });
}

void BatchLoader::produce(int64_t epoch, int64_t first_batch) {
  try {
    const auto order = epoch_order(source_.size(), seed_, epoch);
    const int64_t L = source_.length(), C = source_.channels(), D = source_.dim();
    for (int64_t b = first_batch; b < n_batches_; ++b) {
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stopping_ || static_cast<int>(queue_.size()) < depth_; });
        if (stopping_) return;
      }
      Batch batch;
      batch.epoch = epoch;
      batch.index = b;
      batch.size = part_size();
      batch.x.resize(static_cast<size_t>(batch.size * L * C));
      batch.theta.resize(static_cast<size_t>(batch.size * D));
      source_.realize(order.data() + b * batch_size_ + part_lo_, batch.size, static_cast<uint64_t>(epoch),
                      batch.x.data(), batch.theta.data());
      std::lock_guard<std::mutex> lk(m_);
      queue_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lk(m_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lk(m_);
  done_ = true;
  cv_.notify_all();
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lk(m_);
  cv_.wait(lk, [&] { return !queue_.empty() || done_; });
  if (queue_.empty()) {
    if (error_) {
      auto e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
    return false;
  }
  out = std::move(queue_.front());
  queue_.pop_front();
  cv_.notify_all();
  return true;
}

}  // namespace lensflow::pipeline
