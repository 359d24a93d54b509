// lensflow-evaluate — accuracy and calibration of test-set posteriors (Zhang et al. 2021 §4.4-4.5).
//
//   lensflow-evaluate --posterior OUT.h5 --out EVAL_DIR [--plots] [--plot-events K]
//                     [--plot-script PATH] [--threads T]
//
// OUT.h5 comes from `lensflow-infer --test-set`. The outputs, the skipped events and the failure
// behaviour: pipeline/evaluate_run.hpp. With --plots it runs plot_evaluation.py (python3 + h5py +
// matplotlib; found beside the programs, see pipeline::find_plot_script) to draw PNGs.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "pipeline/evaluate_run.hpp"

using namespace lensflow;

int main(int argc, char** argv) {
  CLI::App app{"lensflow-evaluate: accuracy and calibration metrics of test-set posteriors"};
  pipeline::EvaluateOptions o;
  std::string script;
  bool plots = false;
  app.add_option("--posterior", o.posterior, "posterior file written by lensflow-infer --test-set")->required();
  app.add_option("--out", o.out, "output directory")->required();
  app.add_flag("--plots", plots, "draw PNG plots with plot_evaluation.py (python3, h5py, matplotlib)");
  app.add_option("--plot-events", o.plot_events, "events with a corner plot and a light curve + caustics")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--plot-script", script,
                 "path of plot_evaluation.py (default: $LENSFLOW_SCRIPTS, else share/lensflow beside the programs)");
  app.add_option("--threads", o.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    const pipeline::EvaluateReport r = pipeline::run_evaluate(o);
    if (!r.skipped.empty()) {
      std::string list;
      for (size_t k = 0; k < std::min<size_t>(r.skipped.size(), 10); ++k)
        list += (k ? ", " : "") + std::to_string(r.skipped[k]);
      std::fprintf(stderr,
                   "lensflow-evaluate: skipped %zu of %lld event(s) without a valid sample (n_valid = 0): %s%s\n",
                   r.skipped.size(), static_cast<long long>(r.n_events), list.c_str(),
                   r.skipped.size() > 10 ? ", ..." : "");
    }
    std::printf("%-10s %8s %12s %10s %8s %8s %8s\n", "parameter", "events", "constrained%", "correct%", "PIT KS",
                "cov68", "cov95");
    for (const auto& p : r.parameters)
      std::printf("%-10s %8zu %12.1f %10.1f %8.3f %8.3f %8.3f\n", p.name.c_str(), p.n_events,
                  100.0 * p.constrained_fraction, 100.0 * p.correct_fraction, p.pit_ks, r.coverage(p, 0.68),
                  r.coverage(p, 0.95));
    std::printf("test NLL %.4f vs prior NLL %.4f (standardized θ, nats per event)\n", r.test_nll, r.prior_nll);
    std::cerr << "lensflow-evaluate: wrote " << o.out << "/metrics.csv, metrics.json, per_event.h5, caustics.h5\n";
    if (plots) pipeline::draw_evaluation_plots(pipeline::find_plot_script(script), o, r.n_caustics);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lensflow-evaluate: error: " << e.what() << "\n";
    return 1;
  }
}
