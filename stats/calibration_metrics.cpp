// stats/calibration_metrics.cpp — see calibration_metrics.hpp.
#include "stats/calibration_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/thread_pool.hpp"

namespace lensflow::stats {

Modes find_modes(const float* x, std::size_t n, std::size_t stride, double lo, double hi,
                 const ModeOptions& opt) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("find_modes: need a finite range lo < hi");
  if (opt.bins < 1 || opt.neighbours < 0 || opt.max_modes < 1)
    throw std::invalid_argument("find_modes: bins >= 1, neighbours >= 0 and max_modes >= 1 needed");
  const int nb = opt.bins;
  std::vector<std::size_t> count(nb, 0);
  const double width = (hi - lo) / nb;
  std::size_t inside = 0, finite = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i * stride];
    if (!std::isfinite(v)) continue;  // missing samples (NaN) are not part of the marginal
    ++finite;
    if (!(v >= lo && v <= hi)) continue;
    int b = static_cast<int>((v - lo) / width);
    if (b >= nb) b = nb - 1;  // v == hi
    ++count[b];
    ++inside;
  }
  Modes m;
  m.bin_width = width;
  if (inside == 0) return m;
  std::vector<int> peaks;
  for (int b = 0; b < nb; ++b) {
    if (count[b] == 0) continue;
    bool peak = true;
    // Strictly higher than the left neighbours, at least as high as the right ones: a plateau
    // yields its leftmost bin once.
    for (int k = std::max(0, b - opt.neighbours); k < b && peak; ++k) peak = count[b] > count[k];
    for (int k = b + 1; k <= std::min(nb - 1, b + opt.neighbours) && peak; ++k)
      peak = count[b] >= count[k];
    if (peak) peaks.push_back(b);
  }
  std::stable_sort(peaks.begin(), peaks.end(), [&](int a, int b) { return count[a] > count[b]; });
  if (static_cast<int>(peaks.size()) > opt.max_modes) peaks.resize(opt.max_modes);
  for (int b : peaks) {
    m.values.push_back(lo + (b + 0.5) * width);
    m.densities.push_back(static_cast<double>(count[b]) / (static_cast<double>(finite) * width));
  }
  return m;
}

double sorted_quantile(const std::vector<double>& s, double p) {
  if (s.empty()) throw std::invalid_argument("sorted_quantile: no values");
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("sorted_quantile: p must be in [0, 1]");
  const double pos = p * static_cast<double>(s.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  if (i + 1 >= s.size()) return s.back();
  const double f = pos - static_cast<double>(i);
  return s[i] + f * (s[i + 1] - s[i]);
}

double ks_uniform_statistic(std::vector<double> u) {
  if (u.empty()) return 0.0;
  std::sort(u.begin(), u.end());
  const double n = static_cast<double>(u.size());
  double d = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double v = std::clamp(u[i], 0.0, 1.0);
    d = std::max({d, (i + 1) / n - v, v - i / n});
  }
  return d;
}

double ks_uniform_pvalue(double d, std::size_t n) {
  if (n == 0) return 1.0;
  const double sn = std::sqrt(static_cast<double>(n));
  const double lambda = (sn + 0.12 + 0.11 / sn) * d;
  if (lambda < 0.2) return 1.0;  // the series converges slowly there and Q ≈ 1
  double q = 0.0;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::exp(-2.0 * j * j * lambda * lambda);
    q += (j % 2 ? 2.0 : -2.0) * term;
    if (term < 1e-12) break;
  }
  return std::clamp(q, 0.0, 1.0);
}

namespace {

std::vector<double> sorted_finite(const float* x, std::size_t n, std::size_t stride) {
  std::vector<double> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i * stride])) v.push_back(x[i * stride]);
  if (v.empty()) throw std::invalid_argument("calibration metrics: no finite sample in a marginal");
  std::sort(v.begin(), v.end());
  return v;
}

EventMarginal summarize_sorted(const float* x, std::size_t n, std::size_t stride,
                               const std::vector<double>& s, const MarginalSpec& spec,
                               const ModeOptions& opt) {
  EventMarginal e;
  e.modes = find_modes(x, n, stride, spec.lo, spec.hi, opt);
  e.median = sorted_quantile(s, 0.5);
  e.p16 = sorted_quantile(s, 0.16);
  e.p84 = sorted_quantile(s, 0.84);
  return e;
}

void add_truth(EventMarginal& e, const std::vector<double>& s, double truth,
               const MarginalSpec& spec) {
  const auto lo = std::lower_bound(s.begin(), s.end(), truth);
  const auto hi = std::upper_bound(s.begin(), s.end(), truth);
  e.pit = (static_cast<double>(lo - s.begin()) + 0.5 * static_cast<double>(hi - lo)) /
          static_cast<double>(s.size());
  if (e.modes.values.empty()) return;  // no sample inside the prior range: unconstrained
  const double g = e.modes.values[0];
  const double prior = spec.prior_pdf ? spec.prior_pdf(g) : 1.0 / (spec.hi - spec.lo);
  e.constrained = e.modes.densities[0] > 2.0 * prior;
  std::size_t best = 0;
  for (std::size_t k = 1; k < e.modes.values.size(); ++k)
    if (std::fabs(e.modes.values[k] - truth) < std::fabs(e.modes.values[best] - truth)) best = k;
  e.closest_mode = e.modes.values[best];
  e.correct = e.constrained && best == 0;
}

