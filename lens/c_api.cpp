// lens/c_api.cpp — the extern "C" wrappers of lens/lensflow_lens.h: translate C structs, turn
// exceptions into status codes and keep the message per thread.
#include <cstddef>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "lens/lensflow_lens.h"
#include "lens/lensflow_lens.hpp"

namespace {

thread_local std::string g_last_error;

using lensflow::lens::EventParams;
using lensflow::lens::FiniteSourceOptions;

// Runs f, mapping exceptions to status codes and recording the message.
template <class F>
int guarded(const F& f) {
  g_last_error.clear();
  try {
    f();
    return LENSFLOW_OK;
  } catch (const std::invalid_argument& e) {
    g_last_error = e.what();
    return LENSFLOW_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    g_last_error = "out of memory";
    return LENSFLOW_RUNTIME_ERROR;
  } catch (const std::exception& e) {
    g_last_error = e.what();
    const bool unavailable = g_last_error.find("without CUDA") != std::string::npos ||
                             g_last_error.find("no CUDA device") != std::string::npos;
    return unavailable ? LENSFLOW_UNAVAILABLE : LENSFLOW_RUNTIME_ERROR;
  } catch (...) {
    g_last_error = "unknown error";
    return LENSFLOW_RUNTIME_ERROR;
  }
}

FiniteSourceOptions to_options(const lensflow_finite_options* opt) {
  FiniteSourceOptions o{};
  if (opt) {
    o.tol_abs = opt->tol_abs;
    o.tol_rel = opt->tol_rel;
    o.a1 = opt->a1;
  }
  return o;
}

std::vector<EventParams> to_events(const lensflow_event* ev, std::size_t n) {
  if (n > 0 && ev == nullptr) throw std::invalid_argument("lensflow_lightcurves: events is null but n_events > 0");
  std::vector<EventParams> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {ev[i].s, ev[i].q, ev[i].alpha_deg, ev[i].u0, ev[i].t0, ev[i].tE, ev[i].rho};
  return out;
}

}  // namespace

extern "C" {

void lensflow_default_finite_options(lensflow_finite_options* opt) {
  if (!opt) return;
  const FiniteSourceOptions d{};
  opt->tol_abs = d.tol_abs;
  opt->tol_rel = d.tol_rel;
  opt->a1 = d.a1;
}

int lensflow_point_mag(const double* s, const double* q, const double* y1, const double* y2, size_t n, double* A,
                       int n_threads) {
  return guarded([&] { lensflow::lens::point_mag_host(s, q, y1, y2, n, A, n_threads); });
}

int lensflow_finite_mag(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                        size_t n, const lensflow_finite_options* opt, double* A, double* A_err, int n_threads) {
  return guarded([&] {
    if (!opt) throw std::invalid_argument("lensflow_finite_mag: opt is null");
    lensflow::lens::finite_mag_host(s, q, y1, y2, rho, n, to_options(opt), A, A_err, n_threads);
  });
}

int lensflow_lightcurves(const lensflow_event* ev, size_t n_events, const double* t, size_t n_t, int finite,
                         const lensflow_finite_options* opt, double* A, double* A_err, int n_threads) {
  return guarded([&] {
    if (finite && !opt) throw std::invalid_argument("lensflow_lightcurves: opt is null for a finite-source call");
    const auto events = to_events(ev, n_events);
    lensflow::lens::lightcurves_host(events.data(), n_events, t, n_t, finite != 0, to_options(opt), A, A_err,
                                     n_threads);
  });
}

int lensflow_point_mag_device(const double* s, const double* q, const double* y1, const double* y2, size_t n,
                              double* A, void* stream) {
  return guarded([&] { lensflow::lens::point_mag_device(s, q, y1, y2, n, A, stream); });
}

int lensflow_finite_mag_device(const double* s, const double* q, const double* y1, const double* y2,
                               const double* rho, size_t n, const lensflow_finite_options* opt, double* A,
                               double* A_err, void* stream) {
  return guarded([&] {
    if (!opt) throw std::invalid_argument("lensflow_finite_mag_device: opt is null");
    lensflow::lens::finite_mag_device(s, q, y1, y2, rho, n, to_options(opt), A, A_err, stream);
  });
}

// Events are a device array here: lensflow_event and EventParams have the same layout (checked).
static_assert(sizeof(lensflow_event) == sizeof(EventParams), "lensflow_event must mirror EventParams");
static_assert(offsetof(lensflow_event, rho) == offsetof(EventParams, rho), "lensflow_event must mirror EventParams");

int lensflow_lightcurves_device(const lensflow_event* ev, size_t n_events, const double* t, size_t n_t, int finite,
                                const lensflow_finite_options* opt, double* A, double* A_err, void* stream) {
  return guarded([&] {
    if (finite && !opt) throw std::invalid_argument("lensflow_lightcurves_device: opt is null for a finite-source call");
    lensflow::lens::lightcurves_device(reinterpret_cast<const EventParams*>(ev), n_events, t, n_t, finite != 0,
                                       to_options(opt), A, A_err, stream);
  });
}

int lensflow_cuda_device_available(void) { return lensflow::lens::cuda_device_available() ? 1 : 0; }

const char* lensflow_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
