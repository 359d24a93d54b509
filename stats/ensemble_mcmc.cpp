// stats/ensemble_mcmc.cpp — stretch-move ensemble sampler with red-blue batched updates.
#include "stats/ensemble_mcmc.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/xoshiro.hpp"
#include "stats/mcmc_diagnostics.hpp"

namespace lensflow::stats {
namespace {

void check_logp(const double* lp, std::size_t n, const char* where) {
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(lp[i]) || lp[i] == INFINITY)
      throw std::runtime_error(std::string("ensemble MCMC: log-density returned ") +
                               (std::isnan(lp[i]) ? "NaN" : "+inf") + " for a " + where);
}

// Reorders ranked seeds so that the first half holds ranks 0, 2, 4, … and the second 1, 3, 5, …:
// both red-blue halves then sample every mode the seeds found (a half confined to one mode
// would make every stretch move of the other half cross between modes and be rejected).
void interleave_halves(WalkerSeeds& s, std::size_t dim) {
  const std::size_t W = s.log_prob.size(), H = (W + 1) / 2;
  WalkerSeeds r;
  r.n_distinct = s.n_distinct;
  for (std::size_t k = 0; k < W; ++k) {
    const std::size_t from = k < H ? 2 * k : 2 * (k - H) + 1;
    r.positions.insert(r.positions.end(), s.positions.begin() + from * dim, s.positions.begin() + (from + 1) * dim);
    r.log_prob.push_back(s.log_prob[from]);
    r.source_index.push_back(s.source_index[from]);
  }
  s = std::move(r);
}

}  // namespace

std::vector<double> EnsembleResult::samples() const {
  const std::size_t first = burn_in * n_walkers * dim;
  return std::vector<double>(chain.begin() + static_cast<std::ptrdiff_t>(first), chain.end());
}

EnsembleResult run_ensemble_mcmc(const BatchLogDensity& log_density, const double* init,
                                 std::size_t dim, const EnsembleOptions& opt) {
  const std::size_t W = opt.n_walkers;
  if (!log_density) throw std::invalid_argument("run_ensemble_mcmc: empty log-density callback");
  if (dim == 0) throw std::invalid_argument("run_ensemble_mcmc: dim must be positive");
  if (W < 2 * dim || W % 2 != 0)
    throw std::invalid_argument("run_ensemble_mcmc: n_walkers must be even and >= 2*dim (got " +
                                std::to_string(W) + " for dim " + std::to_string(dim) + ")");
  if (!(opt.stretch_a > 1.0)) throw std::invalid_argument("run_ensemble_mcmc: stretch_a must be > 1");
  if (opt.max_steps == 0) throw std::invalid_argument("run_ensemble_mcmc: max_steps must be positive");
  if (init == nullptr) throw std::invalid_argument("run_ensemble_mcmc: null initial positions");

  std::vector<double> x(init, init + W * dim), lp(W);
  for (std::size_t i = 0; i < W * dim; ++i)
    if (!std::isfinite(x[i])) throw std::invalid_argument("run_ensemble_mcmc: non-finite initial position");
  log_density(x.data(), W, lp.data());
  for (std::size_t w = 0; w < W; ++w)
    if (!std::isfinite(lp[w]))
      throw std::invalid_argument("run_ensemble_mcmc: initial walker " + std::to_string(w) +
                                  " has a non-finite log-density");

  EnsembleResult res;
  res.dim = dim;
  res.n_walkers = W;
  res.chain.reserve(std::min<std::size_t>(opt.max_steps, 20000) * W * dim);
  res.log_prob.reserve(std::min<std::size_t>(opt.max_steps, 20000) * W);
  std::vector<std::size_t> accepted(W, 0);
  core::Xoshiro256 rng(opt.seed);
  const std::size_t H = W / 2;
  const double a = opt.stretch_a;
  std::vector<double> prop(H * dim), prop_lp(H), z(H);
  bool diagnostics_current = false;

  // R̂ is O(n) and checked first; τ (FFTs) only when R̂ passes or for the final report.
  auto diagnose = [&](bool final_report) {
    res.burn_in = res.n_steps / 2;
    res.rhat = split_rhat(res.chain.data(), res.n_steps, W, dim, res.burn_in);
    const double rhat_max = *std::max_element(res.rhat.begin(), res.rhat.end());
    if (!final_report && !(rhat_max < opt.rhat_max)) {
      res.converged = false;
      diagnostics_current = false;
      return;
    }
    res.tau = integrated_autocorr_time(res.chain.data(), res.n_steps, W, dim, res.burn_in);
    const double tau_max = *std::max_element(res.tau.begin(), res.tau.end());
    const double kept = static_cast<double>(res.n_steps - res.burn_in);
    res.n_eff = kept * static_cast<double>(W) / std::max(tau_max, 1.0);
    res.converged = res.n_steps >= opt.min_steps && kept > opt.tau_factor * tau_max &&
                    rhat_max < opt.rhat_max;
    std::ostringstream os;
    os << "steps=" << res.n_steps << " burn_in=" << res.burn_in << " tau_max=" << tau_max
       << " rhat_max=" << rhat_max << " n_eff=" << res.n_eff;
    res.message = os.str();
    diagnostics_current = true;
  };

  while (res.n_steps < opt.max_steps) {
    for (std::size_t half = 0; half < 2; ++half) {
      const std::size_t first = half * H, other = (1 - half) * H;
      for (std::size_t k = 0; k < H; ++k) {
        const std::size_t j = first + k, c = other + rng.index(H);
        const double u = rng.uniform();
        z[k] = ((a - 1.0) * u + 1.0) * ((a - 1.0) * u + 1.0) / a;
        for (std::size_t d = 0; d < dim; ++d)
          prop[k * dim + d] = x[c * dim + d] + z[k] * (x[j * dim + d] - x[c * dim + d]);
      }
      log_density(prop.data(), H, prop_lp.data());
      res.n_evaluations += H;
      check_logp(prop_lp.data(), H, "proposal");
      for (std::size_t k = 0; k < H; ++k) {
        const std::size_t j = first + k;
        const double log_u = std::log(rng.uniform());  // always drawn: the stream stays aligned
        if (prop_lp[k] == -INFINITY) continue;
        const double log_r = static_cast<double>(dim - 1) * std::log(z[k]) + prop_lp[k] - lp[j];
        if (log_u < log_r) {
          std::copy(prop.begin() + k * dim, prop.begin() + (k + 1) * dim, x.begin() + j * dim);
          lp[j] = prop_lp[k];
          ++accepted[j];
        }
      }
    }
    res.chain.insert(res.chain.end(), x.begin(), x.end());
    res.log_prob.insert(res.log_prob.end(), lp.begin(), lp.end());
    ++res.n_steps;
    diagnostics_current = false;
    if (opt.check_every > 0 && res.n_steps % opt.check_every == 0 && res.n_steps >= 4 &&
        res.n_steps >= opt.min_steps) {
      diagnose(false);
      if (res.converged && opt.stop_on_convergence) break;
    }
  }
  if (!diagnostics_current && res.n_steps >= 4) diagnose(true);
  res.acceptance_per_walker.resize(W);
  for (std::size_t w = 0; w < W; ++w)
    res.acceptance_per_walker[w] = static_cast<double>(accepted[w]) / static_cast<double>(res.n_steps);
  res.acceptance_fraction =
      std::accumulate(res.acceptance_per_walker.begin(), res.acceptance_per_walker.end(), 0.0) /
      static_cast<double>(W);
  res.message = (res.converged ? "converged: " : "not converged (step budget or no check): ") +
                res.message + " acceptance=" + std::to_string(res.acceptance_fraction);
  return res;
}