void check_spec(const MarginalSpec& spec) {
  if (!(std::isfinite(spec.lo) && std::isfinite(spec.hi) && spec.lo < spec.hi))
    throw std::invalid_argument("calibration metrics: parameter '" + spec.name +
                                "' needs a finite range lo < hi");
}

}  // namespace

EventMarginal summarize_marginal(const float* x, std::size_t n, std::size_t stride,
                                 const MarginalSpec& spec, const ModeOptions& opt) {
  check_spec(spec);
  const auto s = sorted_finite(x, n, stride);
  return summarize_sorted(x, n, stride, s, spec, opt);
}

EventMarginal evaluate_marginal(const float* x, std::size_t n, std::size_t stride, double truth,
                                const MarginalSpec& spec, const ModeOptions& opt) {
  check_spec(spec);
  if (!std::isfinite(truth))
    throw std::invalid_argument("calibration metrics: non-finite truth for '" + spec.name + "'");
  const auto s = sorted_finite(x, n, stride);
  EventMarginal e = summarize_sorted(x, n, stride, s, spec, opt);
  add_truth(e, s, truth, spec);
  return e;
}

CalibrationMetrics::CalibrationMetrics(std::vector<MarginalSpec> specs, std::vector<double> levels,
                                       ModeOptions opt)
    : specs_(std::move(specs)), levels_(std::move(levels)), opt_(opt) {
  if (specs_.empty()) throw std::invalid_argument("CalibrationMetrics: no parameters");
  for (const auto& s : specs_) check_spec(s);
  for (double l : levels_)
    if (!(l > 0.0 && l < 1.0))
      throw std::invalid_argument("CalibrationMetrics: credible levels must lie in (0, 1)");
  pit_.resize(specs_.size());
  covered_.assign(specs_.size(), std::vector<std::size_t>(levels_.size(), 0));
  n_constrained_.assign(specs_.size(), 0);
  n_correct_.assign(specs_.size(), 0);
}

std::vector<std::vector<EventMarginal>> CalibrationMetrics::add(const float* samples,
                                                                const double* truth,
                                                                std::size_t n_events,
                                                                std::size_t n_samples) {
  const std::size_t D = specs_.size();
  if (n_samples == 0) throw std::invalid_argument("CalibrationMetrics::add: no samples per event");
  std::vector<std::vector<EventMarginal>> out(n_events, std::vector<EventMarginal>(D));
  // covered[event][param][level], filled in parallel, reduced below in event order.
  std::vector<std::uint8_t> covered(n_events * D * levels_.size(), 0);
  core::parallel_for(static_cast<int64_t>(n_events), 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (std::size_t d = 0; d < D; ++d) {
        const float* x = samples + (static_cast<std::size_t>(i) * n_samples) * D + d;
        const double t = truth[i * D + d];
        if (!std::isfinite(t))
          throw std::invalid_argument("CalibrationMetrics: non-finite truth for '" +
                                      specs_[d].name + "' in event " + std::to_string(i));
        const auto s = sorted_finite(x, n_samples, D);
        EventMarginal m = summarize_sorted(x, n_samples, D, s, specs_[d], opt_);
        add_truth(m, s, t, specs_[d]);
        for (std::size_t l = 0; l < levels_.size(); ++l) {
          const double a = sorted_quantile(s, 0.5 * (1.0 - levels_[l]));
          const double c = sorted_quantile(s, 0.5 * (1.0 + levels_[l]));
          covered[(i * D + d) * levels_.size() + l] = (t >= a && t <= c);
        }
        out[i][d] = std::move(m);
      }
  });
  for (std::size_t i = 0; i < n_events; ++i)
    for (std::size_t d = 0; d < D; ++d) {
      const auto& m = out[i][d];
      pit_[d].push_back(m.pit);
      n_constrained_[d] += m.constrained;
      n_correct_[d] += m.correct;
      for (std::size_t l = 0; l < levels_.size(); ++l)
        covered_[d][l] += covered[(i * D + d) * levels_.size() + l];
    }
  n_events_ += n_events;
  return out;
}

std::vector<ParameterMetrics> CalibrationMetrics::finish() const {
  std::vector<ParameterMetrics> res(specs_.size());
  for (std::size_t d = 0; d < specs_.size(); ++d) {
    auto& r = res[d];
    r.name = specs_[d].name;
    r.n_events = n_events_;
    r.n_constrained = n_constrained_[d];
    r.n_correct = n_correct_[d];
    r.constrained_fraction = n_events_ ? double(r.n_constrained) / double(n_events_) : 0.0;
    r.correct_fraction = r.n_constrained ? double(r.n_correct) / double(r.n_constrained) : 0.0;
    r.pit = pit_[d];
    r.pit_ks = ks_uniform_statistic(r.pit);
    r.pit_ks_pvalue = ks_uniform_pvalue(r.pit_ks, r.pit.size());
    for (std::size_t l = 0; l < levels_.size(); ++l)
      r.coverage.push_back(n_events_ ? double(covered_[d][l]) / double(n_events_) : 0.0);
  }
  return res;
}

}  // namespace lensflow::stats
