// stats/importance_sampling.hpp — self-normalized importance sampling of a proposal (e.g. a neural
// surrogate posterior q(θ|x)) into an asymptotically exact posterior (nbi's SNPE-IS, §3).
//
//   log w_i = log p̃(θ_i) − log q(θ_i),   p̃ = p(x|θ)·p(θ) (unnormalized target),
//   w_i ← w_i / Σ_j w_j,   n_eff = 1/Σ w_i² − 1 (nbi's definition: 0 for a single surviving
//   sample, ≈ n for a perfect proposal),   efficiency = n_eff / n (n = all samples drawn).
//
// Everything is in log space (max-subtraction before exponentiating), so likelihoods of
// 10^4 points never overflow. A sample whose log target is −inf (outside the prior support, zero
// likelihood) gets weight 0 legitimately ("zero"); a sample with NaN/+inf log target or a
// non-finite log q is dropped and counted as "invalid". When no sample has positive weight the
// result says so (status + message); it never throws for that.
// Nothing here knows about microlensing: the target is a batched log-density callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lensflow::stats {

// Batched log-density: theta is n×dim (row-major), logp receives n values (−inf allowed).
using BatchLogDensity = std::function<void(const double* theta, std::size_t n, double* logp)>;

// Draws n more proposal samples: theta (n×dim, row-major) and their log q. Used for top-up.
using ProposalSampler = std::function<void(std::size_t n, double* theta, double* log_q)>;

enum class IsStatus {
  ok,                 // weights valid; n_eff reached the target if one was requested
  neff_below_target,  // valid weights, but the sample budget ran out before target_neff
  no_valid_weights,   // every weight is zero or invalid: the proposal does not cover the target
};

struct ImportanceWeights {
  std::vector<double> log_w;    // unnormalized log weights; −inf for zero and invalid samples
  std::vector<double> weights;  // self-normalized (sum 1); 0 for zero and invalid samples
  std::size_t n = 0;            // samples considered
  std::size_t n_zero = 0;       // log target = −inf with finite log q (weight 0, not an error)
  std::size_t n_invalid = 0;    // NaN/+inf log target or non-finite log q (dropped)
  double n_eff = 0.0;           // 1/Σw² − 1
  double efficiency = 0.0;      // n_eff / n
  double log_evidence = -1e308; // log of the mean unnormalized weight: log Z estimate (−1e308 if none)
  double max_weight = 0.0;      // largest normalized weight (1 ⇒ one sample carries everything)
  IsStatus status = IsStatus::no_valid_weights;
  std::string message;          // human-readable summary, says why when status != ok
};

// Weights from precomputed log target and log q values (n each).
ImportanceWeights importance_weights(const double* log_target, const double* log_q, std::size_t n);

struct IsOptions {
  double target_neff = 0.0;          // > 0: top up with the sampler until n_eff >= target_neff
  std::size_t batch_size = 1000;     // samples per top-up call
  std::size_t max_samples = 100000;  // bound on total samples (initial + top-ups)
};

struct IsResult {
  std::size_t dim = 0;
  std::vector<double> theta;       // n×dim samples (initial first, then top-ups in order)
  std::vector<double> log_q;       // n
  std::vector<double> log_target;  // n: log p(x|θ) + log p(θ) up to a constant
  ImportanceWeights w;
  std::size_t n_batches = 0;       // target evaluations calls (1 + top-ups)
};

// Importance-samples `log_target` with proposal samples. Starts from the n0 given samples (theta0,
// log_q0; n0 may be 0 when a sampler is given); while options.target_neff > 0 is not reached and
// the total stays within max_samples, draws batches of batch_size from `sampler` (may be empty if
// no top-up is wanted). Throws std::invalid_argument on dim == 0, no samples and no sampler, or a
// top-up request without a sampler.
IsResult importance_sample(const double* theta0, const double* log_q0, std::size_t n0, std::size_t dim,
                           const BatchLogDensity& log_target, const IsOptions& options = {},
                           const ProposalSampler& sampler = {});

// ---- weighted summaries (weights need not be normalized; zero-weight rows are ignored) ----

// Weighted mean (dim values) of n×dim samples.
std::vector<double> weighted_mean(const double* theta, const double* w, std::size_t n, std::size_t dim);

// Weighted covariance (dim×dim, row-major), normalized by Σw (the plug-in estimate of the target
// covariance; its relative Monte Carlo error is ~ sqrt(2/n_eff)).
std::vector<double> weighted_covariance(const double* theta, const double* w, std::size_t n,
                                        std::size_t dim);

// Weighted quantile of column `col` (stride dim) at probability p in [0, 1]: the inverse of the
// weighted empirical CDF with linear interpolation between midpoints of the sorted samples' weights.
double weighted_quantile(const double* theta, const double* w, std::size_t n, std::size_t dim,
                         std::size_t col, double p);

// Systematic resampling: n_out indices drawn with probabilities ∝ w (low variance, deterministic
// for a seed). Throws std::invalid_argument when no weight is positive.
std::vector<std::size_t> resample_indices(const double* w, std::size_t n, std::size_t n_out,
                                          std::uint64_t seed);

}  // namespace lensflow::stats