WalkerSeeds seed_walkers(const double* candidates, const double* candidate_logp, std::size_t n,
                         std::size_t dim, std::size_t n_walkers, const BatchLogDensity& log_density,
                         double jitter, std::uint64_t seed) {
  if (dim == 0 || n_walkers == 0) throw std::invalid_argument("seed_walkers: dim and n_walkers must be positive");
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(candidate_logp[i])) order.push_back(i);
  if (order.empty()) throw std::invalid_argument("seed_walkers: no candidate has a finite log-density");
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return candidate_logp[a] > candidate_logp[b]; });
  WalkerSeeds out;
  auto same = [&](std::size_t a, std::size_t b) {
    return std::equal(candidates + a * dim, candidates + (a + 1) * dim, candidates + b * dim);
  };
  for (std::size_t i : order) {
    if (out.source_index.size() == n_walkers) break;
    bool dup = false;
    for (std::size_t s : out.source_index) dup = dup || same(i, s);
    if (dup) continue;
    out.source_index.push_back(i);
    out.positions.insert(out.positions.end(), candidates + i * dim, candidates + (i + 1) * dim);
    out.log_prob.push_back(candidate_logp[i]);
  }
  out.n_distinct = out.source_index.size();
  if (out.n_distinct == n_walkers) {
    interleave_halves(out, dim);
    return out;
  }

  // Jitter scale per dimension: relative to the spread of the distinct seeds, absolute if none.
  std::vector<double> scale(dim, jitter);
  if (out.n_distinct >= 2) {
    for (std::size_t d = 0; d < dim; ++d) {
      double mu = 0.0, ss = 0.0;
      for (std::size_t k = 0; k < out.n_distinct; ++k) mu += out.positions[k * dim + d];
      mu /= static_cast<double>(out.n_distinct);
      for (std::size_t k = 0; k < out.n_distinct; ++k)
        ss += (out.positions[k * dim + d] - mu) * (out.positions[k * dim + d] - mu);
      const double sd = std::sqrt(ss / static_cast<double>(out.n_distinct - 1));
      if (sd > 0.0) scale[d] = jitter * sd;
    }
  }
  core::Xoshiro256 rng(seed);
  const std::size_t n_base = out.n_distinct;
  std::size_t next_base = 0;
  for (int round = 0; round < 64 && out.source_index.size() < n_walkers; ++round) {
    const std::size_t need = n_walkers - out.source_index.size();
    std::vector<double> trial(need * dim), tlp(need);
    std::vector<std::size_t> base(need);
    for (std::size_t k = 0; k < need; ++k) {
      base[k] = next_base++ % n_base;
      for (std::size_t d = 0; d < dim; ++d)
        trial[k * dim + d] = out.positions[base[k] * dim + d] + scale[d] * rng.normal();
    }
    log_density(trial.data(), need, tlp.data());
    for (std::size_t k = 0; k < need; ++k) {
      if (!std::isfinite(tlp[k])) continue;
      out.positions.insert(out.positions.end(), trial.begin() + k * dim, trial.begin() + (k + 1) * dim);
      out.log_prob.push_back(tlp[k]);
      out.source_index.push_back(out.source_index[base[k]]);
    }
    if (round % 8 == 7)
      for (auto& s : scale) s *= 0.5;  // near a support edge: shrink and retry
  }
  if (out.source_index.size() < n_walkers)
    throw std::runtime_error("seed_walkers: could not place jittered walkers with finite log-density");
  interleave_halves(out, dim);
  return out;
}

}  // namespace lensflow::stats
