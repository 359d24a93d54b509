// stats/ensemble_mcmc.hpp — affine-invariant ensemble sampler (Goodman & Weare 2010 stretch move, as
// in emcee) for refining a surrogate posterior with the exact log-density.
//
// Red-blue split: the walkers are split into two halves; each half moves using walkers of the
// other (fixed) half, so one half-step is ONE batched log-density call on n_walkers/2 proposals
// (expensive likelihoods evaluate in parallel). Proposal Y = X_c + z·(X_j − X_c), z ~ g(z) ∝ 1/√z on
// [1/a, a]; accepted with probability min(1, z^(D−1)·p(Y)/p(X_j)).
//
// Seeding (the hybrid NDE–MCMC of Zhang et al.): evaluate the log-density of a batch of surrogate
// samples (the poster: 800), take the best n_walkers distinct ones; when there are too few, the
// remaining walkers are small Gaussian jitters of the best ones. Walkers must be >= 2·dim, even.
//
// Stopping: every check_every steps, with the first half of the chain as burn-in, the run stops
// when (kept steps) > tau_factor·max τ and max split-R̂ < rhat_max, or at max_steps.
// Walkers seeded in separate modes (e.g. the close/wide degeneracy) stay there: the stretch move
// cannot jump between well-separated modes. Then R̂ stays large, the run ends at max_steps with
// converged = false, and the relative mode weights come from the seeding, not from the sampler —
// use importance sampling for mode weights.
// Deterministic for a seed (own SplitMix64/xoshiro stream, no std:: distributions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stats/importance_sampling.hpp"  // BatchLogDensity

namespace lensflow::stats {

struct EnsembleOptions {
  std::size_t n_walkers = 16;     // even, >= 2·dim
  double stretch_a = 2.0;         // stretch scale a > 1 (emcee default 2)
  std::size_t max_steps = 10000;  // step budget (one step = every walker moved once)
  std::size_t check_every = 100;  // convergence check interval (steps); 0 = never check
  std::size_t min_steps = 200;    // no convergence declared before this
  double tau_factor = 50.0;       // need kept steps > tau_factor·τ_max
  double rhat_max = 1.01;         // need split-R̂ < rhat_max in every dimension
  bool stop_on_convergence = true;
  std::uint64_t seed = 1;
};

struct EnsembleResult {
  std::size_t dim = 0, n_walkers = 0, n_steps = 0;
  std::vector<double> chain;     // (n_steps, n_walkers, dim), step-major; step 0 = first move
  std::vector<double> log_prob;  // (n_steps, n_walkers)
  std::vector<double> acceptance_per_walker;  // accepted / steps, per walker
  double acceptance_fraction = 0.0;           // mean over walkers
  std::size_t burn_in = 0;       // steps discarded for the diagnostics (first half)
  std::vector<double> tau;       // integrated autocorrelation time per dim (after burn-in)
  std::vector<double> rhat;      // split-R̂ per dim (after burn-in)
  double n_eff = 0.0;            // (n_steps − burn_in)·n_walkers / max τ
  bool converged = false;
  std::size_t n_evaluations = 0; // log-density evaluations (points), seeding excluded
  std::string message;           // why it stopped
  // Flattened post-burn-in samples ((n_steps − burn_in)·n_walkers × dim).
  std::vector<double> samples() const;
};

// Runs the sampler from initial walker positions init (n_walkers×dim). Every initial position
// must have a finite log-density (otherwise std::invalid_argument naming the walker); proposals
// with −inf are rejected; a NaN or +inf from the callback throws std::runtime_error.
EnsembleResult run_ensemble_mcmc(const BatchLogDensity& log_density, const double* init,
                                 std::size_t dim, const EnsembleOptions& options);

struct WalkerSeeds {
  std::vector<double> positions;  // n_walkers×dim
  std::vector<double> log_prob;   // n_walkers (of the chosen candidates; jittered ones re-evaluated)
  std::vector<std::size_t> source_index;  // candidate each walker came from
  std::size_t n_distinct = 0;             // walkers taken directly from candidates
};

// Picks n_walkers seeds from n candidates (n×dim) with known log-densities (candidate_logp; e.g.
// from one batched call on 800 surrogate samples): the best distinct finite ones, then Gaussian
// jitters (relative scale jitter × the spread of the chosen seeds per dimension, or jitter in
// absolute units where the spread is 0) around the best seeds, kept only if their log-density
// is finite. The walkers are ordered with ranks 0, 2, 4, … in the first red-blue half and 1, 3,
// 5, … in the second, so both halves contain every mode among the seeds. Throws
// std::invalid_argument when no candidate has a finite log-density.
WalkerSeeds seed_walkers(const double* candidates, const double* candidate_logp, std::size_t n,
                         std::size_t dim, std::size_t n_walkers, const BatchLogDensity& log_density,
                         double jitter = 1e-3, std::uint64_t seed = 1);

}  // namespace lensflow::stats
