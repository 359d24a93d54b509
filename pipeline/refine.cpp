// pipeline/refine.cpp — likelihood + prior + surrogate samples → importance sampling or MCMC.
#include "pipeline/refine.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace lensflow::pipeline {
namespace {

constexpr std::size_t D = sim::kThetaDim;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Owned copy of a light curve (callbacks outlive the caller's view).
struct OwnedCurve {
  std::vector<double> t, x;
  sim::LightCurveView view() const { return {t.data(), x.data(), t.size()}; }
};

}  // namespace

TargetTerms evaluate_target(const sim::LightCurveView& obs, const double* theta, std::size_t n,
                            const RefineOptions& opt) {
  TargetTerms out;
  out.log_likelihood.assign(n, -INFINITY);
  out.log_prior.assign(n, -INFINITY);
  out.fbase.assign(n, NAN);
  std::vector<std::size_t> inside;
  for (std::size_t i = 0; i < n; ++i) {
    out.log_prior[i] = sim::log_prior_theta(opt.prior, theta + i * D);
    if (out.log_prior[i] > -INFINITY) inside.push_back(i);
  }
  if (inside.empty()) return out;
  std::vector<double> th(inside.size() * D), ll(inside.size()), fb(inside.size());
  for (std::size_t k = 0; k < inside.size(); ++k)
    std::copy(theta + inside[k] * D, theta + (inside[k] + 1) * D, th.begin() + k * D);
  const sim::LikelihoodExtras extras{fb.data(), nullptr};
  if (opt.use_device)
    sim::log_likelihood_device(obs, th.data(), inside.size(), opt.likelihood, ll.data(), extras);
  else
    sim::log_likelihood_host(obs, th.data(), inside.size(), opt.likelihood, ll.data(), extras);
  for (std::size_t k = 0; k < inside.size(); ++k) {
    out.log_likelihood[inside[k]] = ll[k];
    out.fbase[inside[k]] = fb[k];
  }
  return out;
}

stats::BatchLogDensity make_log_posterior(const sim::LightCurveView& obs, const RefineOptions& opt) {
  sim::usable_points(obs);  // validate now, not at the first call
  auto curve = std::make_shared<OwnedCurve>();
  curve->t.assign(obs.t, obs.t + obs.n);
  curve->x.assign(obs.flux, obs.flux + obs.n);
  return [curve, opt](const double* theta, std::size_t n, double* logp) {
    const TargetTerms terms = evaluate_target(curve->view(), theta, n, opt);
    for (std::size_t i = 0; i < n; ++i) logp[i] = terms.log_likelihood[i] + terms.log_prior[i];
  };
}

PosteriorSummary summarize_posterior(const double* theta, const double* w, std::size_t n) {
  PosteriorSummary s;
  if (n == 0) return s;
  std::vector<double> ones;
  if (w == nullptr) {
    ones.assign(n, 1.0);
    w = ones.data();
  }
  s.mean = stats::weighted_mean(theta, w, n, D);
  s.cov = stats::weighted_covariance(theta, w, n, D);
  for (std::size_t d = 0; d < D; ++d) {
    s.q16.push_back(stats::weighted_quantile(theta, w, n, D, d, 0.15865525393145707));
    s.median.push_back(stats::weighted_quantile(theta, w, n, D, d, 0.5));
    s.q84.push_back(stats::weighted_quantile(theta, w, n, D, d, 0.8413447460685429));
  }
  return s;
}

RefineIsResult refine_is(const sim::LightCurveView& obs, const double* theta, const double* log_q,
                         std::size_t n, const RefineOptions& opt, const stats::ProposalSampler& topup) {
  const auto t0 = std::chrono::steady_clock::now();
  sim::usable_points(obs);
  RefineIsResult r;
  stats::BatchLogDensity target = [&](const double* th, std::size_t m, double* logp) {
    const TargetTerms terms = evaluate_target(obs, th, m, opt);
    for (std::size_t i = 0; i < m; ++i) {
      logp[i] = terms.log_likelihood[i] + terms.log_prior[i];
      if (terms.log_prior[i] == -INFINITY) ++r.n_outside_prior;
    }
    r.log_likelihood.insert(r.log_likelihood.end(), terms.log_likelihood.begin(), terms.log_likelihood.end());
    r.log_prior.insert(r.log_prior.end(), terms.log_prior.begin(), terms.log_prior.end());
    r.fbase.insert(r.fbase.end(), terms.fbase.begin(), terms.fbase.end());
  };
  r.is = stats::importance_sample(theta, log_q, n, D, target, opt.is, topup);
  if (r.is.w.status != stats::IsStatus::no_valid_weights)
    r.summary = summarize_posterior(r.is.theta.data(), r.is.w.weights.data(), r.is.w.n);
  r.seconds = seconds_since(t0);
  return r;
}

RefineMcmcResult refine_mcmc(const sim::LightCurveView& obs, const double* theta, std::size_t n,
                             const RefineOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (n == 0 || theta == nullptr) throw std::invalid_argument("refine_mcmc: no surrogate samples");
  const stats::BatchLogDensity logpost = make_log_posterior(obs, opt);
  RefineMcmcResult r;
  r.n_candidates = std::min(n, opt.n_seed_candidates > 0 ? opt.n_seed_candidates : n);
  const TargetTerms terms = evaluate_target(obs, theta, r.n_candidates, opt);
  std::vector<double> lp(r.n_candidates);
  for (std::size_t i = 0; i < r.n_candidates; ++i) {
    lp[i] = terms.log_likelihood[i] + terms.log_prior[i];
    if (terms.log_prior[i] > -INFINITY) ++r.n_candidates_in_support;
  }
  try {
    r.seeds = stats::seed_walkers(theta, lp.data(), r.n_candidates, D, opt.mcmc.n_walkers, logpost,
                               opt.seed_jitter, opt.mcmc.seed);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("refine_mcmc: none of the " + std::to_string(r.n_candidates) +
                                " surrogate samples lies in the prior support with a finite likelihood (" +
                                std::to_string(r.n_candidates_in_support) + " in support)");
  }
  r.mcmc = stats::run_ensemble_mcmc(logpost, r.seeds.positions.data(), D, opt.mcmc);
  // Best point visited: seeds and every chain state.
  for (std::size_t w = 0; w < r.seeds.log_prob.size(); ++w)
    if (r.seeds.log_prob[w] > r.best_log_posterior) {
      r.best_log_posterior = r.seeds.log_prob[w];
      r.best_theta.assign(r.seeds.positions.begin() + w * D, r.seeds.positions.begin() + (w + 1) * D);
    }
  for (std::size_t k = 0; k < r.mcmc.log_prob.size(); ++k)
    if (r.mcmc.log_prob[k] > r.best_log_posterior) {
      r.best_log_posterior = r.mcmc.log_prob[k];
      r.best_theta.assign(r.mcmc.chain.begin() + k * D, r.mcmc.chain.begin() + (k + 1) * D);
    }
  const auto s = r.mcmc.samples();
  r.summary = summarize_posterior(s.data(), nullptr, s.size() / D);
  r.seconds = seconds_since(t0);
  return r;
}

std::vector<RefineIsResult> refine_is_many(const sim::LightCurveView* obs, std::size_t n_obs,
                                           const double* theta, const double* log_q, std::size_t n_samples,
                                           const RefineOptions& opt, const ObservationSampler& topup) {
  std::vector<RefineIsResult> out;
  out.reserve(n_obs);
  for (std::size_t o = 0; o < n_obs; ++o) {
    stats::ProposalSampler sampler;
    if (topup)
      sampler = [&topup, o](std::size_t m, double* th, double* lq) { topup(o, m, th, lq); };
    out.push_back(refine_is(obs[o], theta + o * n_samples * D, log_q + o * n_samples, n_samples, opt, sampler));
  }
  return out;
}

std::vector<RefineMcmcResult> refine_mcmc_many(const sim::LightCurveView* obs, std::size_t n_obs,
                                               const double* theta, std::size_t n_samples,
                                               const RefineOptions& opt) {
  std::vector<RefineMcmcResult> out;
  out.reserve(n_obs);
  for (std::size_t o = 0; o < n_obs; ++o) out.push_back(refine_mcmc(obs[o], theta + o * n_samples * D, n_samples, opt));
  return out;
}

}  // namespace lensflow::pipeline
