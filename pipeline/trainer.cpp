// pipeline/trainer.cpp — see trainer.hpp.
#include "pipeline/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "dist/comm.hpp"
#include "io/checkpoint.hpp"
#include "kernels/device.hpp"
#include "nn/adam.hpp"
#include "nn/grad_clip.hpp"
#include "nn/schedule.hpp"
#include "pipeline/grad_allreduce.hpp"

namespace lensflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kEpochFields = 5;    // epoch, train_nll, val_nll, lr, seconds
constexpr int kPartialFields = 4;  // loss sum, finite-loss steps, steps, seconds (epoch in progress)
// A data-parallel run appends its number of processes after them (a single process writes none,
// so its files are those of a trainer without MPI).

// The epoch in progress.
struct Partial {
  double loss_sum = 0.0;    // over the steps with a finite loss
  int64_t finite = 0;       // steps with a finite loss
  int64_t steps = 0;        // steps done (= the next batch index)
  double seconds = 0.0;     // before this run
};

std::vector<double> pack_history(const std::vector<EpochRecord>& h, const Partial& p,
                                 double seconds, int ranks) {
  std::vector<double> v;
  for (const auto& r : h) v.insert(v.end(), {double(r.epoch), r.train_nll, r.val_nll, r.lr, r.seconds});
  v.insert(v.end(), {p.loss_sum, double(p.finite), double(p.steps), seconds});
  if (ranks > 1) v.push_back(double(ranks));
  return v;
}

// Returns the number of processes that wrote the history.
int unpack_history(const std::string& path, std::vector<double> v, std::vector<EpochRecord>& h, Partial& p) {
  int ranks = 1;
  if (v.size() > kPartialFields && (v.size() - kPartialFields) % kEpochFields == 1) {
    ranks = int(v.back());
    v.pop_back();
    if (ranks < 2) throw std::runtime_error(path + ": training history ends with an invalid number of processes");
  }
  if (v.size() < kPartialFields || (v.size() - kPartialFields) % kEpochFields != 0)
    throw std::runtime_error(path + ": training history has " + std::to_string(v.size()) +
                             " values, not 5 per epoch + 4 (+ 1, the number of processes, when more than one; not "
                             "written by this trainer?)");
  h.clear();
  const size_t n = (v.size() - kPartialFields) / kEpochFields;
  for (size_t i = 0; i < n; ++i) {
    const double* r = v.data() + i * kEpochFields;
    h.push_back({int64_t(r[0]), r[1], r[2], r[3], r[4]});
  }
  const double* r = v.data() + n * kEpochFields;
  p = Partial{r[0], int64_t(r[1]), int64_t(r[2]), r[3]};
  return ranks;
}

// Positions uploaded for one device batch (queued, no synchronization; freed stream-ordered).
class DevicePositions {
 public:
  DevicePositions(const int64_t* pos, int64_t n)
      : p_(kernels::device_alloc(size_t(n) * sizeof(int64_t))) {
    kernels::copy_host_to_device_async(p_, pos, size_t(n) * sizeof(int64_t));
  }
  ~DevicePositions() { kernels::device_free(p_); }
  DevicePositions(const DevicePositions&) = delete;
  DevicePositions& operator=(const DevicePositions&) = delete;
  const int64_t* get() const { return static_cast<const int64_t*>(p_); }

 private:
  void* p_;
};

// The batches of an epoch as tensors on the training device. With the model on the GPU and a
// source that can realize there, each batch is realized in place on the device (the positions go
// up asynchronously: no host round trip per step); otherwise the BatchLoader realizes them on a
// CPU thread and they are copied. Batch b of epoch e is the same slice of the same order either way.
// In data-parallel training each process takes its part of every batch (BatchLoader).
class EpochBatches {
 public:
  EpochBatches(const SampleSource& src, int64_t batch_size, uint64_t seed, int prefetch, ad::Device dev,
               int part, int parts)
      : src_(src),
        seed_(seed),
        dev_(dev),
        on_device_(dev == ad::Device::CUDA && src.prepare_device()),
        loader_(src, batch_size, seed, prefetch, part, parts),
        B_(loader_.part_size()),
        n_batches_(loader_.batches()) {}

  void start_epoch(int64_t epoch, int64_t first_batch) {
    epoch_ = epoch;
    next_ = first_batch;
    if (on_device_)
      order_ = epoch_order(src_.size(), seed_, epoch);
    else
      loader_.start_epoch(epoch, first_batch);
  }

