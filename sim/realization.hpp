// sim/realization.hpp — on-the-fly light-curve realization of a training sample
// (docs/conventions.md §Training set) and the preprocessing the network sees (host and device, same
// numbers on both).
//
// Given a stored magnification sequence (n_seq = 14,400 points at dt = 0.01 d, event t0 at
// t0_seq = 72 d) and its event parameters, one realization:
//   1. window start k uniform in [1, n_seq - n_win] (= [1, 7200]); the window holds sequence
//      points k … k + n_win - 1 and its time origin is the first of them, so t0 relative to the
//      window is t0_seq - k·dt ∈ [0, 71.99] d: the prior's t0 ~ U(0, 72) on the 0.01-d grid.
//      (k = 0 is left out so that the set of window t0 values is closed under time reversal:
//      k = 0 would give t0 = 72 forward and -0.01 reversed, outside the prior.)
//   2. f_s ~ the prior's LogU(0.1, 1); SNR_base ~ U(23, 230); F_base = SNR_base² photon counts.
//   3. flux g_j = F_base (f_s A_j + 1 - f_s), observation x_j = g_j + sqrt(g_j)·N(0, 1) (Gaussian
//      limit of photon noise), clamped at 1 count (an over-20σ excursion at the lowest S/N: never in
//      practice, but it keeps the log below finite).
//   4. with probability 1/2 (time_reversal on) the window is reversed: x'_j = x_{n_win-1-j},
//      α → -(α + 180) mod 360, t0 → (n_win - 1)·dt - t0, u0 unchanged
//      (docs/conventions.md §Trajectory).
//   5. θ = (log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ, f_s) and its standardization
//      (θ - mean)/std with the prior's analytic moments (sim/priors.hpp theta_standardization).
// Randomness: counter-based, keyed by (seed, epoch, sample_id) — sample_id is the event's global
// draw index — so a realization does not depend on batch composition, thread count or device.
//
// Preprocessing (preprocess_lightcurve, also used at inference on observed data): y_j =
// ln(x_j / median(x)). Scale-free (F_base is unknown for real data: multiplying x by any constant
// leaves y unchanged), the baseline sits near 0, noise is ~1/SNR_base, and a magnification of 1000
// maps to ~7, a range a network digests. Observed points that are NaN, ±Inf or <= 0 are missing:
// the median is over the valid points, missing y_j are linearly interpolated between the nearest
// valid neighbours (held constant beyond the first/last valid point); fewer than 2 valid points
// throw. The realization's own points are never missing.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/counter_rng.hpp"
#include "core/hd.hpp"
#include "lens/trajectory.hpp"
#include "sim/priors.hpp"

