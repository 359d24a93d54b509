// sim/pspl_cut.hpp — the 1L1S (Paczyński, PSPL) cut of the training set
// (docs/conventions.md §1L1S cut; host and device).
//
// A binary-lens magnification sequence A(t) is compared with a point-source point-lens model P(t)
// observed at baseline S/N = snr_base with f_s = 1: flux F = snr_base²·A, variance = the 2L1S flux,
//   χ² = Σ (F·A - F·P)² / (F·A) = snr_base² Σ (A - P)² / A.
// The event is kept when χ²/dof >= threshold (1): no single lens explains it at that S/N.
// Two modes:
//   paper — P uses the event's own (t0, u0, tE) (no fit); χ² over t in [window_lo, window_hi) =
//           [36, 108) d, the central 72 days of the 144-day sequence; dof = n_window - 3 (7197).
//           Reproduces the paper's 29.1% acceptance (docs/conventions.md §1L1S cut).
//   fit   — P is the least-squares PSPL (t0, u0, tE) over the whole sequence (Levenberg–Marquardt
//           in (t0, u0, ln tE) from the event's own values and from three starts built from the
//           peak of A, the best kept); dof = n_t - 3 (14397). Stricter: only events no single
//           lens can explain survive (~15%).
// The PSPL depends on |u0| only; t0, u0 of the binary event are relative to the lens centre of mass.
#pragma once
#include <cmath>
#include <cstddef>

#include "core/hd.hpp"
#include "lens/single_lens.hpp"
#include "lens/trajectory.hpp"

