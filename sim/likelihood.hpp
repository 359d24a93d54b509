// sim/likelihood.hpp — the exact Gaussian photon-noise likelihood of an observed light curve under
// θ = (log10 s, log10 q, α [deg], u0, t0, log10 tE, log10 ρ, f_s) (the order of
// docs/conventions.md §Priors, sim/priors.hpp), batched over many θ and over many light curves.
// Depends only on lens/.
//
// Model (docs/conventions.md §Noise model):
//   g_i = F_base·m_i,  m_i = f_s·A(t_i; θ) + 1 − f_s,  x_i ~ N(g_i, sqrt(g_i)).
// −2 log L(θ, F) = a/F − 2 Σx_i + F·b + n·log F + Σ log m_i + n log 2π,
//   with a = Σ x_i²/m_i, b = Σ m_i (n = number of used points).
//
// Baseline flux F_base is not in θ. Choice (BaselineFluxMode):
// - profile (default): maximize over F. ∂/∂F = 0 gives b F² + n F − a = 0, whose positive root
//   F̂ = 2a / (n + sqrt(n² + 4ab)) is the EXACT maximizer of the Gaussian likelihood with variance
//   g (no approximation of the variance by the observed flux). log L(θ) = log L(θ, F̂(θ)).
// - laplace_marginal: ∫ L(θ, F) dF under a flat prior on F (constant dropped), by Laplace's method:
//   log L(θ, F̂) + ½ log 2π − ½ log I(θ), I = −∂²log L/∂F² = b/F̂ + n/(2F̂²). F is determined to a
//   relative precision ~ 1/(SNR_base·sqrt(n)), so the two modes differ by a nearly constant offset
//   (the θ-dependence of ½ log I is ~1e-4 across a posterior); profile is the default.
//
// Data handling: times are in days in the frame of t0 (for the training set: days from the start
// of the 72-day window). Points with a non-finite time or flux are treated as missing (skipped,
// counted). A θ whose model flux is not positive at some point (f_s outside (0, 1] with A large)
// gets log L = −inf. Non-finite θ components throw std::invalid_argument naming the sample.
// Magnifications come from lens::lightcurves_host (lens/lensflow_lens.hpp): point source or finite
// source with lens::FiniteSourceOptions; their cost dominates (χ² reduction is O(n) per θ).
#pragma once
#include <cstddef>
#include <vector>

#include "core/hd.hpp"
#include "lens/finite_source.hpp"
#include "lens/trajectory.hpp"
#include "sim/priors.hpp"

namespace lensflow::sim {

// The lens/trajectory part of θ (the physical event; f_s is not in lens::EventParams).
LENSFLOW_HD lens::EventParams event_from_theta(const double* th) {
  lens::EventParams e;
  e.s = pow(10.0, th[0]);
  e.q = pow(10.0, th[1]);
  e.alpha_deg = th[2];
  e.u0 = th[3];
  e.t0 = th[4];
  e.tE = pow(10.0, th[5]);
  e.rho = pow(10.0, th[6]);
  return e;
}

// Observed light curve: n epochs t[i] (days) and fluxes x[i] (photon counts). Non-owning.
struct LightCurveView {
  const double* t = nullptr;
  const double* flux = nullptr;
  std::size_t n = 0;
};

enum class BaselineFluxMode { profile, laplace_marginal };

struct LikelihoodOptions {
  bool finite_source = true;       // false: point-source magnifications (ρ ignored)
  lens::FiniteSourceOptions fs;          // accuracy knobs of the finite-source magnification
  BaselineFluxMode fbase = BaselineFluxMode::profile;
  int n_threads = 0;               // lens::lightcurves_host threads (0 = all cores)
  std::size_t max_chunk_points = std::size_t(1) << 22;  // bounds the A buffer: θ per call ≈ this / n
};

// Per-θ outputs besides log L (each nullable, n_theta values).
struct LikelihoodExtras {
  double* fbase = nullptr;  // F̂_base(θ) (the profile maximizer; also reported in marginal mode)
  double* chi2 = nullptr;   // Σ (x − F̂m)²/(F̂m) at F̂
};

// Sufficient sums of one θ over the used points: enough for both F_base modes.
struct FluxSums {
  double a = 0.0;      // Σ x²/m
  double b = 0.0;      // Σ m
  double sum_x = 0.0;  // Σ x
  double sum_log_m = 0.0;
  std::size_t n = 0;
  bool positive = true;  // every m > 0
};

// Closed-form profile maximizer F̂ = 2a / (n + sqrt(n² + 4ab)) (a, b > 0).
LENSFLOW_HD double profile_fbase(double a, double b, double n) { return 2.0 * a / (n + sqrt(n * n + 4.0 * a * b)); }

// log L at F (exact Gaussian with variance F·m), from the sums; chi2 = a/F − 2Σx + F b.
LENSFLOW_HD double log_likelihood_at(const FluxSums& s, double F, double* chi2_out = nullptr) {
  const double chi2 = s.a / F - 2.0 * s.sum_x + F * s.b;
  if (chi2_out) *chi2_out = chi2;
  const double n = static_cast<double>(s.n);
  return -0.5 * (chi2 + n * log(F) + s.sum_log_m + n * 1.8378770664093454836);  // log 2π
}

// log L(θ) for n_theta parameter vectors (n_theta × 8, row-major) of ONE light curve.
// Throws std::invalid_argument on an empty/invalid light curve (fewer than 2 usable points,
// all-zero flux), non-finite θ, or bad options.
void log_likelihood_host(const LightCurveView& obs, const double* theta, std::size_t n_theta,
                         const LikelihoodOptions& opt, double* logl, const LikelihoodExtras& extras = {});

// Many light curves, each with its own n_per_curve θ: theta is (n_curves, n_per_curve, 8) and
// logl (n_curves, n_per_curve); extras arrays, when given, are shaped like logl.
void log_likelihood_many_host(const LightCurveView* curves, std::size_t n_curves, const double* theta,
                              std::size_t n_per_curve, const LikelihoodOptions& opt, double* logl,
                              const LikelihoodExtras& extras = {});

// Device twin of log_likelihood_host: the light curve and θ are HOST arrays (copied in), the
// magnifications are computed with lens::lightcurves_device and reduced per θ on the device (one block
// per θ); logl/extras are host arrays. Throws std::runtime_error when built without CUDA or when no
// device is present.
void log_likelihood_device(const LightCurveView& obs, const double* theta, std::size_t n_theta,
                           const LikelihoodOptions& opt, double* logl, const LikelihoodExtras& extras = {},
                           void* stream = nullptr);

// The usable points (finite t and flux) of a light curve, copied: what both backends evaluate.
struct UsablePoints {
  std::vector<double> t, x;
  std::size_t n_missing = 0;
};
UsablePoints usable_points(const LightCurveView& obs);

// Throws std::invalid_argument naming the sample (index offset + k) and component of the first
// non-finite θ value.
void validate_theta(const double* theta, std::size_t n_theta, std::size_t offset = 0);

// log L from sums according to the mode (−inf if some m <= 0); F̂ and χ² out (nullable).
double log_likelihood_from_sums(const FluxSums& s, BaselineFluxMode mode, double* fbase_out, double* chi2_out);

}  // namespace lensflow::sim
