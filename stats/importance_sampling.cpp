// stats/importance_sampling.cpp — log-space self-normalized importance weights, top-up, summaries.
#include "stats/importance_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/hash.hpp"

namespace lensflow::stats {
namespace {

constexpr double kNoEvidence = -1e308;

std::string describe(const ImportanceWeights& r) {
  std::ostringstream os;
  os << "n=" << r.n << " n_eff=" << r.n_eff << " efficiency=" << r.efficiency
     << " zero=" << r.n_zero << " invalid=" << r.n_invalid << " max_weight=" << r.max_weight;
  return os.str();
}

void check_weights_args(const double* w, std::size_t n, const char* who) {
  if (n == 0 || w == nullptr) throw std::invalid_argument(std::string(who) + ": no samples");
}

}  // namespace

ImportanceWeights importance_weights(const double* log_target, const double* log_q, std::size_t n) {
  ImportanceWeights r;
  r.n = n;
  r.log_w.assign(n, -INFINITY);
  r.weights.assign(n, 0.0);
  double lw_max = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    const double lt = log_target[i], lq = log_q[i];
    if (std::isnan(lt) || lt == INFINITY || !std::isfinite(lq)) {
      ++r.n_invalid;
      continue;
    }
    if (lt == -INFINITY) {
      ++r.n_zero;
      continue;
    }
    r.log_w[i] = lt - lq;
    lw_max = std::max(lw_max, r.log_w[i]);
  }
  if (!(lw_max > -INFINITY)) {
    r.status = IsStatus::no_valid_weights;
    r.message = "no sample has a positive finite importance weight (" + describe(r) +
                "): the proposal does not overlap the target";
    return r;
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    if (r.log_w[i] > -INFINITY) sum += std::exp(r.log_w[i] - lw_max);
  double sum_sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(r.log_w[i] > -INFINITY)) continue;
    r.weights[i] = std::exp(r.log_w[i] - lw_max) / sum;
    sum_sq += r.weights[i] * r.weights[i];
    r.max_weight = std::max(r.max_weight, r.weights[i]);
  }
  r.n_eff = std::max(0.0, 1.0 / sum_sq - 1.0);
  r.efficiency = r.n_eff / static_cast<double>(n);
  r.log_evidence = lw_max + std::log(sum / static_cast<double>(n));
  r.status = IsStatus::ok;
  r.message = describe(r);
  return r;
}

IsResult importance_sample(const double* theta0, const double* log_q0, std::size_t n0, std::size_t dim,
                           const BatchLogDensity& log_target, const IsOptions& options,
                           const ProposalSampler& sampler) {
  if (dim == 0) throw std::invalid_argument("importance_sample: dim must be positive");
  if (!log_target) throw std::invalid_argument("importance_sample: empty log-target callback");
  if (n0 == 0 && !sampler)
    throw std::invalid_argument("importance_sample: no initial samples and no sampler");
  if (options.target_neff > 0.0 && !sampler)
    throw std::invalid_argument("importance_sample: target_neff > 0 needs a proposal sampler");
  if (options.target_neff > 0.0 && options.batch_size == 0)
    throw std::invalid_argument("importance_sample: batch_size must be positive for top-up");
  if (n0 > 0 && (theta0 == nullptr || log_q0 == nullptr))
    throw std::invalid_argument("importance_sample: null initial sample arrays");

  IsResult res;
  res.dim = dim;
  auto evaluate = [&](std::size_t first, std::size_t count) {
    res.log_target.resize(first + count);
    log_target(res.theta.data() + first * dim, count, res.log_target.data() + first);
    ++res.n_batches;
  };
  if (n0 > 0) {
    res.theta.assign(theta0, theta0 + n0 * dim);
    res.log_q.assign(log_q0, log_q0 + n0);
    evaluate(0, n0);
  }
  auto draw = [&](std::size_t count) {
    const std::size_t first = res.log_q.size();
    res.theta.resize((first + count) * dim);
    res.log_q.resize(first + count);
    sampler(count, res.theta.data() + first * dim, res.log_q.data() + first);
    evaluate(first, count);
  };
  if (n0 == 0) draw(std::min(options.batch_size > 0 ? options.batch_size : 1000, options.max_samples));
  res.w = importance_weights(res.log_target.data(), res.log_q.data(), res.log_q.size());
  if (options.target_neff > 0.0) {
    while (res.w.n_eff < options.target_neff && res.log_q.size() < options.max_samples) {
      draw(std::min(options.batch_size, options.max_samples - res.log_q.size()));
      res.w = importance_weights(res.log_target.data(), res.log_q.data(), res.log_q.size());
    }
    if (res.w.status == IsStatus::ok && res.w.n_eff < options.target_neff) {
      res.w.status = IsStatus::neff_below_target;
      std::ostringstream os;
      os << "n_eff " << res.w.n_eff << " below the target " << options.target_neff
         << " after the sample budget of " << options.max_samples << " (" << res.w.message << ")";
      res.w.message = os.str();
    }
  }
  return res;
}