namespace lensflow::sim {

enum class CutMode { paper = 0, fit = 1 };

struct CutOptions {
  CutMode mode = CutMode::paper;
  double snr_base = 200.0;
  double window_lo = 36.0, window_hi = 108.0;  // paper mode: χ² over t in [lo, hi)
  double threshold = 1.0;                      // keep when χ²/dof >= threshold
  int max_iter = 40;                           // fit mode: LM iterations per start
};

// Result of a PSPL least-squares fit.
struct PsplFit {
  double t0, u0, tE, chi2;
};

namespace detail {

LENSFLOW_HD double pspl_u(double t, double t0, double u0, double tE) {
  const double tau = (t - t0) / tE;
  return fmax(sqrt(tau * tau + u0 * u0), 1e-12);
}

// Points of the paper window: t >= lo and t < hi, with a 1e-9 d allowance for round-off of the grid.
LENSFLOW_HD bool in_window(double t, double lo, double hi) { return t >= lo - 1e-9 && t < hi - 1e-9; }

}  // namespace detail

// The sums over the points of a light curve that the cut needs are taken through a policy, so
// that the host and the device run the same fit: SerialSums (the CPU, one thread per event) adds
// the terms in index order; the device cut (sim/pspl_cut_cuda.cu) runs one block per event with a
// block-wide policy of the same interface, every thread of the block getting the same totals.
//   sums.total<K>(n, f, out): out[k] = Σ_{i<n} of the terms that f(i, acc) adds to acc[k];
//   sums.argmax(a, n): the lowest index of the largest a[i].
struct SerialSums {
  template <int K, class F>
  LENSFLOW_HD void total(long n, const F& f, double (&out)[K]) const {
    for (int k = 0; k < K; ++k) out[k] = 0.0;
    for (long i = 0; i < n; ++i) f(i, out);
  }
  LENSFLOW_HD long argmax(const double* a, long n) const {
    long imax = 0;
    for (long i = 1; i < n; ++i)
      if (a[i] > a[imax]) imax = i;
    return imax;
  }
};

// χ² of the PSPL (t0, u0, tE) against A over the points with t in [lo, hi); n_used receives their
// number.
template <class Sums>
LENSFLOW_HD double pspl_chi2(const Sums& sums, const double* A, const double* t, long n_t, double t0, double u0,
                             double tE, double snr_base, double lo, double hi, long* n_used) {
  double s[2];  // Σ (A - P)² / A, number of points
  sums.total(n_t, [&](long i, double* acc) {
    if (!detail::in_window(t[i], lo, hi)) return;
    const double d = A[i] - lens::single_point_mag(detail::pspl_u(t[i], t0, u0, tE));
    acc[0] += d * d / A[i];
    acc[1] += 1.0;
  }, s);
  if (n_used) *n_used = long(s[1]);
  return snr_base * snr_base * s[0];
}
LENSFLOW_HD double pspl_chi2(const double* A, const double* t, long n_t, double t0, double u0, double tE,
                             double snr_base, double lo, double hi, long* n_used) {
  return pspl_chi2(SerialSums{}, A, t, n_t, t0, u0, tE, snr_base, lo, hi, n_used);
}

// Levenberg–Marquardt fit of (t0, u0, tE) to A over all n_t points, from one start.
template <class Sums>
LENSFLOW_HD PsplFit fit_pspl_from(const Sums& sums, const double* A, const double* t, long n_t, double t0, double u0,
                                  double tE, double snr_base, int max_iter) {
  const double F = snr_base * snr_base;
  double p[3] = {t0, u0, log(tE)};
  auto chi2_at = [&](const double* q) {
    const double te = exp(q[2]);
    double c[1];
    sums.total(n_t, [&](long i, double* acc) {
      const double d = A[i] - lens::single_point_mag(detail::pspl_u(t[i], q[0], q[1], te));
      acc[0] += d * d / A[i];
    }, c);
    return F * c[0];
  };
  double chi2 = chi2_at(p), lambda = 1e-3;
  for (int it = 0; it < max_iter; ++it) {
    // Normal equations J^T W J δ = J^T W r for r = A - P, W = F / A: g[a] = Σ w J[a] r,
    // H[a][b] = Σ w J[a] J[b] (b <= a), packed as ng = {g0, g1, g2, H00, H10, H11, H20, H21, H22}.
    double ng[9];
    const double te = exp(p[2]);
    sums.total(n_t, [&](long i, double* acc) {
      const double tau = (t[i] - p[0]) / te;
      const double u = detail::pspl_u(t[i], p[0], p[1], te);
      const double u2 = u * u, s4 = sqrt(u2 + 4.0);
      const double P = (u2 + 2.0) / (u * s4);
      const double dPdu = -8.0 / (u2 * s4 * s4 * s4);
      const double J[3] = {dPdu * (-tau / (te * u)), dPdu * (p[1] / u), dPdu * (-tau * tau / u)};
      const double w = F / A[i], r = A[i] - P;
      int h = 3;
      for (int a = 0; a < 3; ++a) {
        acc[a] += w * J[a] * r;
        for (int b = 0; b <= a; ++b) acc[h++] += w * J[a] * J[b];
      }
    }, ng);
    const double* g = ng;
    double H[3][3];
    for (int a = 0, h = 3; a < 3; ++a)
      for (int b = 0; b <= a; ++b) H[a][b] = ng[h++];
    bool improved = false;
    for (int tries = 0; tries < 8 && !improved; ++tries) {
      // Solve (H + λ diag H) δ = g by Cramer's rule (3×3, symmetric).
      double M[3][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b <= a; ++b) M[a][b] = M[b][a] = H[a][b] * (a == b ? 1.0 + lambda : 1.0);
      const double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                         M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                         M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
      if (!(fabs(det) > 0.0 && fabs(det) < HUGE_VAL)) {
        lambda *= 10.0;
        continue;
      }
      double d[3];
      for (int c = 0; c < 3; ++c) {
        double N[3][3];
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) N[a][b] = b == c ? g[a] : M[a][b];
        d[c] = (N[0][0] * (N[1][1] * N[2][2] - N[1][2] * N[2][1]) - N[0][1] * (N[1][0] * N[2][2] - N[1][2] * N[2][0]) +
                N[0][2] * (N[1][0] * N[2][1] - N[1][1] * N[2][0])) /
               det;
      }
      const double trial[3] = {p[0] + d[0], p[1] + d[1], fmin(fmax(p[2] + d[2], -5.0), 10.0)};
      const double c2 = chi2_at(trial);
      if (c2 < chi2) {
        const double rel = (chi2 - c2) / fmax(chi2, 1e-300);
        p[0] = trial[0];
        p[1] = trial[1];
        p[2] = trial[2];
        chi2 = c2;
        lambda = fmax(lambda * 0.3, 1e-9);
        improved = true;
        if (rel < 1e-10) it = max_iter;  // converged
      } else {
        lambda *= 10.0;
      }
    }
    if (!improved) break;
  }
  return PsplFit{p[0], fabs(p[1]), exp(p[2]), chi2};
}

