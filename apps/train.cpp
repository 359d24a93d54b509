// lensflow-train — trains the amortized posterior on a simulated training set
// (docs/conventions.md §Network, §Training).
//
//   lensflow-train --data DIR --out RUN_DIR [--config small|paper] [--epochs E] [--batch B]
//                  [--lr 1e-3] [--clip 5] [--device cpu|cuda] [--threads T] [--seed S]
//                  [--val-fraction f] [--test-fraction f] [--max-minutes M] [--quiet]
//
// What it writes, how a rerun resumes and how it fails: pipeline/train_run.hpp. Ctrl-C (SIGINT) or
// SIGTERM stops it with a checkpoint (exit status 130). Under mpirun/srun the processes train
// data-parallel, --batch being the batch of all of them together (docs/mpi.md); process 0 reports.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "dist/comm.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/train_run.hpp"

using namespace lensflow;

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  const dist::Environment mpi(&argc, &argv);
  const dist::Comm& comm = dist::world();
  CLI::App app{"lensflow-train: train the neural posterior on a simulated training set"};
  pipeline::TrainRunOptions o;
  bool quiet = false;
  app.add_option("--data", o.data, "training-set directory (shards written by lensflow-simulate)")->required();
  app.add_option("--out", o.out, "run directory (checkpoint.h5, best.h5, log.csv, setup.h5)")->required();
  app.add_option("--config", o.config, "network size: small (CPU demo), paper (docs/conventions.md §Network) or a CPU variant "
                 "(pipeline/model_configs.hpp)")
      ->check(CLI::IsMember({"small", "paper", "small-fold4", "medium-fold4", "small-bigflow"}));
  app.add_option("--epochs", o.epochs, "epochs (the cosine schedule anneals over all of them)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", o.lr, "initial learning rate (Adam)")->check(CLI::PositiveNumber);
  app.add_option("--clip", o.clip, "gradient-norm clipping bound (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", o.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", o.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "seed of the batch order and of the realizations");
  app.add_option("--val-fraction", o.val_fraction, "validation share of the non-test events")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--test-fraction", o.test_fraction, "test share of all events (kept out of training)")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--max-minutes", o.max_minutes, "stop with a checkpoint after this many minutes (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--prefetch", o.prefetch, "batches realized ahead on the loader thread")->check(CLI::PositiveNumber);
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);
  if (!comm.is_root()) quiet = true;

  try {
    o.stop_flag = &g_stop;
    pipeline::TrainRun job(o);
    if (comm.is_root() && job.n_missing_shards())
      std::cerr << "lensflow-train: note: " << job.n_missing_shards()
                << " shard(s) missing; training on the present ones\n";
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const pipeline::Trainer& trainer = job.trainer();
    if (comm.is_root())
      std::cerr << "lensflow-train: " << job.n_train() << " training / " << job.n_validation()
                << " validation events, model '" << o.config << "' (" << trainer.model().num_parameters()
                << " parameters), " << trainer.batches_per_epoch() << " steps per epoch of " << o.batch << ", "
                << o.epochs << " epochs on " << o.device << (comm.size() > 1 ? " in " + std::to_string(comm.size()) + " processes" : std::string()) << "\n";
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
      if (!comm.is_root()) return;
      std::fprintf(stderr, "%sepoch %lld/%lld: train NLL %.4f, val NLL %.4f, lr %.3g, %.1f s\n", quiet ? "" : "\n",
                   static_cast<long long>(r.epoch), static_cast<long long>(o.epochs), r.train_nll, r.val_nll, r.lr,
                   r.seconds);
    };
    const auto out = job.run(on_step, on_epoch);
    if (bar) bar->finish();
    if (!comm.is_root()) return out.completed || out.stop_reason.rfind("interrupted", 0) != 0 ? 0 : 130;
    if (out.resumed) std::cerr << "lensflow-train: resumed from step " << out.start_step << "\n";
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
    std::cerr << "lensflow-train: done; checkpoint " << trainer.checkpoint_path() << ", log " << o.out << "/log.csv\n";
    return 0;
  } catch (const std::exception& e) {
    return dist::fail("lensflow-train", e.what());
  }
}
