// lens/lightcurve.hpp — point-source magnification along a trajectory (host and device).
//
// Consecutive epochs move the images only slightly, so the roots of the previous epoch warm-start
// the polynomial solver; image classification does not depend on the start, so the result equals
// the cold-start value to round-off.
#pragma once
#include "lens/binary_lens.hpp"
#include "lens/trajectory.hpp"

namespace lensflow::lens {

// A[i] = point-source magnification of event `ev` at times t[i], i < n_t.
LENSFLOW_HD void point_lightcurve(const EventParams& ev, const double* t, long n_t, double* A) {
  const BinaryLens L = make_binary_lens(ev.s, ev.q);
  const Trajectory tr = make_trajectory(ev);
  cplx roots[5];
  bool is_image[5];
  for (long i = 0; i < n_t; ++i) {
    binary_images(L, source_position(tr, t[i]), roots, is_image, i > 0);
    A[i] = images_magnification(L, roots, is_image);
  }
}

}  // namespace lensflow::lens