// Best PSPL fit over four starts: the event's own (t0, u0, tE), and the peak of A (its time, and
// the u0 that gives its height) with tE, tE/3 and 3 tE.
template <class Sums>
LENSFLOW_HD PsplFit fit_pspl(const Sums& sums, const double* A, const double* t, long n_t, double t0, double u0,
                             double tE, double snr_base, int max_iter) {
  PsplFit best = fit_pspl_from(sums, A, t, n_t, t0, u0, tE, snr_base, max_iter);
  const long imax = sums.argmax(A, n_t);
  const double Am = fmax(A[imax], 1.0 + 1e-9);
  const double u_peak = sqrt(fmax(2.0 * (Am / sqrt(Am * Am - 1.0) - 1.0), 1e-12));
  const double scales[3] = {1.0, 1.0 / 3.0, 3.0};
  for (int k = 0; k < 3; ++k) {
    const PsplFit f = fit_pspl_from(sums, A, t, n_t, t[imax], u_peak, tE * scales[k], snr_base, max_iter);
    if (f.chi2 < best.chi2) best = f;
  }
  return best;
}
LENSFLOW_HD PsplFit fit_pspl(const double* A, const double* t, long n_t, double t0, double u0, double tE,
                             double snr_base, int max_iter) {
  return fit_pspl(SerialSums{}, A, t, n_t, t0, u0, tE, snr_base, max_iter);
}

// χ²/dof of one event's magnification sequence A (n_t points at times t) under the cut options.
template <class Sums>
LENSFLOW_HD double cut_chi2_dof(const Sums& sums, const CutOptions& opt, const lens::EventParams& ev, const double* A,
                                const double* t, long n_t) {
  if (opt.mode == CutMode::paper) {
    long m = 0;
    const double c =
        pspl_chi2(sums, A, t, n_t, ev.t0, ev.u0, ev.tE, opt.snr_base, opt.window_lo, opt.window_hi, &m);
    return m > 3 ? c / double(m - 3) : HUGE_VAL;
  }
  const PsplFit f = fit_pspl(sums, A, t, n_t, ev.t0, ev.u0, ev.tE, opt.snr_base, opt.max_iter);
  return n_t > 3 ? f.chi2 / double(n_t - 3) : HUGE_VAL;
}
LENSFLOW_HD double cut_chi2_dof(const CutOptions& opt, const lens::EventParams& ev, const double* A, const double* t,
                                long n_t) {
  return cut_chi2_dof(SerialSums{}, opt, ev, A, t, n_t);
}

// Batched cut: chi2_dof[e] for the rows A[e * n_t ...] (row-major n_events × n_t), CPU threads
// (0 = all cores). Throws std::invalid_argument on bad sizes, non-finite or non-positive A, or a
// paper window with fewer than 4 points.
void pspl_cut_host(const lens::EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, const double* A,
                   const CutOptions& opt, double* chi2_dof, int n_threads = 0);

// Device twin (device pointers; stream is a cudaStream_t, nullptr = default): one block per event
// running cut_chi2_dof with block-wide sums (same fit as the host, sums in another order). A is
// not validated on the device (it comes from lens::lightcurves_device, which validates its inputs).
// Throws std::runtime_error without CUDA.
void pspl_cut_device(const lens::EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t,
                     const double* A, const CutOptions& opt, double* chi2_dof, void* stream = nullptr);

// Parses "paper" / "fit" (std::invalid_argument otherwise) and back.
CutMode parse_cut_mode(const char* name);
const char* cut_mode_name(CutMode m);

}  // namespace lensflow::sim
