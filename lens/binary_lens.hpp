// lens/binary_lens.hpp — the binary point lens: geometry, lens map, Jacobian, images and the
// point-source magnification (host and device).
//
// Frame (docs/conventions.md §Frame): lengths in Einstein radii of the total mass, origin at the
// centre of mass, primary (mass fraction m1 = 1/(1+q)) at z1 = -s q/(1+q), secondary (m2 = q/(1+q))
// at z2 = +s/(1+q), both on the real axis. Lens equation ζ = z - m1/(z̄-z1) - m2/(z̄-z2).
#pragma once
#include <cmath>

#include "lens/complex.hpp"
#include "lens/roots.hpp"

namespace lensflow::lens {

struct BinaryLens {
  double m1, m2;  // mass fractions (m1 + m2 = 1)
  double z1, z2;  // positions on the real axis, z1 < z2 for s > 0
};

// Lens of separation s and mass ratio q = m2/m1. q > 1 is accepted and keeps the formulas: the
// body at +x (z2) is then the heavier one, i.e. (s, q) with q > 1 is the mirror image under
// y1 -> -y1 of (s, 1/q).
LENSFLOW_HD BinaryLens make_binary_lens(double s, double q) {
  BinaryLens L;
  L.m1 = 1.0 / (1.0 + q);
  L.m2 = q / (1.0 + q);
  L.z1 = -s * q / (1.0 + q);
  L.z2 = s / (1.0 + q);
  return L;
}

// ζ(z): the source position whose light reaches the image plane at z.
LENSFLOW_HD cplx lens_map(const BinaryLens& L, cplx z) {
  const cplx zb = conj(z);
  return z - L.m1 * detail::fast_inv(zb - L.z1) - L.m2 * detail::fast_inv(zb - L.z2);
}

// E(z) = ∂ζ/∂z̄ = m1/(z̄-z1)² + m2/(z̄-z2)²; det J = 1 - |E|².
LENSFLOW_HD cplx lens_shear(const BinaryLens& L, cplx z) {
  const cplx zb = conj(z);
  const cplx a = detail::fast_inv(zb - L.z1), b = detail::fast_inv(zb - L.z2);
  return L.m1 * (a * a) + L.m2 * (b * b);
}

LENSFLOW_HD double jacobian_det(const BinaryLens& L, cplx z) { return 1.0 - norm2(lens_shear(L, z)); }

namespace detail {

// Coefficients of the image polynomial in a frame translated by the real `shift` (z = z' + shift).
// binary_images puts the origin on the lighter lens: the roots that cluster around it (planetary
// caustics at q ~ 1e-6) are then represented with full relative precision.
LENSFLOW_HD void binary_poly_coeffs_shifted(const BinaryLens& L, cplx zeta, double shift, cplx c[6]) {
  const double z1 = L.z1 - shift, z2 = L.z2 - shift, m1 = L.m1, m2 = L.m2;
  const cplx zs = zeta - shift;
  const cplx zb = conj(zs);
  // ab = z² - (z1+z2) z + z1 z2 (real coefficients)
  const double ab0 = z1 * z2, ab1 = -(z1 + z2);
  // m1 b + m2 a = z - (m1 z2 + m2 z1)  (m1 + m2 = 1)
  const double lin0 = -(m1 * z2 + m2 * z1);
  const cplx w1 = zb - z1, w2 = zb - z2;
  // N_k = w_k ab + (z + lin0) = w_k z² + (w_k ab1 + 1) z + (w_k ab0 + lin0)
  const cplx n1_2 = w1, n1_1 = w1 * ab1 + 1.0, n1_0 = w1 * ab0 + lin0;
  const cplx n2_2 = w2, n2_1 = w2 * ab1 + 1.0, n2_0 = w2 * ab0 + lin0;
  // Q = N1 N2 (degree 4)
  const cplx q0 = n1_0 * n2_0;
  const cplx q1 = n1_0 * n2_1 + n1_1 * n2_0;
  const cplx q2 = n1_0 * n2_2 + n1_1 * n2_1 + n1_2 * n2_0;
  const cplx q3 = n1_1 * n2_2 + n1_2 * n2_1;
  const cplx q4 = n1_2 * n2_2;
  // R = m1 N2 + m2 N1 (degree 2)
  const cplx r0 = m1 * n2_0 + m2 * n1_0, r1 = m1 * n2_1 + m2 * n1_1, r2 = m1 * n2_2 + m2 * n1_2;
  // S = ab R (degree 4)
  const cplx s0 = ab0 * r0;
  const cplx s1 = ab0 * r1 + ab1 * r0;
  const cplx s2 = ab0 * r2 + ab1 * r1 + r0;
  const cplx s3 = ab1 * r2 + r1;
  const cplx s4 = r2;
  // (z - ζ) Q - S
  c[0] = -zs * q0 - s0;
  c[1] = q0 - zs * q1 - s1;
  c[2] = q1 - zs * q2 - s2;
  c[3] = q2 - zs * q3 - s3;
  c[4] = q3 - zs * q4 - s4;
  c[5] = q4;
}

}  // namespace detail

// Coefficients c[0..5] (c[k] multiplies z^k, COM frame) of the degree-5 polynomial whose roots
// contain the images of ζ (Witt & Mao 1995). Conjugating the lens equation gives z̄ = ζ̄ + m1/(z-z1)
// + m2/(z-z2); substituting it back and clearing denominators with a = z-z1, b = z-z2,
// N_k = (ζ̄-z_k)ab + m1 b + m2 a gives (z-ζ) N1 N2 - ab (m1 N2 + m2 N1) = 0.
LENSFLOW_HD void binary_poly_coeffs(const BinaryLens& L, cplx zeta, cplx c[6]) {
  detail::binary_poly_coeffs_shifted(L, zeta, 0.0, c);
}

namespace detail {

// One Newton step for the (non-analytic) lens equation f(z) = ζ(z) - ζ_s = 0: with E = ∂ζ/∂z̄,
// f(z+d) ≈ f + d + E d̄, whose solution is d = (E f̄ - f)/(1 - |E|²).
LENSFLOW_HD cplx lens_newton_step(const BinaryLens& L, cplx z, cplx zeta, double& resid) {
  const cplx zb = conj(z);
  const cplx a = fast_inv(zb - L.z1), b = fast_inv(zb - L.z2);
  const cplx f = z - L.m1 * a - L.m2 * b - zeta;  // lens_map(z) - ζ, sharing the inverses with E
  const cplx E = L.m1 * (a * a) + L.m2 * (b * b);
  resid = sqrt(norm2(f));
  const double det = 1.0 - norm2(E);
  return (E * conj(f) - f) * (1.0 / det);
}

// Distance scale of an image position: near a lens the natural length is the distance to it. (The
// centre of mass is not such a point: an equal-mass lens has an image right at it when the source is
// there, and measuring that image's Newton step against its tiny |z| rejected it.)
LENSFLOW_HD double image_scale(const BinaryLens& L, cplx z) {
  const double d1 = norm2(z - cplx(L.z1)), d2 = norm2(z - cplx(L.z2));
  const double s = d1 < d2 ? d1 : d2;
  return s > 1.0 ? 1.0 : sqrt(s);
}

// True when the first n roots of `order` have #negative - #positive parity = 1.
LENSFLOW_HD bool parity_balanced(const BinaryLens& L, const cplx* roots, const int* order, int n) {
  int neg = 0;
  for (int k = 0; k < n; ++k) neg += jacobian_det(L, roots[order[k]]) < 0.0 ? 1 : 0;
  return 2 * neg - n == 1;
}

// Starting points for the image polynomial from the limiting cases: the two images of a single
// lens of the total mass at the origin, one image next to each lens (z ≈ z_k - m_k/(ζ̄ - z_k)),
// and the mirror of the source for the fifth root.
LENSFLOW_HD void image_guesses(const BinaryLens& L, cplx zeta, cplx g[5]) {
  const double u2 = norm2(zeta);
  const double f = 0.5 * sqrt(1.0 + 4.0 / (u2 > 1e-12 ? u2 : 1e-12));
  g[0] = (0.5 + f) * zeta;
  g[1] = (0.5 - f) * zeta + cplx(0.0, 1e-3);
  g[2] = cplx(L.z1) - L.m1 * fast_inv(conj(zeta) - L.z1 + cplx(1e-9, 1e-9));
  g[3] = cplx(L.z2) - L.m2 * fast_inv(conj(zeta) - L.z2 + cplx(1e-9, 1e-9));
  g[4] = cplx(-zeta.re, zeta.im) * 0.5 + cplx(0.0, 0.3);
}

}  // namespace detail

// Threshold on the Newton-estimated distance (relative to image_scale) between a polynomial root
// and the nearest solution of the lens equation, below which the root is a true image. True images
// come out of the polynomial at ~1e-13 or better; a spurious root sits at a distance ~sqrt(d) of
// the critical curve for a source a distance d outside the caustic.
constexpr double kImageTolerance = 1e-8;

// All 5 polynomial roots for source ζ (roots[]; warm = true uses them as a starting guess) and which
// of them are true images (is_image[]). Returns the number of images, 3 or 5. The images are
// polished with Newton on the lens equation itself, so each satisfies it to round-off even where
// the polynomial is ill-conditioned (q ~ 1e-6).
LENSFLOW_HD_NOINLINE int binary_images(const BinaryLens& L, cplx zeta, cplx roots[5], bool is_image[5], bool warm) {
  const double shift = L.m2 <= L.m1 ? L.z2 : L.z1;  // origin on the lighter lens
  cplx c[6];
  detail::binary_poly_coeffs_shifted(L, zeta, shift, c);
  if (!warm) {
    detail::image_guesses(L, zeta, roots);
    warm = true;
  }
  for (int i = 0; i < 5; ++i) roots[i] -= shift;
  poly_roots(c, 5, roots, warm);
  for (int i = 0; i < 5; ++i) roots[i] += shift;

  double dist[5];
  for (int i = 0; i < 5; ++i) {
    double resid;
    const cplx step = detail::lens_newton_step(L, roots[i], zeta, resid);
    dist[i] = sqrt(norm2(step)) / detail::image_scale(L, roots[i]);
    if (!detail::is_finite(dist[i])) dist[i] = resid == 0.0 ? 0.0 : 1e300;
    is_image[i] = false;
  }
  // Rank roots by distance to a lens-equation solution (selection sort on 5 items).
  int order[5] = {0, 1, 2, 3, 4};
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j)
      if (dist[order[j]] < dist[order[i]]) {
        const int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
  int n_img = (dist[order[3]] < kImageTolerance && dist[order[4]] < kImageTolerance) ? 5 : 3;

  // Parity must balance: for two point lenses #negative - #positive = 1 (2-1 or 3-2). If the
  // residual test disagrees with parity, trust the hypothesis that balances.
  if (!detail::parity_balanced(L, roots, order, n_img)) {
    const int other = n_img == 5 ? 3 : 5;
    if (detail::parity_balanced(L, roots, order, other)) n_img = other;
  }

  for (int k = 0; k < n_img; ++k) {
    const int i = order[k];
    is_image[i] = true;
    // Newton polish on the lens equation; keep a step only while it lowers the residual.
    double resid;
    cplx step = detail::lens_newton_step(L, roots[i], zeta, resid);
    for (int it = 0; it < 4 && resid > 0.0; ++it) {
      const cplx z_new = roots[i] + step;
      double resid_new;
      const cplx step_new = detail::lens_newton_step(L, z_new, zeta, resid_new);
      if (!(resid_new < resid)) break;
      roots[i] = z_new;
      resid = resid_new;
      step = step_new;
    }
  }
  return n_img;
}

// Σ 1/|det J| over the roots flagged as images. Mathematically A >= 1; the result is clamped at 1
// so that round-off far from the lens (A - 1 ~ 1e-16) cannot produce A < 1.
LENSFLOW_HD double images_magnification(const BinaryLens& L, const cplx roots[5], const bool is_image[5]) {
  double A = 0.0;
  for (int i = 0; i < 5; ++i)
    if (is_image[i]) A += 1.0 / fabs(jacobian_det(L, roots[i]));
  return A > 1.0 ? A : 1.0;
}

// Point-source magnification of source ζ (cold start).
LENSFLOW_HD double binary_point_mag(const BinaryLens& L, cplx zeta) {
  cplx roots[5];
  bool is_image[5];
  binary_images(L, zeta, roots, is_image, false);
  return images_magnification(L, roots, is_image);
}

}  // namespace lensflow::lens
