// lens/batch_validate.hpp — host-side input checks shared by the batched entry points: every bad
// value becomes a std::invalid_argument that names the call, the field and the index.
#pragma once
#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

#include "lens/lensflow_lens.hpp"

namespace lensflow::lens::detail {

[[noreturn]] inline void bad_value(const char* fn, const char* field, std::size_t i, double v, const char* rule) {
  std::ostringstream os;
  os.precision(17);
  os << fn << ": " << field << "[" << i << "] = " << v << " is invalid (" << rule << ")";
  throw std::invalid_argument(os.str());
}

inline void require_pointer(const char* fn, const void* p, const char* field, std::size_t n) {
  if (n > 0 && p == nullptr) throw std::invalid_argument(std::string(fn) + ": " + field + " is null but n > 0");
}

// s, q > 0 and finite; y1, y2 finite; rho (nullable) >= 0 and finite.
inline void validate_points(const char* fn, const double* s, const double* q, const double* y1, const double* y2,
                            const double* rho, std::size_t n, const double* A) {
  require_pointer(fn, s, "s", n);
  require_pointer(fn, q, "q", n);
  require_pointer(fn, y1, "y1", n);
  require_pointer(fn, y2, "y2", n);
  require_pointer(fn, A, "A (output)", n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::isfinite(s[i]) && s[i] > 0.0)) bad_value(fn, "s", i, s[i], "must be finite and > 0");
    if (!(std::isfinite(q[i]) && q[i] > 0.0)) bad_value(fn, "q", i, q[i], "must be finite and > 0");
    if (!std::isfinite(y1[i])) bad_value(fn, "y1", i, y1[i], "must be finite");
    if (!std::isfinite(y2[i])) bad_value(fn, "y2", i, y2[i], "must be finite");
  }
  if (rho) {
    for (std::size_t i = 0; i < n; ++i)
      if (!(std::isfinite(rho[i]) && rho[i] >= 0.0)) bad_value(fn, "rho", i, rho[i], "must be finite and >= 0");
  }
}

// Event fields finite, s, q, tE > 0, rho >= 0 (checked only for finite-source curves); times finite.
inline void validate_events(const char* fn, const EventParams* ev, std::size_t n_events, const double* t,
                            std::size_t n_t, bool finite, const double* A) {
  require_pointer(fn, ev, "events", n_events);
  require_pointer(fn, t, "t", n_t);
  require_pointer(fn, A, "A (output)", n_events * n_t);
  for (std::size_t k = 0; k < n_events; ++k) {
    const EventParams& e = ev[k];
    if (!(std::isfinite(e.s) && e.s > 0.0)) bad_value(fn, "event.s", k, e.s, "must be finite and > 0");
    if (!(std::isfinite(e.q) && e.q > 0.0)) bad_value(fn, "event.q", k, e.q, "must be finite and > 0");
    if (!std::isfinite(e.alpha_deg)) bad_value(fn, "event.alpha_deg", k, e.alpha_deg, "must be finite");
    if (!std::isfinite(e.u0)) bad_value(fn, "event.u0", k, e.u0, "must be finite");
    if (!std::isfinite(e.t0)) bad_value(fn, "event.t0", k, e.t0, "must be finite");
    if (!(std::isfinite(e.tE) && e.tE > 0.0)) bad_value(fn, "event.tE", k, e.tE, "must be finite and > 0");
    if (finite && !(std::isfinite(e.rho) && e.rho >= 0.0))
      bad_value(fn, "event.rho", k, e.rho, "must be finite and >= 0");
  }
  for (std::size_t i = 0; i < n_t; ++i)
    if (!std::isfinite(t[i])) bad_value(fn, "t", i, t[i], "must be finite");
}

// Tolerances >= 0 (not both 0) and limb-darkening coefficient in [0, 1].
inline void validate_options(const char* fn, const FiniteSourceOptions& opt) {
  if (!(std::isfinite(opt.tol_abs) && opt.tol_abs >= 0.0)) bad_value(fn, "opt.tol_abs", 0, opt.tol_abs, "must be finite and >= 0");
  if (!(std::isfinite(opt.tol_rel) && opt.tol_rel >= 0.0)) bad_value(fn, "opt.tol_rel", 0, opt.tol_rel, "must be finite and >= 0");
  if (opt.tol_abs == 0.0 && opt.tol_rel == 0.0)
    throw std::invalid_argument(std::string(fn) + ": opt.tol_abs and opt.tol_rel are both 0 (no attainable accuracy)");
  if (!(std::isfinite(opt.a1) && opt.a1 >= 0.0 && opt.a1 <= 1.0)) bad_value(fn, "opt.a1", 0, opt.a1, "must be in [0, 1]");
}

}  // namespace lensflow::lens::detail
