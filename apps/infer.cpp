// lensflow-infer — posterior samples for a test set or a file of light curves
// (docs/conventions.md §Inference).
//
//   lensflow-infer --model RUN_DIR/checkpoint.h5 (--test-set DIR [--split test|all] | --input FILE.h5|.csv|.npy)
//                  --out OUT.h5 [--n-samples N] [--device cpu|cuda] [--max-redraws R]
//                  [--refine is|mcmc] [--seed S] [--threads T] [--batch B] [--max-events N]
//                  [--nan error|interpolate] [--store-flux K] [--mcmc-steps N]
//
// Writes OUT.h5 (layout: io/posterior_file.hpp) and OUT_summary.csv; what it does and how it fails:
// pipeline/infer_run.hpp. Under mpirun/srun the processes share the events and process 0 writes the
// one output (docs/mpi.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "dist/comm.hpp"
#include "pipeline/infer_run.hpp"

using namespace lensflow;

int main(int argc, char** argv) {
  const dist::Environment mpi(&argc, &argv);
  const bool root = dist::world().is_root();
  CLI::App app{"lensflow-infer: posterior samples for a test set or observed light curves"};
  pipeline::InferOptions o;
  bool quiet = false;
  app.add_option("--model", o.model, "checkpoint written by lensflow-train (setup.h5 must sit beside it), or a run or model "
                 "directory (its best.h5, else checkpoint.h5), e.g. models/medium-fold4")
      ->required();
  auto* t = app.add_option("--test-set", o.test_set, "training-set directory: infer its test split (truths kept)");
  auto* in = app.add_option("--input", o.input, "light curves: .h5 (dataset 'flux'), .csv or .npy, 7200 points each");
  t->excludes(in);
  app.add_option("--split", o.split, "--test-set: infer its test split (test) or every event (all: a set "
                                      "simulated with a seed never used for training)")
      ->check(CLI::IsMember({"test", "all"}));
  app.add_option("--out", o.out, "output HDF5 file")->required();
  app.add_option("--n-samples", o.n_samples, "posterior samples per event (at most 100000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--device", o.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--max-redraws", o.max_redraws, "extra rounds of draws for samples outside the prior")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--refine", o.refine, "refine with the exact likelihood: is (importance sampling) or mcmc")
      ->check(CLI::IsMember({"is", "mcmc"}));
  app.add_option("--mcmc-steps", o.mcmc_steps, "--refine mcmc: step budget per event (0: refine's default)");
  app.add_option("--seed", o.seed, "sampling seed");
  app.add_option("--threads", o.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--batch", o.batch, "events per network call")->check(CLI::PositiveNumber);
  app.add_option("--max-events", o.max_events, "infer only the first N events (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--nan", o.nan, "NaN or non-positive points in --input: error or interpolate")
      ->check(CLI::IsMember({"error", "interpolate"}));
  app.add_option("--store-flux", o.store_flux, "store the raw light curves of the first K events (for plots)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);
  if (o.test_set.empty() == o.input.empty()) {
    std::cerr << "lensflow-infer: error: give exactly one of --test-set DIR or --input FILE\n";
    return 2;
  }

  try {
    pipeline::InferRun job(o);
    if (root && !o.refine.empty())
      std::cerr << "lensflow-infer: refining " << job.n_events() << " event(s) with " << o.refine
                << " (exact likelihood)\n";
    const pipeline::InferReport r = job.run(quiet ? nullptr : &std::cerr);
    if (!root) return 0;
    std::printf("inferred %lld events x %lld samples in %.2f s (%.0f samples/s), mean acceptance %.3f\n",
                static_cast<long long>(r.n_events), static_cast<long long>(r.n_samples), r.seconds,
                double(r.n_events) * double(r.n_samples) / r.seconds, r.mean_acceptance);
    if (r.short_events)
      std::fprintf(stderr,
                   "lensflow-infer: warning: %lld event(s) have fewer than %lld samples inside the prior after %d "
                   "redraws (NaN rows; see n_valid)\n",
                   static_cast<long long>(r.short_events), static_cast<long long>(r.n_samples), o.max_redraws);
    if (r.with_missing)
      std::fprintf(stderr,
                   "lensflow-infer: note: %lld event(s) had missing (NaN or non-positive) flux points, filled by "
                   "interpolation (see n_missing)\n",
                   static_cast<long long>(r.with_missing));
    if (r.has_test_nll)
      std::printf("test NLL %.4f (standardized θ, comparable to the training log)\n", r.test_nll);
    std::cerr << "lensflow-infer: wrote " << r.out << " and " << r.summary << "\n";
    return 0;
  } catch (const std::exception& e) {
    return dist::fail("lensflow-infer", e.what());
  }
}
