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
};

// zeta0: source centre, rho: radius, a1: limb darkening; roots0: the 5 roots at zeta0 (warm start).
LENSFLOW_HD HexadecapoleResult hexadecapole_mag(const BinaryLens& L, cplx zeta0, double rho, double a1, double A0,
                                                const cplx roots0[5]) {
  auto mag_at = [&](double dx, double dy) {
    cplx r[5];
    bool img[5];
    for (int i = 0; i < 5; ++i) r[i] = roots0[i];
    binary_images(L, zeta0 + cplx(dx, dy), r, img, true);
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
  return r;
}

}  // namespace lensflow::lens
