// pipeline/train_run.cpp — see train_run.hpp.
#include "pipeline/train_run.hpp"

#include <stdexcept>
#include <vector>

#include "autodiff/tensor.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "dist/comm.hpp"
#include "io/dataset.hpp"
#include "io/prior_fields.hpp"
#include "io/run_setup.hpp"
#include "pipeline/model_configs.hpp"
#include "pipeline/training_data.hpp"

namespace lensflow::pipeline {

struct TrainRun::State {
  std::unique_ptr<io::DatasetReader> data;
  std::vector<std::size_t> train_rows, val_rows;
  std::unique_ptr<RealizedDataset> train_src, val_src;
  std::unique_ptr<Trainer> trainer;
};

TrainRun::TrainRun(TrainRunOptions opt) : opt_(std::move(opt)), s_(std::make_unique<State>()) {
  const TrainRunOptions& o = opt_;
  State& s = *s_;
  if (o.device != "cpu" && o.device != "cuda")
    throw std::invalid_argument("--device must be cpu or cuda (got '" + o.device + "')");
  core::set_num_threads(o.threads);
  const ad::Device dev = o.device == "cuda" ? ad::Device::CUDA : ad::Device::CPU;
  if (dev == ad::Device::CUDA && !ad::cuda_available())
    throw std::runtime_error("--device cuda: no CUDA device available (or built without CUDA)");

  {  // The run directory's files must not be (or overwrite) the training set's.
    std::vector<core::NamedPath> outs, ins;
    for (const char* n : {"checkpoint.h5", "best.h5", "log.csv", "setup.h5"}) outs.push_back({"--out", o.out + "/" + n});
    for (const auto& f : io::shard_files(o.data)) ins.push_back({"the --data shard", f});
    core::refuse_overlaps(outs, ins);
    if (core::same_file(o.out, o.data))
      throw std::runtime_error("--out " + o.out + " is the --data directory: use a separate run directory");
  }
  s.data = std::make_unique<io::DatasetReader>(o.data);
  io::SplitOptions split;
  split.test_fraction = o.test_fraction;
  split.validation_fraction = o.val_fraction;
  s.train_rows = s.data->split_rows(io::Split::train, split);
  s.val_rows = s.data->split_rows(io::Split::validation, split);
  if (s.train_rows.empty()) throw std::runtime_error(o.data + ": no training events after the split");

  io::RunSetup setup;
  setup.realization = realization_for(*s.data);
  setup.seed = o.seed;
  setup.split = split;
  setup.dataset = o.data;
  const std::string setup_path = o.out + "/setup.h5";
  if (core::path_exists(o.out + "/checkpoint.h5") && core::path_exists(setup_path)) {
    const auto old = io::read_run_setup(setup_path);
    if (io::prior_to_attr(old.realization.prior) != io::prior_to_attr(setup.realization.prior) ||
        old.seed != o.seed || old.split.test_fraction != split.test_fraction ||
        old.split.validation_fraction != split.validation_fraction)
      throw std::runtime_error(setup_path + ": this run was started with another prior, seed or split; "
                               "use the original options or another --out");
  }

  s.train_src = std::make_unique<RealizedDataset>(*s.data, s.train_rows, setup.realization, o.seed, o.threads);
  s.val_src = std::make_unique<RealizedDataset>(*s.data, s.val_rows, setup.realization, o.seed, o.threads);
  const auto cfg = named_model_config(o.config, int64_t(setup.realization.n_win));

  TrainerOptions to;
  to.epochs = o.epochs;
  to.batch_size = o.batch;
  to.lr = o.lr;
  to.clip = o.clip;
  to.device = dev;
  to.seed = o.seed;
  to.max_minutes = o.max_minutes;
  to.prefetch = o.prefetch;
  to.stop_flag = o.stop_flag;
  s.trainer = std::make_unique<Trainer>(cfg, *s.train_src, s.val_rows.empty() ? nullptr : s.val_src.get(), to, o.out);
  // Written before training so that a checkpoint never exists without its setup.
  core::make_dirs(o.out);
  if (dist::world().is_root()) io::write_run_setup(setup_path, setup);  // one writer (docs/mpi.md)
}

TrainRun::~TrainRun() = default;

std::size_t TrainRun::n_train() const { return s_->train_rows.size(); }
std::size_t TrainRun::n_validation() const { return s_->val_rows.size(); }
std::size_t TrainRun::n_missing_shards() const { return s_->data->missing_shards().size(); }
const Trainer& TrainRun::trainer() const { return *s_->trainer; }

TrainOutcome TrainRun::run(const std::function<void(const StepInfo&)>& on_step,
                           const std::function<void(const EpochRecord&)>& on_epoch) {
  return s_->trainer->run(on_step, on_epoch);
}

}  // namespace lensflow::pipeline
