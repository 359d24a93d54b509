// lens/hexadecapole.hpp — finite-source magnification from the Taylor expansion of the point-source
// magnification (Pejcha & Heyrovský 2009; Gould 2008's finite-difference form), host and device.
//
// The average of A over a circle of radius r is A0 + (r²/4)∇²A + (r⁴/64)∇⁴A + O(r⁶); over a disk
// with brightness profile I it is A0 + A2·<x²> + A4·<x⁴>, x = r/ρ, where A2 = ρ²∇²A/4 and
// A4 = ρ⁴∇⁴A/64 come from 13 point-source magnifications (Gould 2008):
//   A_{r,+}: mean over 4 points at radius r on the axes, A_{r,×}: the same rotated by 45°,
//   A2 = (16·A_{ρ/2,+} − A_{ρ,+})/3 − 5·A0,  A4 = (A_{ρ,+} + A_{ρ,×})/2 − A0 − A2
// (the + and × means cancel the 4-fold harmonic). Valid while the disk is far from every caustic
// (the series converges within the distance to the nearest caustic, where A is singular).
#pragma once
#include "lens/binary_lens.hpp"
#include "lens/limb_darkening.hpp"

namespace lensflow::lens {

struct HexadecapoleResult {
  double A;    // A0 + A2·<x²> + A4·<x⁴>
  double A2;   // quadrupole term ρ²∇²A/4
  double A4;   // hexadecapole term ρ⁴∇⁴A/64
  int n_img_changes;  // sample points whose image count differs from the centre's (a caustic inside)
};

// zeta0: source centre, rho: radius, a1: limb darkening; A0, roots0, n0: the point-source
// magnification, the 5 roots (warm start) and the image count at zeta0.
LENSFLOW_HD_NOINLINE HexadecapoleResult hexadecapole_mag(const BinaryLens& L, cplx zeta0, double rho, double a1, double A0,
                                                const cplx roots0[5], int n0) {
  int changes = 0;
  auto mag_at = [&](double dx, double dy) {
    cplx r[5];
    bool img[5];
    for (int i = 0; i < 5; ++i) r[i] = roots0[i];
    changes += binary_images(L, zeta0 + cplx(dx, dy), r, img, true) != n0;
    return images_magnification(L, r, img);
  };
  const double h = 0.5 * rho, d = rho * 0.7071067811865476;
  const double a_half = 0.25 * (mag_at(h, 0) + mag_at(-h, 0) + mag_at(0, h) + mag_at(0, -h));
  const double a_plus = 0.25 * (mag_at(rho, 0) + mag_at(-rho, 0) + mag_at(0, rho) + mag_at(0, -rho));
  const double a_cross = 0.25 * (mag_at(d, d) + mag_at(-d, d) + mag_at(d, -d) + mag_at(-d, -d));
  HexadecapoleResult r;
  r.A2 = (16.0 * (a_half - A0) - (a_plus - A0)) / 3.0;
  r.A4 = 0.5 * ((a_plus - A0) + (a_cross - A0)) - r.A2;
  double m2, m4;
  ld_moments(a1, m2, m4);
  r.A = A0 + r.A2 * m2 + r.A4 * m4;
  r.n_img_changes = changes;
  return r;
}

// Analytic quadrupole: ∇²A/4 at the source position from the images alone (no extra root solves).
// With ζ = z + f(z̄), a_k = f^{(k+1)}(z̄) (a0 = E = Σ m/(z̄−z_j)², a1 = −2Σ m/(z̄−z_j)³,
// a2 = 6Σ m/(z̄−z_j)⁴), b_k = conj(a_k) and J = 1 − a0·b0, each image's signed magnification 1/J has
//   ∇²(1/J) = 4·N/J⁵,  N = a0³b0b2 − 3a0³b1² + a0²a1b0²b1 − a0²b2 + 4a0a1b0b1 + a0a2b0³ − 3a1²b0³
//                          + a1b1 − a2b0²   (real; derived with ∂ζ = (∂z − b0∂z̄)/J, ∂ζ̄ = (∂z̄ − a0∂z)/J),
// and A = Σ |1/J|, so ∇²A/4 = Σ sign(J)·N/J⁵. The finite-source correction of a disk is then
// ≈ r²·<x²>·(∇²A/4) (the A2 term above with ρ → r).
LENSFLOW_HD double quadrupole_laplacian_quarter(const BinaryLens& L, const cplx roots[5], const bool is_image[5]) {
  double sum = 0.0;
  for (int i = 0; i < 5; ++i) {
    if (!is_image[i]) continue;
    const cplx zb = conj(roots[i]);
    const cplx p = detail::fast_inv(zb - L.z1), q = detail::fast_inv(zb - L.z2);
    const cplx p2 = p * p, q2 = q * q, p3 = p2 * p, q3 = q2 * q;
    const cplx a0 = L.m1 * p2 + L.m2 * q2;
    const cplx a1 = -2.0 * (L.m1 * p3 + L.m2 * q3);
    const cplx a2 = 6.0 * (L.m1 * (p3 * p) + L.m2 * (q3 * q));
    const cplx b0 = conj(a0), b1 = conj(a1), b2 = conj(a2);
    const cplx a0s = a0 * a0, b0s = b0 * b0;
    const cplx N = a0s * a0 * b0 * b2 - 3.0 * (a0s * a0 * (b1 * b1)) + a0s * a1 * b0s * b1 - a0s * b2 +
                   4.0 * (a0 * a1 * b0 * b1) + a0 * a2 * (b0s * b0) - 3.0 * (a1 * a1 * (b0s * b0)) + a1 * b1 - a2 * b0s;
    const double J = 1.0 - norm2(a0);
    const double J2 = J * J;
    sum += (J > 0.0 ? 1.0 : -1.0) * N.re / (J2 * J2 * J);
  }
  return sum;
}

}  // namespace lensflow::lens
