// lens/limb_darkening.hpp — the linear limb-darkening law and its radial moments (host and device).
//
// Convention (VBMicrolensing's a1, which it calls Γ-like): I(r) = I0·[1 − a1·(1 − sqrt(1 − r²/ρ²))],
// a1 in [0, 1] (a1 = 0: uniform disk). The other common convention, I ∝ 1 − u·(1 − μ) with
// μ = sqrt(1 − r²/ρ²), is the same law with u = a1. Gould's Γ (I ∝ 1 − Γ(1 − 3μ/2), flux-normalised)
// converts by Γ = 2a1/(3 − a1), a1 = 3Γ/(2 + Γ).
//
// A limb-darkened disk is a superposition of uniform disks. With μ = sqrt(1 − r²/ρ²) as variable,
//   A_LD = [(1 − a1)·M(ρ) + a1·∫₀¹ g(μ) dμ] / (1 − a1/3),   g(μ) = (1 − μ²)·M(ρ·sqrt(1 − μ²)),
// where M(r) is the magnification of the uniform disk of radius r (integration by parts of the
// flux ∫ I(r) d[πr²M(r)]; dI = a1·I0 dμ). g is smooth in μ except where the disk of radius r first
// touches a caustic (a (r − r_c)^{3/2} kink), so an adaptive Simpson rule in μ converges fast.
#pragma once
#include "core/hd.hpp"

namespace lensflow::lens {

// Brightness at fractional radius x = r/ρ in units of the central brightness I0.
LENSFLOW_HD double ld_profile(double a1, double x) {
  const double m2 = 1.0 - x * x;
  return 1.0 - a1 * (1.0 - (m2 > 0.0 ? sqrt(m2) : 0.0));
}

// Flux-weighted moments <(r/ρ)²> and <(r/ρ)⁴> of the profile (for the hexadecapole expansion):
// ∫₀¹ x^{2k}·2x dx = 1/(k+1), ∫₀¹ x^{2k} sqrt(1−x²)·2x dx = B(k+1, 3/2) = 2/3, 4/15, 16/105.
LENSFLOW_HD void ld_moments(double a1, double& m2, double& m4) {
  const double norm = 1.0 - a1 / 3.0;
  m2 = ((1.0 - a1) / 2.0 + a1 * 4.0 / 15.0) / norm;
  m4 = ((1.0 - a1) / 3.0 + a1 * 16.0 / 105.0) / norm;
}

}  // namespace lensflow::lens
