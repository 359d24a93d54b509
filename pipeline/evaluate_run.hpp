// pipeline/evaluate_run.hpp — what `lensflow-evaluate` does: accuracy and calibration of test-set
// posteriors (Zhang et al. 2021 §4.4-4.5) from a posterior file written by `lensflow-infer
// --test-set` (io/posterior_file.hpp; it holds the truths).
//
// Outputs in the output directory:
//   metrics.csv   one row per parameter: constrained %, correct %, PIT KS statistic and p-value,
//                 coverage of the central 50/68/90/95% credible intervals
//   metrics.json  the same, the coverage curve (levels 0.05…0.95 and 0.68), test and prior NLL
//   per_event.h5  pit, global_mode, closest_mode, n_modes, constrained, correct: [E, 8] each;
//                 evaluated [E] (which rows count); attribute levels
//   caustics.h5   critical curves and caustics (lens/caustics.hpp) of the first K events with a
//                 stored light curve: /event_<i>/caustic and /event_<i>/critical [n, 2] (x, y;
//                 NaN rows separate closed curves), attributes s, q and the event's θ; n_events
// Events without a valid sample (n_valid = 0: every draw fell outside the prior) are skipped and
// reported: their per_event rows are NaN. The four files are written under unique temporary
// names and renamed together at the end; an output that is the posterior file is refused.
// Plots: scripts/plot_evaluation.py (python3 + h5py + matplotlib), installed as
// share/lensflow/plot_evaluation.py beside the programs (bin/) and copied likewise into the build
// tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stats/calibration_metrics.hpp"

namespace lensflow::pipeline {

struct EvaluateOptions {
  std::string posterior;     // written by lensflow-infer --test-set
  std::string out;           // output directory (created)
  int64_t plot_events = 4;   // events with caustics (and, with plots, a corner plot and light curve)
  int threads = 0;
};

struct EvaluateReport {
  int64_t n_events = 0, n_samples = 0;
  std::vector<int64_t> skipped;  // events without a valid sample
  std::vector<double> levels;    // credible levels of the coverage
  std::vector<stats::ParameterMetrics> parameters;
  double test_nll = 0.0, prior_nll = 0.0;  // standardized θ, nats per event (test NaN without log_q_true)
  int64_t n_caustics = 0;                  // events in caustics.h5
  double coverage(const stats::ParameterMetrics& p, double level) const;  // NaN for a level not computed
};

// Computes the metrics and writes the four files (committed together). Throws std::exception
// naming the problem.
EvaluateReport run_evaluate(const EvaluateOptions& opt);

// The plot script: `given` when not empty, else $LENSFLOW_SCRIPTS/plot_evaluation.py, else
// share/lensflow/plot_evaluation.py next to the running program (<dir>/../share/lensflow: the
// install prefix, or the build tree). Throws std::runtime_error naming what was tried.
std::string find_plot_script(const std::string& given);

// Runs the plot script on the posterior and the evaluation directory (PNGs into it).
void draw_evaluation_plots(const std::string& script, const EvaluateOptions& opt, int64_t n_events);

}  // namespace lensflow::pipeline
