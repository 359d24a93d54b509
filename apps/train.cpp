// lensflow-train — trains the amortized posterior on a simulated training set (SPEC §4-5).
//
//   lensflow-train --data DIR --out RUN_DIR [--config small|paper] [--epochs E] [--batch B]
//                  [--lr 1e-3] [--clip 5] [--device cpu|cuda] [--threads T] [--seed S]
//                  [--val-fraction f] [--test-fraction f] [--max-minutes M] [--quiet]
//
// Light curves are realized on the fly (lens/realization.hpp) on a background thread. Every epoch
// writes RUN_DIR/checkpoint.h5 and RUN_DIR/log.csv; rerunning the same command after an
// interruption (Ctrl-C, --max-minutes, a crash) continues from the last checkpoint and reproduces
// the uninterrupted run. RUN_DIR/setup.h5 records the prior and realization for lensflow-infer.
// A run directory that is the training-set directory (or whose files are shards) is refused; a
// full disk stops the run with an error (exit status 1), the last checkpoint intact.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sys/stat.h>

#include "autodiff/tensor.hpp"
#include "io/dataset.hpp"
#include "io/same_file.hpp"
#include "kernels/thread_pool.hpp"
#include "pipeline/model_configs.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/trainer.hpp"
#include "pipeline/training_data.hpp"

