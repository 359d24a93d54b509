/* lens/lensflow_lens.h — C interface to the batched forward model (lens/lensflow_lens.hpp).
 *
 * Every call returns LENSFLOW_OK (0) or an error code; on error, lensflow_last_error() gives the
 * message (thread-local, valid until the next lensflow_ call on the same thread). Conventions are
 * those of the C++ API: COM frame, primary at -s q/(1+q), secondary at +s/(1+q), alpha in degrees,
 * light curves row-major (n_events x n_t). n_threads = 0 uses all cores. Device calls take device
 * pointers and a cudaStream_t passed as void* (NULL = default stream). Link with lensflow_lens (and
 * the C++ runtime: the library is C++). */
#ifndef LENSFLOW_LENS_H
#define LENSFLOW_LENS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Host calls accept s in [1e-3, 1e3], q in [1e-9, 1e9], |y1|, |y2| <= 1e8, rho <= 10 and light
 * curves whose source stays within 1e8 Einstein radii (|t - t0| / tE + |u0| <= 1e8); other values
 * give LENSFLOW_INVALID_ARGUMENT with a message naming the field, index and range (see
 * lens/lensflow_lens.hpp for why and how accurately). */
enum lensflow_status {
  LENSFLOW_OK = 0,
  LENSFLOW_INVALID_ARGUMENT = 1, /* bad input value; the message names the field and index */
  LENSFLOW_UNAVAILABLE = 2,      /* e.g. a device call without CUDA or without a GPU */
  LENSFLOW_RUNTIME_ERROR = 3     /* anything else (CUDA error, out of memory, ...) */
};

/* One event (same layout and meaning as lensflow::lens::EventParams). */
typedef struct lensflow_event {
  double s, q, alpha_deg, u0, t0, tE, rho;
} lensflow_event;

/* Finite-source accuracy and limb darkening: the result aims at |error| <= max(tol_abs, tol_rel*A);
 * a1 is the linear limb-darkening coefficient, I(r) ∝ 1 - a1 (1 - sqrt(1 - r²/rho²)), 0 = uniform. */
typedef struct lensflow_finite_options {
  double tol_abs, tol_rel, a1;
} lensflow_finite_options;

/* Fills *opt with the library defaults. */
void lensflow_default_finite_options(lensflow_finite_options* opt);

int lensflow_point_mag(const double* s, const double* q, const double* y1, const double* y2, size_t n, double* A,
                       int n_threads);
/* A_err may be NULL. */
int lensflow_finite_mag(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                        size_t n, const lensflow_finite_options* opt, double* A, double* A_err, int n_threads);
/* finite = 0: point source (rho ignored; opt may be NULL). */
int lensflow_lightcurves(const lensflow_event* ev, size_t n_events, const double* t, size_t n_t, int finite,
                         const lensflow_finite_options* opt, double* A, double* A_err, int n_threads);

int lensflow_point_mag_device(const double* s, const double* q, const double* y1, const double* y2, size_t n,
                              double* A, void* stream);
int lensflow_finite_mag_device(const double* s, const double* q, const double* y1, const double* y2,
                               const double* rho, size_t n, const lensflow_finite_options* opt, double* A,
                               double* A_err, void* stream);
int lensflow_lightcurves_device(const lensflow_event* ev, size_t n_events, const double* t, size_t n_t, int finite,
                                const lensflow_finite_options* opt, double* A, double* A_err, void* stream);

/* 1 when the library has CUDA and a usable device, else 0. */
int lensflow_cuda_device_available(void);

/* Message of the last failed call on this thread ("" if none). */
const char* lensflow_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* LENSFLOW_LENS_H */
