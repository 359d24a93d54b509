// pipeline/batch_loader.hpp — training batches realized on a background thread while the current
// batch trains (data preparation overlaps compute).
//
// Exact resumption rests on one rule: a batch is a pure function of (seed, epoch, batch index).
// The epoch's sample order is a permutation drawn from a generator keyed by (seed, epoch), and a
// SampleSource realizes a sample from (sample position, epoch) only — never from the order of
// calls — so restarting at batch b of epoch e reproduces exactly the batches of an uninterrupted
// run.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lensflow::pipeline {

// A set of samples realized on demand (e.g. stored magnification sequences plus on-the-fly noise).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual int64_t size() const = 0;      // samples
  virtual int64_t length() const = 0;    // L, points per network input
  virtual int64_t channels() const = 0;  // C, channels per point
  virtual int64_t dim() const = 0;       // D, parameters per sample
  // Realizes the samples at positions pos[0..n) (each in [0, size())) for `epoch`, writing the
  // network input x[n, L, C] and the standardized parameters theta[n, D]. The result must depend
  // only on (pos[i], epoch) — not on n, call order or thread count.
  virtual void realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x,
                       float* theta) const = 0;
  // Optional realization on the GPU, for a model trained there. prepare_device() readies it once
  // (uploads what it needs) and says whether it is available; then realize_on_device() writes
  // the same x and theta as realize() (to float round-off) into DEVICE arrays, for positions given
  // as a DEVICE array, queued on the kernels' stream: no host round trip per batch. By default a
  // source cannot, and batches are realized on the host and copied.
  virtual bool prepare_device() const { return false; }
  virtual void realize_on_device(const int64_t* /*pos_dev*/, int64_t /*n*/, uint64_t /*epoch*/,
                                 float* /*x_dev*/, float* /*theta_dev*/) const {}
};

struct Batch {
  int64_t epoch = 0, index = 0, size = 0;  // size: samples of this part of the batch
  std::vector<float> x, theta;  // [size, L, C], [size, D]
};

// Batches per epoch: size / batch_size (the incomplete last batch is dropped so every step has the
// same size), or 1 batch of all samples when there are fewer than batch_size.
int64_t batches_per_epoch(int64_t n_samples, int64_t batch_size);

// The sample order of `epoch`: a permutation of [0, n) from a generator keyed by (seed, epoch).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

class BatchLoader {
 public:
  // depth: batches realized ahead of the consumer (>= 1). With parts > 1 (data-parallel training,
  // docs/mpi.md) only part `part` of every batch is realized: its samples dist::share(batch_size,
  // part, parts), the same samples whichever process realizes them.
  BatchLoader(const SampleSource& source, int64_t batch_size, uint64_t seed, int depth = 2, int part = 0,
              int parts = 1);
  ~BatchLoader();  // stops and joins the producer
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Starts producing batches first_batch, first_batch + 1, ... of `epoch` (stopping any previous
  // epoch's production).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch in order; false after the epoch's last batch. Rethrows a producer exception.
  bool next(Batch& out);
  int64_t batches() const { return n_batches_; }
  int64_t batch_size() const { return batch_size_; }  // the whole batch (all parts)
  int64_t part_size() const { return part_hi_ - part_lo_; }
  int64_t part_offset() const { return part_lo_; }  // of this part in the batch

 private:
  void stop();
  void produce(int64_t epoch, int64_t first_batch);

  const SampleSource& source_;
  int64_t batch_size_, n_batches_, part_lo_, part_hi_;
  uint64_t seed_;
  int depth_;
  std::thread worker_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stopping_ = false, done_ = true;
};

}  // namespace lensflow::pipeline
