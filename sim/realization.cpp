// sim/realization.cpp — CPU executor of the realization and the observed-data preprocessing
// (the per-point physics is in sim/realization.hpp).
#include "sim/realization.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"

namespace lensflow::sim {

void validate_realization_config(const RealizationConfig& cfg) {
  validate_prior(cfg.prior);
  if (cfg.n_win < 2) throw std::invalid_argument("realization: n_win must be >= 2");
  if (cfg.n_seq <= cfg.n_win)
    throw std::invalid_argument("realization: n_seq (" + std::to_string(cfg.n_seq) + ") must exceed n_win (" +
                                std::to_string(cfg.n_win) + ")");
  if (!(std::isfinite(cfg.dt) && cfg.dt > 0.0)) throw std::invalid_argument("realization: dt must be finite and > 0");
  if (!std::isfinite(cfg.t0_seq)) throw std::invalid_argument("realization: t0_seq must be finite");
  if (!(std::isfinite(cfg.snr_min) && std::isfinite(cfg.snr_max) && cfg.snr_min > 0.0 && cfg.snr_min <= cfg.snr_max))
    throw std::invalid_argument("realization: S/N range must satisfy 0 < snr_min <= snr_max");
}

void preprocess_lightcurve(const float* x, std::size_t n, float* y) {
  if (n > 0 && (!x || !y)) throw std::invalid_argument("preprocess_lightcurve: null pointer");
  std::vector<float> valid;
  valid.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i]) && x[i] > 0.0f) valid.push_back(x[i]);
  if (valid.size() < 2)
    throw std::invalid_argument("preprocess_lightcurve: " + std::to_string(valid.size()) + " valid points of " +
                                std::to_string(n) + " (need >= 2 finite, positive fluxes)");
  std::sort(valid.begin(), valid.end());
  const float med = median_of_sorted(valid.data(), valid.size());
  long last = -1;  // last valid index
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::isfinite(x[i]) && x[i] > 0.0f)) continue;
    y[i] = preprocess_point(x[i], med);
    if (last < 0) {
      for (std::size_t j = 0; j < i; ++j) y[j] = y[i];  // before the first valid point
    } else {
      for (std::size_t j = std::size_t(last) + 1; j < i; ++j) {
        const double w = double(j - std::size_t(last)) / double(i - std::size_t(last));
        y[j] = float((1.0 - w) * y[last] + w * y[i]);
      }
    }
    last = long(i);
  }
  for (std::size_t j = std::size_t(last) + 1; j < n; ++j) y[j] = y[last];  // after the last valid point
}

void realize_batch_host(const RealizationConfig& cfg, const float* mag, const lens::EventParams* ev,
                        const std::uint64_t* sample_id, std::size_t B, std::uint64_t seed, std::uint64_t epoch,
                        float* x_out, float* theta_std_out, double* theta_out, float* flux_out, int n_threads) {
  validate_realization_config(cfg);
  if (B > 0 && (!mag || !ev || !sample_id || !x_out || !theta_std_out))
    throw std::invalid_argument("realize_batch_host: null pointer with B > 0");
  for (std::size_t b = 0; b < B; ++b) {
    if (!(ev[b].s > 0 && ev[b].q > 0 && ev[b].tE > 0 && ev[b].rho > 0 && std::isfinite(ev[b].alpha_deg) &&
          std::isfinite(ev[b].u0) && std::isfinite(ev[b].s) && std::isfinite(ev[b].q) && std::isfinite(ev[b].tE) &&
          std::isfinite(ev[b].rho)))
      throw std::invalid_argument("realize_batch_host: event " + std::to_string(b) +
                                  " has non-finite fields or s, q, tE, rho <= 0");
    const float* m = mag + b * cfg.n_seq;
    for (std::size_t i = 0; i < cfg.n_seq; ++i)
      if (!(std::isfinite(m[i]) && m[i] > 0.0f)) {
        std::ostringstream os;
        os << "realize_batch_host: mag[" << b << "][" << i << "] = " << m[i] << " (must be finite and > 0)";
        throw std::invalid_argument(os.str());
      }
  }
  const ThetaStandardization st = theta_standardization(cfg.prior);
  const std::size_t W = cfg.n_win;
  core::parallel_for_chunks(B, 1, n_threads, [&](std::size_t b0, std::size_t b1) {
    std::vector<float> x(W), sorted(W);
    for (std::size_t b = b0; b < b1; ++b) {
      const RealizationDraw d = realization_draw(cfg, seed, epoch, sample_id[b]);
      for (std::size_t j = 0; j < W; ++j)
        x[j] = realization_flux(cfg, mag + b * cfg.n_seq, d, seed, epoch, sample_id[b], long(j));
      sorted = x;
      std::nth_element(sorted.begin(), sorted.begin() + W / 2, sorted.end());
      if (W % 2 == 0) std::nth_element(sorted.begin(), sorted.begin() + W / 2 - 1, sorted.begin() + W / 2);
      const float med = median_of_sorted(sorted.data(), W);  // only the middle elements are read
      for (std::size_t j = 0; j < W; ++j) x_out[b * W + j] = preprocess_point(x[j], med);
      if (flux_out) std::copy(x.begin(), x.end(), flux_out + b * W);
      double th[kThetaDim];
      realization_theta(cfg, ev[b], d, th);
      for (int k = 0; k < kThetaDim; ++k) {
        theta_std_out[b * kThetaDim + k] = float((th[k] - st.mean[k]) / st.std[k]);
        if (theta_out) theta_out[b * kThetaDim + k] = th[k];
      }
    }
  });
}

#if !LENSFLOW_HAVE_CUDA
void realize_batch_device(const RealizationConfig&, const float*, const lens::EventParams*, const std::uint64_t*,
                          std::size_t, std::uint64_t, std::uint64_t, float*, float*, double*, float*, void*,
                          const std::int64_t*) {
  throw std::runtime_error("realize_batch_device: lensflow was built without CUDA");
}
#endif

}  // namespace lensflow::sim
