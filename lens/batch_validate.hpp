// lens/batch_validate.hpp — host-side input checks shared by the batched entry points: every bad
// value becomes a std::invalid_argument that names the call, the field and the index, and every
// value outside the domain where the solvers are verified is refused the same way (naming the
// domain) instead of giving a silently wrong number.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

#include "lens/lensflow_lens.hpp"

namespace lensflow::lens {

// The supported domain. Inside it the point-source magnification agrees with a 60-digit mpmath
// solution of the lens equation to better than 1e-8 relative (A < 1e7; checked at the corners,
// sources near both lenses, the planetary caustic and the centre), and the finite-source one
// obeys the mirror symmetry (s, q, y1, y2) = (s, 1/q, -y1, y2) to its tolerance. Beyond it
// round-off wins: s = 1e5 or q = 1e-17 miscount images, |y| = 1e55 gives A = 3.
constexpr double kMinSeparation = 1e-3, kMaxSeparation = 1e3;  // s
constexpr double kMinMassRatio = 1e-9, kMaxMassRatio = 1e9;     // q
constexpr double kMaxSourceOffset = 1e8;                        // |y1|, |y2| (A - 1 < 1e-30 there)
constexpr double kMaxSourceRadius = 10.0;                       // rho

namespace detail {

[[noreturn]] inline void bad_value(const char* fn, const char* field, std::size_t i, double v, const char* rule) {
  std::ostringstream os;
  os.precision(17);
  os << fn << ": " << field << "[" << i << "] = " << v << " is invalid (" << rule << ")";
  throw std::invalid_argument(os.str());
}

inline void require_pointer(const char* fn, const void* p, const char* field, std::size_t n) {
  if (n > 0 && p == nullptr) throw std::invalid_argument(std::string(fn) + ": " + field + " is null but n > 0");
}

[[noreturn]] inline void out_of_domain(const char* fn, const char* field, std::size_t i, double v, double lo,
                                       double hi) {
  std::ostringstream os;
  os << fn << ": " << field << "[" << i << "] = " << v << " is outside the supported range [" << lo << ", "
     << hi << "]";
  throw std::invalid_argument(os.str());
}

inline void check_s_q(const char* fn, const char* fs, const char* fq, std::size_t i, double s, double q) {
  if (!(std::isfinite(s) && s > 0.0)) bad_value(fn, fs, i, s, "must be finite and > 0");
  if (!(std::isfinite(q) && q > 0.0)) bad_value(fn, fq, i, q, "must be finite and > 0");
  if (s < kMinSeparation || s > kMaxSeparation) out_of_domain(fn, fs, i, s, kMinSeparation, kMaxSeparation);
  if (q < kMinMassRatio || q > kMaxMassRatio) out_of_domain(fn, fq, i, q, kMinMassRatio, kMaxMassRatio);
}

inline void check_rho(const char* fn, const char* field, std::size_t i, double rho) {
  if (!(std::isfinite(rho) && rho >= 0.0)) bad_value(fn, field, i, rho, "must be finite and >= 0");
  if (rho > kMaxSourceRadius) out_of_domain(fn, field, i, rho, 0.0, kMaxSourceRadius);
}

// s, q finite, > 0 and in the domain; y1, y2 finite and in the domain; rho (nullable) too.
inline void validate_points(const char* fn, const double* s, const double* q, const double* y1, const double* y2,
                            const double* rho, std::size_t n, const double* A) {
  require_pointer(fn, s, "s", n);
  require_pointer(fn, q, "q", n);
  require_pointer(fn, y1, "y1", n);
  require_pointer(fn, y2, "y2", n);
  require_pointer(fn, A, "A (output)", n);
  const double Y = kMaxSourceOffset;
  for (std::size_t i = 0; i < n; ++i) {
    check_s_q(fn, "s", "q", i, s[i], q[i]);
    if (!std::isfinite(y1[i])) bad_value(fn, "y1", i, y1[i], "must be finite");
    if (!std::isfinite(y2[i])) bad_value(fn, "y2", i, y2[i], "must be finite");
    if (std::fabs(y1[i]) > Y) out_of_domain(fn, "y1", i, y1[i], -Y, Y);
    if (std::fabs(y2[i]) > Y) out_of_domain(fn, "y2", i, y2[i], -Y, Y);
  }
  if (rho) {
    for (std::size_t i = 0; i < n; ++i) check_rho(fn, "rho", i, rho[i]);
  }
}

// Event fields finite, s, q, tE > 0, rho >= 0 (checked only for finite-source curves); times finite;
// s, q, rho in the domain, and the source within kMaxSourceOffset of the origin at every epoch
// (|t - t0| / tE + |u0| bounds its distance, so a tiny tE is refused by name).
inline void validate_events(const char* fn, const EventParams* ev, std::size_t n_events, const double* t,
                            std::size_t n_t, bool finite, const double* A) {
  require_pointer(fn, ev, "events", n_events);
  require_pointer(fn, t, "t", n_t);
  require_pointer(fn, A, "A (output)", n_events * n_t);
  double t_lo = 0.0, t_hi = 0.0;
  for (std::size_t i = 0; i < n_t; ++i) {
    if (!std::isfinite(t[i])) bad_value(fn, "t", i, t[i], "must be finite");
    t_lo = i == 0 ? t[i] : std::min(t_lo, t[i]);
    t_hi = i == 0 ? t[i] : std::max(t_hi, t[i]);
  }
  const double Y = kMaxSourceOffset;
  for (std::size_t k = 0; k < n_events; ++k) {
    const EventParams& e = ev[k];
    check_s_q(fn, "event.s", "event.q", k, e.s, e.q);
    if (!std::isfinite(e.alpha_deg)) bad_value(fn, "event.alpha_deg", k, e.alpha_deg, "must be finite");
    if (!std::isfinite(e.u0)) bad_value(fn, "event.u0", k, e.u0, "must be finite");
    if (!std::isfinite(e.t0)) bad_value(fn, "event.t0", k, e.t0, "must be finite");
    if (!(std::isfinite(e.tE) && e.tE > 0.0)) bad_value(fn, "event.tE", k, e.tE, "must be finite and > 0");
    if (finite) check_rho(fn, "event.rho", k, e.rho);
    if (std::fabs(e.u0) > Y) out_of_domain(fn, "event.u0", k, e.u0, -Y, Y);
    if (n_t == 0) continue;
    const double tau = std::max(std::fabs(t_lo - e.t0), std::fabs(t_hi - e.t0)) / e.tE;
    if (!(tau + std::fabs(e.u0) <= Y)) {
      std::ostringstream os;
      os << fn << ": event.tE[" << k << "] = " << e.tE << " (t0 = " << e.t0 << ") puts the source "
         << tau << " Einstein radii away at t = " << (std::fabs(t_lo - e.t0) > std::fabs(t_hi - e.t0) ? t_lo : t_hi)
         << "; the supported source positions are within " << Y << " of the lens";
      throw std::invalid_argument(os.str());
    }
  }
}

// Tolerances >= 0 (not both 0) and limb-darkening coefficient in [0, 1].
inline void validate_options(const char* fn, const FiniteSourceOptions& opt) {
  if (!(std::isfinite(opt.tol_abs) && opt.tol_abs >= 0.0)) bad_value(fn, "opt.tol_abs", 0, opt.tol_abs, "must be finite and >= 0");
  if (!(std::isfinite(opt.tol_rel) && opt.tol_rel >= 0.0)) bad_value(fn, "opt.tol_rel", 0, opt.tol_rel, "must be finite and >= 0");
  if (opt.tol_abs == 0.0 && opt.tol_rel == 0.0)
    throw std::invalid_argument(std::string(fn) + ": opt.tol_abs and opt.tol_rel are both 0 (no attainable accuracy)");
  if (!(std::isfinite(opt.a1) && opt.a1 >= 0.0 && opt.a1 <= 1.0)) bad_value(fn, "opt.a1", 0, opt.a1, "must be in [0, 1]");
}

}  // namespace detail
}  // namespace lensflow::lens
