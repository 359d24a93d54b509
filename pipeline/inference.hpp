// pipeline/inference.hpp — batched posterior sampling with prior-support rejection
// (docs/conventions.md §Inference), and per-parameter summaries.
//
// For each observation the flow draws n samples of standardized θ; they are mapped to physical θ
// (θ = mean + std·z) and the ones outside the prior support are rejected. Events still short of n
// accepted samples draw n more, at most max_redraws times; slots still empty after that are NaN
// rows, and the event's acceptance (in-support draws / draws) and valid count say so. Samples are never
// mixed between observations: each event's draws come from its own conditional, and its random
// numbers depend only on (seed, round, global event index, n) — not on the batch it was in.
// log_q is the untruncated flow density of physical θ: log q_std(z) − Σ log std (truncating to the
// support only adds the per-event constant −log(acceptance mass)).
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/posterior_model.hpp"
#include "sim/priors.hpp"
#include "stats/calibration_metrics.hpp"

namespace lensflow::pipeline {

// Standardization: physical θ_d = mean[d] + std[d]·z_d.
struct ThetaTransform {
  std::vector<double> mean, std;
  static ThetaTransform from_prior(const sim::PriorBox& p);
  double log_std_sum() const;  // Σ log std: log q_std − log q_phys
};

// True when a physical θ row may be kept.
using SupportFn = std::function<bool(const double* theta)>;

struct SamplingOptions {
  int64_t n_samples = 1000;
  int max_redraws = 10;     // extra rounds of n draws for events short of n accepted samples
  uint64_t seed = 0;
  int64_t batch_obs = 64;   // observations per network call
};

struct PosteriorSamples {
  int64_t n_obs = 0, n_samples = 0, dim = 0;
  std::vector<float> theta;          // [n_obs, n_samples, dim], physical; NaN rows if short
  std::vector<float> log_q;          // [n_obs, n_samples] (NaN for empty slots)
  std::vector<int64_t> n_valid;      // accepted samples kept per event (<= n_samples)
  std::vector<int64_t> n_drawn;      // draws made per event
  std::vector<double> acceptance;    // draws inside the support / draws, per event (estimates
                                     // the flow's probability mass inside the prior support)
};

// Samples the posterior of observations x[n_obs, L, C] (already preprocessed) whose global indices
// start at `first_index` (they key the random numbers). The model may live on any device.
PosteriorSamples sample_posterior(const nn::PosteriorModel& model, const float* x, int64_t n_obs,
                                  const ThetaTransform& tf, const SupportFn& support,
                                  const SamplingOptions& opt, int64_t first_index = 0);

// log q(θ|x) of physical θ rows theta[n_obs, D] (one per observation, e.g. the truths), in the
// units of PosteriorSamples::log_q (flow density of physical θ; no support check).
std::vector<double> log_q_at(const nn::PosteriorModel& model, const float* x, int64_t n_obs,
                             const double* theta, const ThetaTransform& tf, int64_t batch_obs = 64);

// The 8 marginals of docs/conventions.md §Priors in θ space: prior range (histogram range) and
// prior density.
std::vector<stats::MarginalSpec> theta_marginals(const sim::PriorBox& p);

// Writes the per-event, per-parameter summary CSV to `out`: event,parameter,median,p16,p84,n_modes,
// mode1..mode5 (empty when fewer), acceptance. The caller makes the file atomic (core::TextOutput).
void write_summary_csv(std::ostream& out, const PosteriorSamples& s, const std::vector<stats::MarginalSpec>& specs,
                       const std::vector<std::vector<stats::EventMarginal>>& summaries);

}  // namespace lensflow::pipeline
