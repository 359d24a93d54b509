// pipeline/refine.hpp — turns surrogate posterior samples into an asymptotically exact posterior
// for observed light curves: importance sampling (nbi's SNPE-IS) or ensemble MCMC seeded by the
// best surrogate samples (Zhang et al.'s hybrid NDE–MCMC). Wires sim/ (likelihood, priors) to the
// generic tools of stats/ (importance_sampling, ensemble_mcmc); the `infer` app calls it for
// `--refine is|mcmc` and writes the results.
//
// Target: log p(x|θ) + log p(θ) with the exact Gaussian photon-noise likelihood (sim/likelihood.hpp,
// F_base profiled by default) and the prior of docs/conventions.md §Priors in θ space
// (sim/priors.hpp, log_prior_theta). θ outside the prior support gets −inf without a likelihood
// evaluation (no light curve computed). α is treated as the prior's box [0, 360], not as a circle:
// a posterior straddling 0/360 is cut. Samples: θ rows of kThetaDim = 8 in the order of
// docs/conventions.md §Priors (log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ, f_s); times of the
// light curve in the frame of t0 (days from the window start).
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "sim/likelihood.hpp"
#include "sim/priors.hpp"
#include "stats/ensemble_mcmc.hpp"
#include "stats/importance_sampling.hpp"

namespace lensflow::pipeline {

struct RefineOptions {
  sim::LikelihoodOptions likelihood;  // finite source / accuracy / F_base mode / threads
  sim::PriorBox prior;                // prior support and density (docs/conventions.md §Priors defaults)
  bool use_device = false;             // likelihood on the GPU (log_likelihood_device)
  stats::IsOptions is;                    // IS top-up target and sample budget
  stats::EnsembleOptions mcmc;            // walkers (16 for D = 8), step budget, convergence, seed
  std::size_t n_seed_candidates = 800; // MCMC: surrogate samples ranked to pick the seeds (poster: 800)
  double seed_jitter = 1e-3;           // relative jitter when fewer distinct seeds than walkers
};

// Per-parameter posterior summary (weighted for IS, post-burn-in chain for MCMC).
struct PosteriorSummary {
  std::vector<double> mean, cov;         // kThetaDim, kThetaDim² (row-major)
  std::vector<double> q16, median, q84;  // kThetaDim each
};

// One evaluation of the target for a batch of θ (also what the callbacks below compute).
struct TargetTerms {
  std::vector<double> log_likelihood;  // −inf outside the prior support
  std::vector<double> log_prior;       // −inf outside the support
  std::vector<double> fbase;           // profiled F̂_base (NaN outside the support)
};
TargetTerms evaluate_target(const sim::LightCurveView& obs, const double* theta, std::size_t n,
                            const RefineOptions& opt);

// The unnormalized log posterior as a batched callback for stats/ (owns a copy of the light curve).
stats::BatchLogDensity make_log_posterior(const sim::LightCurveView& obs, const RefineOptions& opt);

struct RefineIsResult {
  stats::IsResult is;                      // θ, log q, log target, weights, n_eff, efficiency, status
  std::vector<double> log_likelihood;   // per sample, aligned with is.theta
  std::vector<double> log_prior;
  std::vector<double> fbase;
  std::size_t n_outside_prior = 0;
  PosteriorSummary summary;             // empty vectors when no weight is valid
  double seconds = 0.0;
};

// Importance-samples the surrogate samples (theta n×8, their log q(θ|x)); with opt.is.target_neff
// > 0 and a `topup` sampler, draws more surrogate samples until n_eff is reached or the budget
// ends. Never throws because weights are invalid: see result.is.w.status / message.
RefineIsResult refine_is(const sim::LightCurveView& obs, const double* theta, const double* log_q,
                         std::size_t n, const RefineOptions& opt, const stats::ProposalSampler& topup = {});

struct RefineMcmcResult {
  stats::EnsembleResult mcmc;              // chain (n_steps, n_walkers, 8), log_prob, τ, R̂, acceptance
  stats::WalkerSeeds seeds;                // starting walkers and the candidates they came from
  std::size_t n_candidates = 0;         // surrogate samples ranked
  std::size_t n_candidates_in_support = 0;
  std::vector<double> best_theta;       // highest log posterior visited (chain or seeds)
  double best_log_posterior = -INFINITY;
  PosteriorSummary summary;             // post-burn-in samples
  double seconds = 0.0;
};

// Ranks the first min(n, opt.n_seed_candidates) surrogate samples by log posterior, seeds
// opt.mcmc.n_walkers walkers with the best (jittered if too few distinct), and runs the ensemble
// sampler. Throws std::invalid_argument when no candidate lies in the prior support with a finite
// likelihood (nothing to seed from).
RefineMcmcResult refine_mcmc(const sim::LightCurveView& obs, const double* theta, std::size_t n,
                             const RefineOptions& opt);

// Many observations: theta (n_obs, n_samples, 8), log_q (n_obs, n_samples); observations are
// refined one after the other (each likelihood batch is multithreaded), samples never mixed.
// topup (optional) draws more samples for observation `obs_index`.
using ObservationSampler =
    std::function<void(std::size_t obs_index, std::size_t n, double* theta, double* log_q)>;
std::vector<RefineIsResult> refine_is_many(const sim::LightCurveView* obs, std::size_t n_obs,
                                           const double* theta, const double* log_q, std::size_t n_samples,
                                           const RefineOptions& opt, const ObservationSampler& topup = {});
std::vector<RefineMcmcResult> refine_mcmc_many(const sim::LightCurveView* obs, std::size_t n_obs,
                                               const double* theta, std::size_t n_samples,
                                               const RefineOptions& opt);

// Weighted summary of n×8 samples (w = nullptr: equal weights).
PosteriorSummary summarize_posterior(const double* theta, const double* w, std::size_t n);

}  // namespace lensflow::pipeline
