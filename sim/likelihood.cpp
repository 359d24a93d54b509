// sim/likelihood.cpp — host likelihood: chunked lens::lightcurves_host calls + per-θ χ² sums.
#include "sim/likelihood.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "lens/lensflow_lens.hpp"

namespace lensflow::sim {

UsablePoints usable_points(const LightCurveView& obs) {
  if (obs.n > 0 && (obs.t == nullptr || obs.flux == nullptr))
    throw std::invalid_argument("likelihood: light curve has null time or flux array");
  UsablePoints u;
  u.t.reserve(obs.n);
  u.x.reserve(obs.n);
  double sum_sq = 0.0;
  for (std::size_t i = 0; i < obs.n; ++i) {
    if (!std::isfinite(obs.t[i]) || !std::isfinite(obs.flux[i])) {
      ++u.n_missing;
      continue;
    }
    u.t.push_back(obs.t[i]);
    u.x.push_back(obs.flux[i]);
    sum_sq += obs.flux[i] * obs.flux[i];
  }
  if (u.t.size() < 2)
    throw std::invalid_argument("likelihood: light curve has " + std::to_string(u.t.size()) +
                                " usable points (finite time and flux) of " + std::to_string(obs.n) +
                                "; need at least 2");
  if (!(sum_sq > 0.0)) throw std::invalid_argument("likelihood: observed flux is identically zero");
  return u;
}

double log_likelihood_from_sums(const FluxSums& s, BaselineFluxMode mode, double* fbase_out, double* chi2_out) {
  if (!s.positive || !(s.b > 0.0)) {
    if (fbase_out) *fbase_out = NAN;
    if (chi2_out) *chi2_out = INFINITY;
    return -INFINITY;
  }
  const double n = static_cast<double>(s.n);
  const double F = profile_fbase(s.a, s.b, n);
  if (fbase_out) *fbase_out = F;
  double ll = log_likelihood_at(s, F, chi2_out);
  if (mode == BaselineFluxMode::laplace_marginal) {
    const double info = s.b / F + n / (2.0 * F * F);
    ll += 0.5 * (1.8378770664093454836 - std::log(info));
  }
  return ll;
}

void validate_theta(const double* theta, std::size_t n_theta, std::size_t offset) {
  for (std::size_t k = 0; k < n_theta; ++k)
    for (int d = 0; d < kThetaDim; ++d)
      if (!std::isfinite(theta[k * kThetaDim + d])) {
        std::ostringstream os;
        os << "likelihood: theta[" << (offset + k) << "][" << kThetaNames[d]
           << "] = " << theta[k * kThetaDim + d] << " is not finite";
        throw std::invalid_argument(os.str());
      }
}

namespace {

FluxSums sums_for(const double* A, double fs, const std::vector<double>& x) {
  FluxSums s;
  s.n = x.size();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double m = fs * A[i] + 1.0 - fs;
    if (!(m > 0.0)) {
      s.positive = false;
      return s;
    }
    s.a += x[i] * x[i] / m;
    s.b += m;
    s.sum_x += x[i];
    s.sum_log_m += std::log(m);
  }
  return s;
}

void check_options(const LikelihoodOptions& opt) {
  if (opt.max_chunk_points == 0) throw std::invalid_argument("likelihood: max_chunk_points must be positive");
  if (opt.n_threads < 0) throw std::invalid_argument("likelihood: n_threads must be >= 0");
}

void evaluate_usable(const UsablePoints& u, const double* theta, std::size_t n_theta, const LikelihoodOptions& opt,
                     double* logl, const LikelihoodExtras& extras, std::size_t index_offset) {
  validate_theta(theta, n_theta, index_offset);
  const std::size_t n_t = u.t.size();
  const std::size_t chunk = std::max<std::size_t>(1, std::min(n_theta, opt.max_chunk_points / n_t));
  std::vector<lens::EventParams> ev(chunk);
  std::vector<double> A(chunk * n_t);
  for (std::size_t first = 0; first < n_theta; first += chunk) {
    const std::size_t m = std::min(chunk, n_theta - first);
    for (std::size_t k = 0; k < m; ++k) ev[k] = event_from_theta(theta + (first + k) * kThetaDim);
    lens::lightcurves_host(ev.data(), m, u.t.data(), n_t, opt.finite_source, opt.fs, A.data(), nullptr, opt.n_threads);
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t j = first + k;
      const FluxSums s = sums_for(A.data() + k * n_t, theta[j * kThetaDim + 7], u.x);
      logl[j] = log_likelihood_from_sums(s, opt.fbase, extras.fbase ? extras.fbase + j : nullptr,
                                         extras.chi2 ? extras.chi2 + j : nullptr);
    }
  }
}

}  // namespace

void log_likelihood_host(const LightCurveView& obs, const double* theta, std::size_t n_theta,
                         const LikelihoodOptions& opt, double* logl, const LikelihoodExtras& extras) {
  check_options(opt);
  if (n_theta == 0) return;
  if (theta == nullptr || logl == nullptr) throw std::invalid_argument("likelihood: null theta or output array");
  evaluate_usable(usable_points(obs), theta, n_theta, opt, logl, extras, 0);
}

void log_likelihood_many_host(const LightCurveView* curves, std::size_t n_curves, const double* theta,
                              std::size_t n_per_curve, const LikelihoodOptions& opt, double* logl,
                              const LikelihoodExtras& extras) {
  check_options(opt);
  if (n_curves == 0 || n_per_curve == 0) return;
  if (curves == nullptr || theta == nullptr || logl == nullptr)
    throw std::invalid_argument("likelihood: null curves, theta or output array");
  for (std::size_t c = 0; c < n_curves; ++c) {
    UsablePoints u;
    try {
      u = usable_points(curves[c]);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("light curve " + std::to_string(c) + ": " + e.what());
    }
    const std::size_t off = c * n_per_curve;
    LikelihoodExtras ex{extras.fbase ? extras.fbase + off : nullptr, extras.chi2 ? extras.chi2 + off : nullptr};
    evaluate_usable(u, theta + off * kThetaDim, n_per_curve, opt, logl + off, ex, off);
  }
}

#if !LENSFLOW_HAVE_CUDA
void log_likelihood_device(const LightCurveView&, const double*, std::size_t, const LikelihoodOptions&, double*,
                           const LikelihoodExtras&, void*) {
  throw std::runtime_error("log_likelihood_device: lensflow was built without CUDA");
}
#endif

}  // namespace lensflow::sim