std::vector<double> weighted_mean(const double* theta, const double* w, std::size_t n, std::size_t dim) {
  check_weights_args(w, n, "weighted_mean");
  std::vector<double> mu(dim, 0.0);
  double sw = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(w[i] > 0.0)) continue;
    sw += w[i];
    for (std::size_t d = 0; d < dim; ++d) mu[d] += w[i] * theta[i * dim + d];
  }
  if (!(sw > 0.0)) throw std::invalid_argument("weighted_mean: no positive weight");
  for (auto& v : mu) v /= sw;
  return mu;
}

std::vector<double> weighted_covariance(const double* theta, const double* w, std::size_t n,
                                        std::size_t dim) {
  const auto mu = weighted_mean(theta, w, n, dim);
  std::vector<double> cov(dim * dim, 0.0);
  double sw = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(w[i] > 0.0)) continue;
    sw += w[i];
    for (std::size_t a = 0; a < dim; ++a) {
      const double ea = theta[i * dim + a] - mu[a];
      for (std::size_t b = 0; b <= a; ++b) cov[a * dim + b] += w[i] * ea * (theta[i * dim + b] - mu[b]);
    }
  }
  for (std::size_t a = 0; a < dim; ++a)
    for (std::size_t b = 0; b <= a; ++b) {
      cov[a * dim + b] /= sw;
      cov[b * dim + a] = cov[a * dim + b];
    }
  return cov;
}

double weighted_quantile(const double* theta, const double* w, std::size_t n, std::size_t dim,
                         std::size_t col, double p) {
  check_weights_args(w, n, "weighted_quantile");
  if (col >= dim) throw std::invalid_argument("weighted_quantile: column out of range");
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("weighted_quantile: p must be in [0, 1]");
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < n; ++i)
    if (w[i] > 0.0) idx.push_back(i);
  if (idx.empty()) throw std::invalid_argument("weighted_quantile: no positive weight");
  std::sort(idx.begin(), idx.end(),
            [&](std::size_t a, std::size_t b) { return theta[a * dim + col] < theta[b * dim + col]; });
  double total = 0.0;
  for (auto i : idx) total += w[i];
  // CDF position of each sorted sample: the midpoint of its weight mass.
  double cum = 0.0, prev_pos = 0.0, prev_val = theta[idx[0] * dim + col];
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const double pos = (cum + 0.5 * w[idx[k]]) / total;
    const double val = theta[idx[k] * dim + col];
    if (p <= pos) {
      if (k == 0) return val;
      return prev_val + (val - prev_val) * (p - prev_pos) / (pos - prev_pos);
    }
    cum += w[idx[k]];
    prev_pos = pos;
    prev_val = val;
  }
  return prev_val;
}

std::vector<std::size_t> resample_indices(const double* w, std::size_t n, std::size_t n_out,
                                          std::uint64_t seed) {
  check_weights_args(w, n, "resample_indices");
  double total = 0.0;
  std::size_t last_positive = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (w[i] > 0.0) {
      total += w[i];
      last_positive = i;
    }
  if (!(total > 0.0)) throw std::invalid_argument("resample_indices: no positive weight");
  // One uniform offset from a splitmix64 step of the seed: u0 in [0, 1/n_out).
  const double u0 = core::unit_interval_closed_open(core::splitmix64(seed));
  std::vector<std::size_t> out(n_out);
  double cum = 0.0;
  std::size_t i = 0;
  for (std::size_t k = 0; k < n_out; ++k) {
    const double target = (u0 + static_cast<double>(k)) / static_cast<double>(n_out) * total;
    while (i < last_positive && (!(w[i] > 0.0) || cum + w[i] <= target)) {
      cum += w[i] > 0.0 ? w[i] : 0.0;
      ++i;
    }
    out[k] = i;
  }
  return out;
}

}  // namespace lensflow::stats
