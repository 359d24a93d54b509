// stats/mcmc_diagnostics.cpp — autocorrelation time (FFT + Sokal window) and split-R̂.
#include "stats/mcmc_diagnostics.hpp"

#include <cmath>
#include <complex>
#include <limits>
#include <stdexcept>

namespace lensflow::stats {
namespace {

// In-place iterative radix-2 FFT (size a power of two); inverse without the 1/n factor.
void fft_inplace(std::vector<std::complex<double>>& a, bool inverse) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  const double pi = 3.14159265358979323846;
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = 2.0 * pi / static_cast<double>(len) * (inverse ? 1.0 : -1.0);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (std::size_t i = 0; i < n; i += len) {
      std::complex<double> w(1.0, 0.0);
      for (std::size_t k = 0; k < len / 2; ++k) {
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

void check_chain(std::size_t n_steps, std::size_t n_walkers, std::size_t dim, std::size_t first_step,
                 std::size_t min_steps, const char* who) {
  if (n_walkers == 0 || dim == 0)
    throw std::invalid_argument(std::string(who) + ": n_walkers and dim must be positive");
  if (first_step >= n_steps || n_steps - first_step < min_steps)
    throw std::invalid_argument(std::string(who) + ": needs at least " + std::to_string(min_steps) +
                                " steps after first_step (have " +
                                std::to_string(n_steps > first_step ? n_steps - first_step : 0) + ")");
}

}  // namespace

std::vector<double> autocorrelation_function(const double* x, std::size_t n, std::size_t stride) {
  if (n == 0) throw std::invalid_argument("autocorrelation_function: empty series");
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += x[i * stride];
  mean /= static_cast<double>(n);
  std::size_t m = 1;
  while (m < 2 * n) m <<= 1;  // zero padding avoids circular wrap-around
  std::vector<std::complex<double>> f(m, {0.0, 0.0});
  for (std::size_t i = 0; i < n; ++i) f[i] = x[i * stride] - mean;
  fft_inplace(f, false);
  for (auto& v : f) v = std::norm(v);
  fft_inplace(f, true);
  std::vector<double> acf(n, 0.0);
  const double c0 = f[0].real();
  if (!(c0 > 0.0)) {  // constant series: no correlation structure
    acf[0] = 1.0;
    return acf;
  }
  for (std::size_t k = 0; k < n; ++k) acf[k] = f[k].real() / c0;
  return acf;
}

std::vector<double> integrated_autocorr_time(const double* chain, std::size_t n_steps,
                                             std::size_t n_walkers, std::size_t dim,
                                             std::size_t first_step, double c) {
  check_chain(n_steps, n_walkers, dim, first_step, 2, "integrated_autocorr_time");
  const std::size_t n = n_steps - first_step;
  const double* base = chain + first_step * n_walkers * dim;
  std::vector<double> tau(dim, 0.0);
  for (std::size_t d = 0; d < dim; ++d) {
    std::vector<double> mean_acf(n, 0.0);
    for (std::size_t w = 0; w < n_walkers; ++w) {
      const auto acf = autocorrelation_function(base + w * dim + d, n, n_walkers * dim);
      for (std::size_t k = 0; k < n; ++k) mean_acf[k] += acf[k];
    }
    for (auto& v : mean_acf) v /= static_cast<double>(n_walkers);
    // τ(M) = 1 + 2 Σ_{k=1..M} ρ(k) = 2 Σ_{k=0..M} ρ(k) − 1; window: first M with M >= c τ(M).
    double cum = 0.0, t = 1.0;
    std::size_t M = 0;
    for (; M < n; ++M) {
      cum += mean_acf[M];
      t = 2.0 * cum - 1.0;
      if (static_cast<double>(M) >= c * t) break;
    }
    tau[d] = t;
  }
  return tau;
}

std::vector<double> split_rhat(const double* chain, std::size_t n_steps, std::size_t n_walkers,
                               std::size_t dim, std::size_t first_step) {
  check_chain(n_steps, n_walkers, dim, first_step, 4, "split_rhat");
  const std::size_t half = (n_steps - first_step) / 2;  // an odd leftover step is dropped
  const std::size_t m = 2 * n_walkers;
  std::vector<double> rhat(dim, 1.0);
  for (std::size_t d = 0; d < dim; ++d) {
    std::vector<double> means(m, 0.0), vars(m, 0.0);
    for (std::size_t w = 0; w < n_walkers; ++w) {
      for (std::size_t h = 0; h < 2; ++h) {
        const std::size_t s0 = first_step + h * half;
        double mu = 0.0;
        for (std::size_t s = 0; s < half; ++s) mu += chain[((s0 + s) * n_walkers + w) * dim + d];
        mu /= static_cast<double>(half);
        double ss = 0.0;
        for (std::size_t s = 0; s < half; ++s) {
          const double e = chain[((s0 + s) * n_walkers + w) * dim + d] - mu;
          ss += e * e;
        }
        means[2 * w + h] = mu;
        vars[2 * w + h] = ss / static_cast<double>(half - 1);
      }
    }
    double grand = 0.0, W = 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      grand += means[j];
      W += vars[j];
    }
    grand /= static_cast<double>(m);
    W /= static_cast<double>(m);
    double B = 0.0;
    for (std::size_t j = 0; j < m; ++j) B += (means[j] - grand) * (means[j] - grand);
    B *= static_cast<double>(half) / static_cast<double>(m - 1);
    const double nh = static_cast<double>(half);
    if (!(W > 0.0)) {
      rhat[d] = B > 0.0 ? std::numeric_limits<double>::infinity() : 1.0;
      continue;
    }
    const double var_plus = (nh - 1.0) / nh * W + B / nh;
    rhat[d] = std::sqrt(var_plus / W);
  }
  return rhat;
}

}  // namespace lensflow::stats
