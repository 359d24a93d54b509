// stats/mcmc_diagnostics.hpp — convergence diagnostics for ensemble MCMC chains.
//
// Chains are stored step-major, as the ensemble sampler writes them:
//   chain[(step * n_walkers + walker) * dim + d].
// - Integrated autocorrelation time τ per dimension (Sokal 1997 / Goodman & Weare 2010, the
//   estimator emcee uses): the normalized autocorrelation function of each walker (via FFT) is
//   averaged over walkers, τ(M) = 1 + 2 Σ_{k=1..M} ρ(k), and the window M is the smallest with
//   M >= c·τ(M) (c = 5). The estimate is trustworthy only when the chain is much longer than τ
//   (emcee's rule: > 50 τ).
// - Split-R̂ (Gelman et al. 2013, BDA3 §11.4): every walker's chain is cut in two halves, and the
//   between-half variance is compared with the within-half variance. Values close to 1 (< 1.01)
//   mean the walkers sample the same distribution. Walkers of an affine-invariant ensemble are not
//   independent chains, so R̂ is a necessary check, not a proof: use it with the τ rule.
// Nothing here knows about microlensing.
#pragma once

#include <cstddef>
#include <vector>

namespace lensflow::stats {

// Normalized autocorrelation function ρ(k), k = 0..n-1, of one series x[0], x[stride], ...
// (n values), computed with a zero-padded FFT (O(n log n)). ρ(0) = 1; a constant series gives
// ρ = 0 for k > 0.
std::vector<double> autocorrelation_function(const double* x, std::size_t n, std::size_t stride = 1);

// Integrated autocorrelation time per dimension of the steps [first_step, n_steps) of a
// step-major ensemble chain, with Sokal's automatic window (factor c). Returns dim values.
// Throws std::invalid_argument when fewer than 2 steps are used or the sizes are zero.
std::vector<double> integrated_autocorr_time(const double* chain, std::size_t n_steps,
                                             std::size_t n_walkers, std::size_t dim,
                                             std::size_t first_step = 0, double c = 5.0);

// Split-R̂ per dimension over the steps [first_step, n_steps) (each walker's chain split into two
// halves: 2·n_walkers sequences). Returns dim values; a dimension whose within-sequence variance
// is zero gives R̂ = 1 when all sequences agree and +inf otherwise. Needs >= 4 steps.
std::vector<double> split_rhat(const double* chain, std::size_t n_steps, std::size_t n_walkers,
                               std::size_t dim, std::size_t first_step = 0);

}  // namespace lensflow::stats