namespace lensflow::sim {

struct RealizationConfig {
  std::size_t n_seq = 14400;  // length of the stored sequences
  std::size_t n_win = 7200;   // window length (the network input length)
  double dt = 0.01;           // cadence, days
  double t0_seq = 72.0;       // event t0 in the stored sequence (days from its first point)
  double snr_min = 23.0, snr_max = 230.0;
  bool time_reversal = true;  // reverse with probability 1/2
  bool noise = true;          // false: x = g exactly (tests, noise-free plots)
  PriorBox prior;             // f_s prior and the θ standardization
};

// Throws std::invalid_argument naming the problem (n_win >= n_seq, dt <= 0, bad S/N range, ...).
void validate_realization_config(const RealizationConfig& cfg);

// The random choices of one realization.
struct RealizationDraw {
  long k;         // window start index in the sequence, in [1, n_seq - n_win]
  double fs;      // source flux fraction
  double snr;     // baseline S/N; F_base = snr²
  bool reversed;  // time-reversed window
};

// Salt that separates realization keys from the prior draws of the same seed.
constexpr std::uint64_t kRealizationSalt = 0x5245414C495A45ull;  // "REALIZE"

LENSFLOW_HD RealizationDraw realization_draw(const RealizationConfig& cfg, std::uint64_t seed, std::uint64_t epoch,
                                             std::uint64_t sample_id) {
  const std::uint64_t key = seed ^ kRealizationSalt;
  auto u = [&](std::uint64_t c) { return core::counter_uniform(key, sample_id, epoch, c); };
  RealizationDraw d;
  const long n_start = long(cfg.n_seq - cfg.n_win);  // choices 1 … n_start
  long k = 1 + long(u(0) * double(n_start));
  d.k = k > n_start ? n_start : k;
  d.fs = log_uniform(cfg.prior.fs_min, cfg.prior.fs_max, u(1));
  d.snr = cfg.snr_min + u(2) * (cfg.snr_max - cfg.snr_min);
  d.reversed = cfg.time_reversal && u(3) < 0.5;
  return d;
}

// θ of the realization (physical, unstandardized).
LENSFLOW_HD void realization_theta(const RealizationConfig& cfg, const lens::EventParams& ev, const RealizationDraw& d,
                                   double* theta) {
  double t0 = cfg.t0_seq - double(d.k) * cfg.dt;
  double alpha = ev.alpha_deg;
  if (d.reversed) {
    t0 = double(cfg.n_win - 1) * cfg.dt - t0;
    alpha = lens::time_reversed_alpha(alpha);
  }
  theta[0] = log10(ev.s);
  theta[1] = log10(ev.q);
  theta[2] = alpha;
  theta[3] = ev.u0;
  theta[4] = t0;
  theta[5] = log10(ev.tE);
  theta[6] = log10(ev.rho);
  theta[7] = d.fs;
}

// Observed flux of output point j (< n_win) of the realization, in photon counts, as float (the
// precision the network gets). mag is the event's stored sequence (n_seq points).
LENSFLOW_HD float realization_flux(const RealizationConfig& cfg, const float* mag, const RealizationDraw& d,
                                   std::uint64_t seed, std::uint64_t epoch, std::uint64_t sample_id, long j) {
  const long src = d.k + (d.reversed ? long(cfg.n_win) - 1 - j : j);
  const double F = d.snr * d.snr;
  const double g = F * (d.fs * double(mag[src]) + 1.0 - d.fs);
  double x = g;
  if (cfg.noise) x += sqrt(fmax(g, 0.0)) * core::counter_normal(seed ^ kRealizationSalt, sample_id, epoch, 16 + std::uint64_t(j));
  return float(fmax(x, 1.0));
}

// Median of n sorted values (mean of the two middle ones for even n), as float.
LENSFLOW_HD float median_of_sorted(const float* v, std::size_t n) {
  return n % 2 ? v[n / 2] : float(0.5 * (double(v[n / 2 - 1]) + double(v[n / 2])));
}

// The preprocessing of one point given the window's median (both as the network sees them).
LENSFLOW_HD float preprocess_point(float x, float median) { return float(log(double(x) / double(median))); }

// Preprocessing of an observed light curve of n points (fluxes in any linear unit) into y (n
// floats); see the header comment for missing points. Throws std::invalid_argument when fewer
// than 2 points are valid.
void preprocess_lightcurve(const float* x, std::size_t n, float* y);

// Batched realization on CPU threads (0 = all cores). mag: B rows of n_seq floats; ev, sample_id:
// B entries. Outputs: x_out B × n_win preprocessed inputs; theta_std_out B × 8 standardized θ
// (float); theta_out (nullable) B × 8 physical θ (double); flux_out (nullable) B × n_win raw
// photon counts. Throws std::invalid_argument on a bad config or non-finite / non-positive mag.
void realize_batch_host(const RealizationConfig& cfg, const float* mag, const lens::EventParams* ev,
                        const std::uint64_t* sample_id, std::size_t B, std::uint64_t seed, std::uint64_t epoch,
                        float* x_out, float* theta_std_out, double* theta_out = nullptr, float* flux_out = nullptr,
                        int n_threads = 0);

// Device twin: every pointer a device pointer; stream a cudaStream_t (nullptr = default). One block
// per sample; the median is found by a bitonic sort in shared memory, so n_win <= 8192 on the
// device (std::invalid_argument otherwise). Same numbers as the host to float round-off. mag is
// not validated on the device. Throws std::runtime_error without CUDA or a device.
// kDeviceMaxWindow is that n_win limit.
// rows (nullable, a device array of B indices): sample b is the sequence rows[b] of mag, ev and
// sample_id (a resident training set realized batch by batch without gathering it first); the
// indices are trusted (in range).
constexpr std::size_t kDeviceMaxWindow = 8192;
void realize_batch_device(const RealizationConfig& cfg, const float* mag, const lens::EventParams* ev,
                          const std::uint64_t* sample_id, std::size_t B, std::uint64_t seed, std::uint64_t epoch,
                          float* x_out, float* theta_std_out, double* theta_out = nullptr, float* flux_out = nullptr,
                          void* stream = nullptr, const std::int64_t* rows = nullptr);

}  // namespace lensflow::sim
