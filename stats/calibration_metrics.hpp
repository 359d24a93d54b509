// stats/calibration_metrics.hpp — accuracy and calibration of posterior samples against known truths
// (Zhang et al. 2021 §4.4–4.5, docs/conventions.md §Inference). Generic: nothing here knows about
// microlensing; each parameter comes with its prior range and prior density.
//
// Per event and parameter (1D marginal of the samples):
//   modes      — a 100-bin histogram over the prior range [lo, hi]; a bin is a mode when its count
//                is higher than that of the `neighbours` (20) bins on each side (bins past the
//                range edges are ignored; on a plateau the leftmost bin wins), at most 5 modes,
//                sorted by height: modes[0] is the global mode. Values are bin centres.
//   constrained — the marginal density at the global mode (count / (n_finite · bin width)) exceeds
//                twice the prior density at that bin centre.
//   correct    — (constrained events only) the truth is closer to the global mode than to any
//                other mode.
//   PIT        — the quantile of the truth under the marginal: (#samples < truth + ½ #equal) / n.
//   coverage   — the truth lies inside the central credible interval of level ℓ, i.e. between the
//                sample quantiles (1−ℓ)/2 and (1+ℓ)/2.
// Over events: constrained %, correct %, the Kolmogorov–Smirnov distance of the PIT values to
// U(0,1) (and its asymptotic p-value), the empirical coverage at each level.
// A calibrated posterior gives uniform PIT (KS → 0) and coverage ≈ level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lensflow::stats {

struct ModeOptions {
  int bins = 100;      // histogram bins over [lo, hi]
  int neighbours = 20; // a mode beats this many bins on each side
  int max_modes = 5;
};

struct Modes {
  std::vector<double> values;     // bin centres, by decreasing density (values[0] = global mode)
  std::vector<double> densities;  // marginal density (count / (n_finite · bin width)) at each mode
  double bin_width = 0.0;
};

// Modes of x[0], x[stride], ..., x[(n-1)·stride] over [lo, hi] (finite samples outside the range
// count in the density's normalization but fall in no bin; NaN samples are ignored). Empty when no sample falls in the range. Throws std::invalid_argument on a bad
// range or options.
Modes find_modes(const float* x, std::size_t n, std::size_t stride, double lo, double hi,
                 const ModeOptions& opt = {});

// Linear-interpolated quantile p ∈ [0, 1] of an ascending-sorted, non-empty vector.
double sorted_quantile(const std::vector<double>& sorted, double p);

// Kolmogorov–Smirnov distance sup|F_n(u) − u| of values in [0, 1] to U(0, 1), and the asymptotic
// p-value of that distance for n values (Kolmogorov distribution, with Stephens' small-n factor).
double ks_uniform_statistic(std::vector<double> u);
double ks_uniform_pvalue(double d, std::size_t n);

// One parameter: its name, prior range (histogram range) and prior density (for "constrained").
struct MarginalSpec {
  std::string name;
  double lo = 0.0, hi = 1.0;
  std::function<double(double)> prior_pdf;
};

// Per-event results for one parameter.
struct EventMarginal {
  Modes modes;
  double median = 0.0, p16 = 0.0, p84 = 0.0;
  double pit = 0.0;
  bool constrained = false;
  bool correct = false;  // meaningful only when constrained
  double closest_mode = 0.0;  // the mode closest to the truth (the paper's "predicted" value)
};

// Summary of one marginal of one event (no truth: only modes and percentiles are filled).
EventMarginal summarize_marginal(const float* x, std::size_t n, std::size_t stride,
                                 const MarginalSpec& spec, const ModeOptions& opt = {});
// The same plus PIT, constrained, correct and closest mode against `truth`.
EventMarginal evaluate_marginal(const float* x, std::size_t n, std::size_t stride, double truth,
                                const MarginalSpec& spec, const ModeOptions& opt = {});

struct ParameterMetrics {
  std::string name;
  std::size_t n_events = 0;
  std::size_t n_constrained = 0;
  std::size_t n_correct = 0;           // among the constrained
  double constrained_fraction = 0.0;   // n_constrained / n_events
  double correct_fraction = 0.0;       // n_correct / n_constrained (0 when none is constrained)
  double pit_ks = 0.0, pit_ks_pvalue = 0.0;
  std::vector<double> coverage;        // per level of CalibrationMetrics::levels()
  std::vector<double> pit;             // per event, in the order added
};

// Accumulates events (chunk by chunk, so large sample files need not fit in memory) and reduces.
class CalibrationMetrics {
 public:
  // levels: central credible levels in (0, 1) for the coverage (e.g. {0.5, 0.68, 0.9, 0.95}).
  CalibrationMetrics(std::vector<MarginalSpec> specs, std::vector<double> levels,
                     ModeOptions opt = {});

  // samples[n_events, n_samples, D] (row-major, D = specs.size()), truth[n_events, D].
  // Per-event work runs on core's worker pool. Returns the per-event marginals
  // ([event][parameter]) of this chunk for callers that plot or store them.
  std::vector<std::vector<EventMarginal>> add(const float* samples, const double* truth,
                                              std::size_t n_events, std::size_t n_samples);

  std::vector<ParameterMetrics> finish() const;
  const std::vector<double>& levels() const { return levels_; }
  const std::vector<MarginalSpec>& specs() const { return specs_; }

 private:
  std::vector<MarginalSpec> specs_;
  std::vector<double> levels_;
  ModeOptions opt_;
  std::vector<std::vector<double>> pit_;                 // [param][event]
  std::vector<std::vector<std::size_t>> covered_;        // [param][level]
  std::vector<std::size_t> n_constrained_, n_correct_;   // [param]
  std::size_t n_events_ = 0;
};

}  // namespace lensflow::stats