using namespace lensflow;

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-train: train the neural posterior on a simulated training set"};
  std::string data_dir, out_dir, config = "small", device = "cpu";
  int64_t epochs = 20, batch = 512;
  double lr = 1e-3, clip = 5.0, val_fraction = 0.1, test_fraction = 0.05, max_minutes = 0.0;
  int threads = 0, prefetch = 2;
  uint64_t seed = 0;
  bool quiet = false;
  app.add_option("--data", data_dir, "training-set directory (shards written by lensflow-simulate)")->required();
  app.add_option("--out", out_dir, "run directory (checkpoint.h5, best.h5, log.csv, setup.h5)")->required();
  app.add_option("--config", config, "network size: small (CPU demo), paper (the published network) or a CPU variant (pipeline/model_configs.hpp)")
      ->check(CLI::IsMember({"small", "paper", "small-fold4", "medium-fold4", "small-bigflow"}));
  app.add_option("--epochs", epochs, "epochs (the cosine schedule anneals over all of them)")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "initial learning rate (Adam)")->check(CLI::PositiveNumber);
  app.add_option("--clip", clip, "gradient-norm clipping bound (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "seed of the batch order and of the realizations");
  app.add_option("--val-fraction", val_fraction, "validation share of the non-test events")->check(CLI::Range(0.0, 0.9));
  app.add_option("--test-fraction", test_fraction, "test share of all events (kept out of training)")->check(CLI::Range(0.0, 0.9));
  app.add_option("--max-minutes", max_minutes, "stop with a checkpoint after this many minutes (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--prefetch", prefetch, "batches realized ahead on the loader thread")->check(CLI::PositiveNumber);
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  try {
    kernels::set_num_threads(threads);
    const ad::Device dev = device == "cuda" ? ad::Device::CUDA : ad::Device::CPU;
    if (dev == ad::Device::CUDA && !ad::cuda_available())
      throw std::runtime_error("--device cuda: no CUDA device available (or built without CUDA)");

    {  // The run directory's files must not be (or overwrite) the training set's.
      std::vector<io::NamedPath> outs, ins;
      for (const char* n : {"checkpoint.h5", "best.h5", "log.csv", "setup.h5"})
        outs.push_back({"--out", out_dir + "/" + n});
      for (const auto& f : io::shard_files(data_dir)) ins.push_back({"the --data shard", f});
      io::refuse_overlaps(outs, ins);
      if (io::same_file(out_dir, data_dir))
        throw std::runtime_error("--out " + out_dir + " is the --data directory: use a separate run directory");
    }
    const io::DatasetReader data(data_dir);
    if (!data.missing_shards().empty())
      std::cerr << "lensflow-train: note: " << data.missing_shards().size()
                << " shard(s) missing; training on the present ones\n";
    io::SplitOptions split;
    split.test_fraction = test_fraction;
    split.validation_fraction = val_fraction;
    const auto train_rows = data.split_rows(io::Split::train, split);
    const auto val_rows = data.split_rows(io::Split::validation, split);
    if (train_rows.empty()) throw std::runtime_error(data_dir + ": no training events after the split");

    pipeline::RunSetup setup;
    setup.realization = pipeline::realization_for(data);
    setup.seed = seed;
    setup.split = split;
    setup.dataset = data_dir;
    const std::string setup_path = out_dir + "/setup.h5";
    if (exists(out_dir + "/checkpoint.h5") && exists(setup_path)) {
      const auto old = pipeline::read_run_setup(setup_path);
      if (pipeline::prior_to_attr(old.realization.prior) != pipeline::prior_to_attr(setup.realization.prior) ||
          old.seed != seed || old.split.test_fraction != split.test_fraction ||
          old.split.validation_fraction != split.validation_fraction)
        throw std::runtime_error(setup_path + ": this run was started with another prior, seed or split; "
                                 "use the original options or another --out");
    }

    pipeline::RealizedDataset train_src(data, train_rows, setup.realization, seed, threads);
    pipeline::RealizedDataset val_src(data, val_rows, setup.realization, seed, threads);
    const auto cfg = pipeline::named_model_config(config, int64_t(setup.realization.n_win));

    pipeline::TrainerOptions opt;
    opt.epochs = epochs;
    opt.batch_size = batch;
    opt.lr = lr;
    opt.clip = clip;
    opt.device = dev;
    opt.seed = seed;
    opt.max_minutes = max_minutes;
    opt.prefetch = prefetch;
    opt.stop_flag = &g_stop;
    pipeline::Trainer trainer(cfg, train_src, val_rows.empty() ? nullptr : &val_src, opt, out_dir);
    // Written before training so that a checkpoint never exists without its setup.
    pipeline::make_directories(out_dir);
    pipeline::write_run_setup(setup_path, setup);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::cerr << "lensflow-train: " << train_rows.size() << " training / " << val_rows.size()
              << " validation events, model '" << config << "' (" << trainer.model().num_parameters()
              << " parameters), " << trainer.batches_per_epoch() << " steps per epoch of " << batch
              << ", " << epochs << " epochs on " << device << "\n";
    std::unique_ptr<pipeline::Progress> bar;
    const auto on_step = [&](const pipeline::StepInfo& s) {
      if (quiet) return;
      if (!bar) {
        bar = std::make_unique<pipeline::Progress>("train", uint64_t(s.total_steps), "steps", &std::cerr);
        bar->set_baseline(uint64_t(s.step - 1));
      }
      bar->update(uint64_t(s.step));
    };
    const auto on_epoch = [&](const pipeline::EpochRecord& r) {
      std::fprintf(stderr, "%sepoch %lld/%lld: train NLL %.4f, val NLL %.4f, lr %.3g, %.1f s\n",
                   quiet ? "" : "\n", static_cast<long long>(r.epoch), static_cast<long long>(epochs),
                   r.train_nll, r.val_nll, r.lr, r.seconds);
    };
    const auto out = trainer.run(on_step, on_epoch);
    if (bar) bar->finish();
    if (out.resumed)
      std::cerr << "lensflow-train: resumed from step " << out.start_step << "\n";
    if (out.skipped_steps)
      std::cerr << "lensflow-train: warning: " << out.skipped_steps
                << " step(s) had a non-finite loss or gradient and were skipped\n";
    if (!out.completed) {
      std::cerr << "lensflow-train: stopped: " << out.stop_reason << "\n";
      std::cerr << "lensflow-train: checkpoint " << trainer.checkpoint_path() << "\n";
      return out.stop_reason.rfind("interrupted", 0) == 0 ? 130 : 0;
    }
    if (!out.history.empty()) {
      const auto& last = out.history.back();
      std::printf("final: train NLL %.4f, val NLL %.4f (standardized θ; %zu epochs)\n", last.train_nll,
                  last.val_nll, out.history.size());
    }
    std::cerr << "lensflow-train: done; checkpoint " << trainer.checkpoint_path() << ", log " << out_dir
              << "/log.csv\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lensflow-train: error: " << e.what() << "\n";
    return 1;
  }
}
