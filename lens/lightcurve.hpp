// lens/lightcurve.hpp — magnification along a trajectory, point or finite source (host and device).
//
// Consecutive epochs move the images only slightly, so the roots of the previous epoch warm-start
// the polynomial solver. The warm start only changes where the solver starts: image classification
// and every finite-source decision are made from the current epoch's own roots, so a warm-started
// value equals the cold-start one to round-off.
#pragma once
#include "lens/binary_lens.hpp"
#include "lens/finite_source.hpp"
#include "lens/trajectory.hpp"

namespace lensflow::lens {

// The batched API computes light curves in blocks of kLightCurveBlock consecutive epochs, the unit of
// work of both backends: the first epoch of a block starts cold, the others warm-start from the
// previous epoch. The blocks are fixed by the epoch index alone, so a light curve's values depend on
// the event, the times and the options only — not on threads, scheduling or earlier calls.
constexpr long kLightCurveBlock = 64;

// Point source, epochs [i0, i1) of event `ev`: A[i].
LENSFLOW_HD void point_lightcurve_block(const EventParams& ev, const double* t, long i0, long i1, double* A) {
  const BinaryLens L = make_binary_lens(ev.s, ev.q);
  const Trajectory tr = make_trajectory(ev);
  cplx roots[5];
  bool is_image[5];
  for (long i = i0; i < i1; ++i) {
    binary_images(L, source_position(tr, t[i]), roots, is_image, i > i0);
    A[i] = images_magnification(L, roots, is_image);
  }
}

// Point source, the whole curve A[i], i < n_t, block by block as the batched API computes it.
LENSFLOW_HD void point_lightcurve(const EventParams& ev, const double* t, long n_t, double* A) {
  for (long i0 = 0; i0 < n_t; i0 += kLightCurveBlock)
    point_lightcurve_block(ev, t, i0, i0 + kLightCurveBlock < n_t ? i0 + kLightCurveBlock : n_t, A);
}

// Finite source, epochs [i0, i1) of event `ev`: A[i] and, when A_err is non-null, A_err[i].
// outline: build_caustic_outline of the event's lens (one per event, shared by its blocks).
LENSFLOW_HD void finite_lightcurve_block(const EventParams& ev, const double* t, long i0, long i1,
                                         const FiniteSourceOptions& opt, const CausticOutline& outline,
                                         FiniteSourceWorkspace* ws, double* A, double* A_err) {
  const BinaryLens L = make_binary_lens(ev.s, ev.q);
  const Trajectory tr = make_trajectory(ev);
  RootWarmStart warm;
  for (long i = i0; i < i1; ++i) {
    const FiniteMagResult r = binary_finite_mag(L, source_position(tr, t[i]), ev.rho, opt, ws, &warm, &outline);
    A[i] = r.A;
    if (A_err) A_err[i] = r.err;
  }
}

}  // namespace lensflow::lens