  // The next batch (x [B, L, C], theta [B, D]) and its index; false after the epoch's last.
  bool next(ad::Tensor& x, ad::Tensor& theta, int64_t& index) {
    const int64_t L = src_.length(), C = src_.channels(), D = src_.dim();
    if (on_device_) {
      if (next_ >= n_batches_) return false;
      x = ad::Tensor::empty({B_, L, C}, ad::DType::F32, dev_);
      theta = ad::Tensor::empty({B_, D}, ad::DType::F32, dev_);
      const DevicePositions pos(order_.data() + next_ * loader_.batch_size() + loader_.part_offset(), B_);
      src_.realize_on_device(pos.get(), B_, uint64_t(epoch_), x.data<float>(), theta.data<float>());
      index = next_++;
      return true;
    }
    Batch batch;
    if (!loader_.next(batch)) return false;
    x = ad::Tensor::from_vector(batch.x, {B_, L, C}, dev_);
    theta = ad::Tensor::from_vector(batch.theta, {B_, D}, dev_);
    index = batch.index;
    return true;
  }

 private:
  const SampleSource& src_;
  uint64_t seed_;
  ad::Device dev_;
  bool on_device_;
  BatchLoader loader_;  // idle when on_device_
  int64_t B_, n_batches_;  // B_: samples of this process's part
  int64_t epoch_ = 0, next_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace

double mean_nll(const nn::PosteriorModel& model, const SampleSource& src, int64_t batch,
                uint64_t epoch, const dist::Comm* comm) {
  if (batch < 1) throw std::invalid_argument("mean_nll: batch must be >= 1");
  ad::NoGradGuard ng;
  const int64_t n = src.size(), L = src.length(), C = src.channels(), D = src.dim();
  double sum = 0.0;
  std::vector<int64_t> pos;
  const auto dev = model.device();
  const bool on_device = dev == ad::Device::CUDA && src.prepare_device();
  const int64_t stride = comm ? int64_t(comm->size()) * batch : batch;
  for (int64_t b = comm ? int64_t(comm->rank()) * batch : 0; b < n; b += stride) {
    const int64_t m = std::min(batch, n - b);
    pos.resize(m);
    for (int64_t i = 0; i < m; ++i) pos[i] = b + i;
    ad::Tensor x, th;
    if (on_device) {
      x = ad::Tensor::empty({m, L, C}, ad::DType::F32, dev);
      th = ad::Tensor::empty({m, D}, ad::DType::F32, dev);
      const DevicePositions p(pos.data(), m);
      src.realize_on_device(p.get(), m, epoch, x.data<float>(), th.data<float>());
    } else {
      std::vector<float> xv(m * L * C), tv(m * D);
      src.realize(pos.data(), m, epoch, xv.data(), tv.data());
      x = ad::Tensor::from_vector(xv, {m, L, C}, dev);
      th = ad::Tensor::from_vector(tv, {m, D}, dev);
    }
    const ad::Tensor lp = model.log_prob(x, th);
    for (float v : lp.to_f32()) sum -= v;
  }
  if (comm) comm->allreduce_sum(&sum, 1);
  return sum / double(n);
}

namespace {

// The per-epoch CSV log: header epoch,train_nll,val_nll,lr,seconds, one row per completed epoch.
void format_epoch_log(std::ostream& f, const std::vector<EpochRecord>& history) {
  f << "epoch,train_nll,val_nll,lr,seconds\n" << std::setprecision(9);
  for (const auto& r : history)
    f << r.epoch << ',' << r.train_nll << ',' << r.val_nll << ',' << r.lr << ',' << r.seconds << '\n';
}

}  // namespace

Trainer::Trainer(const nn::PosteriorConfig& cfg, const SampleSource& train, const SampleSource* val,
                 TrainerOptions opt, std::string run_dir)
    : cfg_(cfg), train_(train), val_(val), opt_(opt), run_dir_(std::move(run_dir)) {
  cfg_.validate();
  if (opt_.epochs < 1) throw std::invalid_argument("trainer: epochs must be >= 1");
  if (!(opt_.lr > 0.0) || opt_.lr_min < 0.0 || opt_.lr_min > opt_.lr)
    throw std::invalid_argument("trainer: need lr > 0 and 0 <= lr_min <= lr");
  // NaN would silently turn clipping off (every comparison with it is false).
  if (std::isnan(opt_.clip)) throw std::invalid_argument("trainer: the clipping bound is NaN");
  const auto check_source = [&](const SampleSource& s, const char* what) {
    if (s.length() != cfg_.featurizer.length || s.channels() != cfg_.featurizer.in_channels ||
        s.dim() != cfg_.flow.dim)
      throw std::invalid_argument(std::string("trainer: the ") + what + " samples are [" +
                                  std::to_string(s.length()) + " x " + std::to_string(s.channels()) +
                                  "] -> " + std::to_string(s.dim()) + " parameters but the model expects [" +
                                  std::to_string(cfg_.featurizer.length) + " x " +
                                  std::to_string(cfg_.featurizer.in_channels) + "] -> " +
                                  std::to_string(cfg_.flow.dim));
  };
  check_source(train_, "training");
  if (val_ && val_->size() > 0) check_source(*val_, "validation");
  n_batches_ = pipeline::batches_per_epoch(train_.size(), opt_.batch_size);
  model_ = std::make_unique<nn::PosteriorModel>(cfg_);
  model_->to(opt_.device);
}

Trainer::~Trainer() = default;

TrainOutcome Trainer::run(const std::function<void(const StepInfo&)>& on_step,
                          const std::function<void(const EpochRecord&)>& on_epoch) {
  // Data parallel (docs/mpi.md): each process realizes its part of every batch, the gradients are
  // summed over the processes and every process takes the same step; process 0 writes the files.
  const dist::Comm& comm = opt_.comm ? *opt_.comm : dist::world();
  const bool writer = comm.is_root();
  core::make_dirs(run_dir_);
  // Temporary files of runs killed while writing (SIGKILL, power loss) go now, whether or not
  // their target is written again soon.
  if (writer)
    for (const char* name : {"checkpoint.h5", "best.h5", "log.csv"}) core::remove_stale_temps(run_dir_ + "/" + name);
  const auto t_begin = Clock::now();
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const int64_t total = opt_.epochs * n_batches_;
  nn::Adam adam(model_->parameters(), nn::AdamOptions{opt_.lr});
  const nn::CosineSchedule sched(opt_.lr, total, opt_.lr_min);

  TrainOutcome out;
  out.total_steps = total;
  io::TrainState st;
  Partial part;
  const std::string ckpt = checkpoint_path();
  if (core::path_exists(ckpt)) {
    const nn::PosteriorConfig saved = io::read_checkpoint_config(ckpt);
    if (saved != cfg_)
      throw std::runtime_error(ckpt + ": holds a different model configuration; use another --out "
                               "directory or the same --config");
    io::load_checkpoint(ckpt, *model_, &adam, &st);
    const auto mismatch = [&](const std::string& what, double a, double b) {
      throw std::runtime_error(ckpt + ": was trained with " + what + " " + std::to_string(a) +
                               ", this run asks for " + std::to_string(b) +
                               " (exact resumption needs the same settings)");
    };
    if (st.total_steps != total) mismatch("total steps (epochs x batches)", double(st.total_steps), double(total));
    if (st.lr0 != opt_.lr) mismatch("lr", st.lr0, opt_.lr);
    if (st.lr_min != opt_.lr_min) mismatch("lr_min", st.lr_min, opt_.lr_min);
    if (st.rngs.size() != 1 || st.rngs[0].seed != opt_.seed)
      mismatch("seed", st.rngs.empty() ? -1.0 : double(st.rngs[0].seed), double(opt_.seed));
    const int ranks = unpack_history(ckpt, st.history, out.history, part);
    if (ranks != comm.size())
      throw std::runtime_error(ckpt + ": was trained by " + std::to_string(ranks) + " process(es), this run has " +
                               std::to_string(comm.size()) + "; resume with " + std::to_string(ranks) +
                               " (exact resumption needs the same split of every batch)");
    if (st.step != st.epoch * n_batches_ + part.steps)
      throw std::runtime_error(ckpt + ": inconsistent training state (step " + std::to_string(st.step) +
                               ", epoch " + std::to_string(st.epoch) + ")");
    out.resumed = true;
  } else {
    st.total_steps = total;
    st.lr0 = opt_.lr;
    st.lr_min = opt_.lr_min;
    st.rngs = {io::RngState{opt_.seed, 0}};
  }
  out.start_step = st.step;

  // The log is staged first and renamed right after the checkpoint, so a log that cannot be
  // written (a directory in the way) stops the run before the checkpoint changes.
  const auto save = [&](double part_secs_now) {
    if (!writer) return;
    st.history = pack_history(out.history, part, part_secs_now, comm.size());
    core::TextOutput log(run_dir_ + "/log.csv", core::SpecialFiles::refuse);
    format_epoch_log(log.stream(), out.history);
    log.close();
    io::save_checkpoint(ckpt, *model_, &adam, st);
    log.file().commit();
  };

  EpochBatches batches(train_, opt_.batch_size, opt_.seed, opt_.prefetch, opt_.device, comm.rank(), comm.size());
  // This process's share of the batch mean: its loss (a mean over its part) weighs part / batch.
  const int64_t global_batch = std::min(opt_.batch_size, train_.size());
  const double share = double(dist::share(global_batch, comm.rank(), comm.size()).size()) / double(global_batch);
  int64_t steps_this_run = 0;
  while (st.epoch < opt_.epochs) {
    const auto t_epoch = Clock::now();
    batches.start_epoch(st.epoch, part.steps);
    ad::Tensor x, theta;
    int64_t batch_index = 0;
    std::string stop;
    while (batches.next(x, theta, batch_index)) {
      const double lr = sched.lr(st.step);
      adam.set_lr(lr);
      adam.zero_grad();
      ad::Tensor loss = model_->loss(x, theta);
      double lv = loss.item();
      if (comm.size() > 1) {  // the batch loss is the sum of the processes' weighted losses
        loss = ad::mul(loss, share);
        lv *= share;
        comm.allreduce_sum(&lv, 1);
      }
      double gnorm = std::numeric_limits<double>::quiet_NaN();
      if (std::isfinite(lv)) {
        ad::backward(loss);
        allreduce_gradients(adam.params(), comm);  // the whole batch's gradient, before clipping
        gnorm = nn::grad_norm(adam.params());
      }
      if (std::isfinite(lv) && std::isfinite(gnorm)) {
        // Clipping scales the gradient inside Adam's pass (no pass of its own).
        adam.step(opt_.clip > 0.0 ? nn::clip_factor(gnorm, opt_.clip) : 1.0);
        part.loss_sum += lv;
        ++part.finite;
      } else {
        ++out.skipped_steps;  // the step still counts, so the schedule and batches stay aligned
      }
      ++st.step;
      ++part.steps;
      ++steps_this_run;
      out.step_losses.push_back(lv);
      if (on_step)
        on_step(StepInfo{st.epoch + 1, batch_index, n_batches_, st.step, total, lv, lr, gnorm,
                         seconds_since(t_begin)});
      // Every process stops at the same step: the first reason any of them has.
      double why = 0.0;
      if (opt_.max_steps > 0 && steps_this_run >= opt_.max_steps) why = 3.0;
      else if (opt_.max_minutes > 0 && seconds_since(t_begin) > 60.0 * opt_.max_minutes) why = 2.0;
      else if (opt_.stop_flag && opt_.stop_flag->load()) why = 1.0;
      comm.allreduce_max(&why, 1);
      if (why == 3.0) stop = "step budget reached";
      else if (why == 2.0) stop = "time budget reached";
      else if (why == 1.0) stop = "interrupted";
      if (!stop.empty() && part.steps < n_batches_) break;
    }
    if (!stop.empty() && part.steps < n_batches_) {
      save(part.seconds + seconds_since(t_epoch));
      out.end_step = st.step;
      out.stop_reason = stop + " at epoch " + std::to_string(st.epoch + 1) + ", step " +
                        std::to_string(st.step) + " of " + std::to_string(total) +
                        "; rerun the same command to continue";
      comm.barrier();  // the files are in place before any process goes on
      return out;
    }
    EpochRecord rec;
    rec.epoch = st.epoch + 1;
    rec.train_nll = part.finite > 0 ? part.loss_sum / double(part.finite)
                                    : std::numeric_limits<double>::quiet_NaN();
    rec.val_nll = (val_ && val_->size() > 0) ? mean_nll(*model_, *val_, opt_.eval_batch, 0, &comm)
                                             : std::numeric_limits<double>::quiet_NaN();
    rec.lr = sched.lr(st.step);
    rec.seconds = part.seconds + seconds_since(t_epoch);
    out.history.push_back(rec);
    st.epoch += 1;
    part = Partial{};
    if (std::isfinite(rec.val_nll) && rec.val_nll < st.best_val_loss) {
      st.best_val_loss = rec.val_nll;
      st.history = pack_history(out.history, part, 0.0, comm.size());  // up to this epoch, not the last save's
      if (writer) io::save_checkpoint(run_dir_ + "/best.h5", *model_, nullptr, st);
    }
    save(0.0);
    if (on_epoch) on_epoch(rec);
    if (!stop.empty() && st.epoch < opt_.epochs) {
      out.end_step = st.step;
      out.stop_reason = stop + " after epoch " + std::to_string(st.epoch) +
                        "; rerun the same command to continue";
      comm.barrier();  // the files are in place before any process goes on
      return out;
    }
  }
  out.completed = true;
  out.end_step = st.step;
  comm.barrier();  // the files are in place before any process goes on
  return out;
}

}  // namespace lensflow::pipeline
