// lens/lensflow_lens.hpp — the public, batched forward-model API of lensflow (host and device).
//
// Everything another microlensing code needs: point-source and finite-source binary-lens
// magnifications for arrays of source positions, and whole light curves for arrays of events, on
// CPU threads or on a CUDA device. Frames and conventions are those of
// docs/conventions.md §Frame and §Trajectory (see lens/binary_lens.hpp and lens/trajectory.hpp):
// COM origin, primary at -s q/(1+q), secondary at +s/(1+q), α in degrees. q > 1 is accepted (the
// body at +x is then the heavier one).
//
// Host calls take host pointers and run on lensflow's worker pool (core/thread_pool.hpp: one per
// process, all cores unless core::set_num_threads says otherwise), at most n_threads of its threads
// per call (0 = all of them); finite-source work is load-balanced dynamically (a point on a caustic
// costs far more than one far from it).
// Device calls take device pointers and a cudaStream_t passed as void* (nullptr = default stream);
// the results are ready when the stream is (the computation itself is asynchronous).
//
// Inputs are validated before any work: a non-finite value, s <= 0, q <= 0, rho < 0, tE <= 0 or a
// null pointer throws std::invalid_argument naming the field and the index. Host calls also refuse
// values outside the supported domain (constants in lens/batch_validate.hpp), naming it
// ("s[3] = 1e+20 is outside the supported range [0.001, 1000]"):
//   s in [1e-3, 1e3], q in [1e-9, 1e9], |y1|, |y2| <= 1e8, rho <= 10, and for light curves a
//   source within 1e8 Einstein radii at every epoch (|t - t0| / tE + |u0| <= 1e8: a tiny tE is
//   refused by name).
// Inside it the point-source magnification agrees with an 80-digit solution of the lens equation
// to better than 1e-8 relative (1e-10 at the corners checked in tests/lens/domain_test.cpp) and
// far sources give A = 1; outside it round-off miscounts images (s = 1e20 gave A = 2, q = 1e-300
// gave 13.97 instead of the single-lens 8.986).
// Device calls validate in a first kernel and read one word back, i.e. they synchronize the
// stream once before launching the computation; they check the same domain; without CUDA or
// without a device they throw std::runtime_error.
#pragma once
#include <cstddef>

#include "lens/finite_source.hpp"
#include "lens/trajectory.hpp"

namespace lensflow::lens {

// Point-source magnification A[i] of the binary lens (s[i], q[i]) at source position (y1[i], y2[i]).
void point_mag_host(const double* s, const double* q, const double* y1, const double* y2, std::size_t n,
                    double* A, int n_threads = 0);

// Finite-source magnification of a source of radius rho[i] (uniform, or linearly limb-darkened with
// opt.a1), to the accuracy asked in opt (tol_abs, tol_rel). A_err (nullable) receives the
// error estimate of each value.
void finite_mag_host(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                     std::size_t n, const FiniteSourceOptions& opt, double* A, double* A_err, int n_threads = 0);

// Light curves: A[e * n_t + i] is the magnification of event ev[e] at time t[i] (row-major,
// n_events × n_t). finite = false gives point-source curves (ev.rho ignored).
void lightcurves_host(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, bool finite,
                      const FiniteSourceOptions& opt, double* A, double* A_err, int n_threads = 0);

// Device twins: every pointer is a device pointer; stream is a cudaStream_t (nullptr = default).
void point_mag_device(const double* s, const double* q, const double* y1, const double* y2, std::size_t n,
                      double* A, void* stream = nullptr);
void finite_mag_device(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                       std::size_t n, const FiniteSourceOptions& opt, double* A, double* A_err,
                       void* stream = nullptr);
void lightcurves_device(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t,
                        bool finite, const FiniteSourceOptions& opt, double* A, double* A_err,
                        void* stream = nullptr);

// True when the library was built with CUDA and at least one device is usable.
bool cuda_device_available();

// Number of worker threads a host call with n_threads = 0 uses (the pool's size; all cores by default).
int default_thread_count();

}  // namespace lensflow::lens
