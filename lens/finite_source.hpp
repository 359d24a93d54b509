// lens/finite_source.hpp — binary-lens finite-source magnification, uniform or linearly
// limb-darkened, with error control and a bounded amount of work (host and device, one call per
// point; the batched API in lens/lensflow_lens.hpp loops over it on CPU threads or GPU threads).
//
// Decision tree per uniform source disk of radius r (after VBMicrolensing, Bozza et al. 2018):
//  1. Images at the centre (point source, A0) and an estimate d of the distance to the nearest
//     caustic (contour::caustic_distance: every root projected onto the critical curve and mapped
//     back, plus the lens-map images of root-pair midpoints).
//  2. d > kQuadMinDistance·r and the analytic quadrupole correction Q (hexadecapole.hpp, from the
//     images alone) below kQuadFast × tolerance: A0 + Q, error |Q|/2.
//  3. d > kHexMinDistance·r: Gould's hexadecapole from 12 more point-source solves; accepted when
//     no sample changes the image count and 2|A4| (the error bound) is within the tolerance.
//  4. Otherwise contour integration of the images of the boundary (lens/contour.hpp), adaptively
//     refined until the error estimate meets the tolerance or the sample budget is spent.
// Limb darkening (opt.a1 > 0): adaptive Simpson in μ over uniform disks of radii ρ·sqrt(1 − μ²)
// (lens/limb_darkening.hpp), each evaluated by the tree above to a share of the tolerance.
//
// Tolerance: the result is accepted when its estimated absolute error is <= max(tol_abs, tol_rel·A)
// (as VBMicrolensing's Tol/RelTol, either suffices).
// Work bound per call: uniform, ≤ 13 point solves + max_samples contour samples; limb-darkened,
// ≤ max(max_radii, 8) uniform disks, i.e. ≤ max_radii·(13 + max_samples) root solves. Each root solve is a
// warm-started Aberth iteration (≤ 100 sweeps over 5 roots). Nothing allocates; the workspace
// (kContourMaxSamples contour samples and one caustic outline, ~240 kB by default) is passed in.
#pragma once
#include <cmath>

#include "lens/binary_lens.hpp"
#include "lens/caustic_outline.hpp"
#include "lens/contour.hpp"
#include "lens/hexadecapole.hpp"
#include "lens/limb_darkening.hpp"

namespace lensflow::lens {

// Maximum number of uniform-disk radii of one limb-darkened evaluation (compile-time bound of the
// adaptive Simpson stack; opt.max_radii may only lower it).
constexpr int kMaxLdRadii = 65;
// Initial 5-node Simpson panels of the limb-darkening quadrature (4·kLdPanels disks).
constexpr int kLdPanels = 2;

struct FiniteSourceOptions {
  double tol_abs = 1e-4;  // absolute error goal on A
  double tol_rel = 1e-3;  // relative error goal on A (either goal met suffices)
  double a1 = 0.0;        // linear limb darkening, I(r) ∝ 1 − a1(1 − sqrt(1 − r²/ρ²)); 0 = uniform
  int max_samples = kContourMaxSamples;  // source-boundary samples per contour (the work budget)
  int max_radii = 33;                    // uniform disks per limb-darkened evaluation (<= kMaxLdRadii)
};

enum FiniteMagStatus : int {
  kFiniteOk = 0,           // error estimate within tolerance
  kFiniteBudgetHit = 1,    // work budget spent; err may exceed the tolerance
  kFiniteBadInput = 2,     // non-finite input, rho < 0 or a degenerate lens (s or q <= 0); A is NaN
};

struct FiniteMagResult {
  double A;    // magnification (>= 1)
  double err;  // estimated absolute error of A
  int status;  // FiniteMagStatus
};

// Per-thread scratch memory (in global memory on the device). sizeof ~ 240 kB at the default
// LENSFLOW_FS_MAX_SAMPLES = 1536; define that macro to change the capacity. Scratch plus one cache
// entry: nothing in it can change a result, so a result never depends on what the workspace computed
// before.
struct FiniteSourceWorkspace {
  ContourWorkspace contour;
  // The caustic outline of the last lens that needed one (a cache: the outline is a function of the
  // lens alone, so a hit returns exactly what a rebuild would). Used only when the tag matches
  // detail::kOutlineTag and the lens matches bit for bit (device workspaces are zeroed, not
  // constructed).
  unsigned outline_tag = 0;
  BinaryLens outline_lens;
  CausticOutline outline;
};

// The polynomial roots at a nearby source position, carried by a caller that walks a light curve in
// order (lens/lightcurve.hpp). They only seed the root solver at the next position: the roots there
// are the same solutions of the same polynomial (to round-off), and every decision (image count,
// caustic distance, which method) is made from them afresh, never from the previous position.
struct RootWarmStart {
  bool valid = false;
  cplx roots[5];
};

namespace detail {

// Safety factor on the hexadecapole term taken as the error of the expansion.
constexpr double kHexSafety = 1.0;
// The analytic quadrupole alone is accepted when it is below this fraction of the tolerance.
constexpr double kQuadFast = 0.1;
// Smallest estimated caustic distance, in disk radii, for the quadrupole-only shortcut.
constexpr double kQuadMinDistance = 10.0;
// Smallest estimated caustic distance, in disk radii, at which the expansion is tried.
constexpr double kHexMinDistance = 5.0;
// An estimated caustic distance below this many source radii is replaced by the outline's bound
// before any expansion is trusted: the estimate follows the critical curve locally from each root and
// was seen to exceed the true distance up to ~75 times next to caustics (never near this factor far
// from them).
constexpr double kVerifyDistance = 150.0;
constexpr unsigned kOutlineTag = 0x0c7a11e5u;
// Initial number of contour samples.
constexpr int kContourInitialSamples = 24;

// Magnification of the uniform disk of radius r (steps 1–4 above); ok = false when the contour
// budget was spent before the error estimate met the tolerance.
struct DiskMag {
  double A, err;
  bool ok;
};

// roots/img/n_img: the point-source images at zeta0 (binary_images), shared by every radius of a
// limb-darkened source; d: the caustic-distance estimate at zeta0.
LENSFLOW_HD_NOINLINE DiskMag uniform_disk_mag(const BinaryLens& L, cplx zeta0, double r, double tol_abs, double tol_rel,
                                     int max_samples, const cplx roots[5], const bool img[5], int n_img, double d,
                                     FiniteSourceWorkspace* ws) {
  const double A0 = images_magnification(L, roots, img);
  if (!(r > 0.0)) return {A0, 0.0, true};
  // A caustic within kHexMinDistance·r (possibly a cusp tip inside the disk that 13 samples miss):
  // straight to the contour. Otherwise the expansion is trusted while its last term is small.
  if (d > kHexMinDistance * r) {
    // Cheapest first: the analytic quadrupole (no extra root solve). When it is a small fraction
    // of the tolerance the series is deep in its convergent regime and the next term (the
    // hexadecapole, ~ (r/d)² smaller) is well below half of it.
    const double Q = 0.5 * r * r * quadrupole_laplacian_quarter(L, roots, img);
    if (d > kQuadMinDistance * r && fabs(Q) < kQuadFast * fmax(tol_abs, tol_rel * A0))
      return {A0 + Q, 0.5 * fabs(Q), true};
    const HexadecapoleResult h = hexadecapole_mag(L, zeta0, r, 0.0, A0, roots, n_img);
    const double err = h.n_img_changes > 0 ? 1e300 : kHexSafety * (fabs(h.A4) + fabs(h.A2) * fabs(h.A4 / (fabs(h.A2) + 1e-300)));
    if (err < fmax(tol_abs, tol_rel * h.A)) return {h.A, err, true};
  }
  const ContourResult c =
      contour_mag_uniform(L, zeta0, r, tol_abs, tol_rel, kContourInitialSamples, max_samples, ws->contour);
  return {c.A, c.err, c.converged};
}

}  // namespace detail

// Finite-source magnification of the disk of radius rho centred on source position zeta (the frame of
// docs/conventions.md §Frame), uniform (opt.a1 = 0) or linearly limb-darkened. ws: caller-owned
// scratch (one per concurrent call). Never returns NaN for finite input; A >= 1.
// warm (optional): roots at a nearby position of the same lens, used as the root solver's starting
// point and replaced by this position's roots (see RootWarmStart); null for a cold start.
// outline (optional): the caustic outline of this lens (lens/caustic_outline.hpp); the caustic
// distance is then a bound from it instead of an estimate from the roots.
LENSFLOW_HD FiniteMagResult binary_finite_mag(const BinaryLens& lens, cplx zeta, double rho,
                                              const FiniteSourceOptions& opt, FiniteSourceWorkspace* ws,
                                              RootWarmStart* warm = nullptr, const CausticOutline* outline = nullptr) {
  FiniteMagResult out{0.0, 0.0, kFiniteOk};
  const bool lens_ok = lens.m1 > 0.0 && lens.m2 > 0.0 && fabs(lens.z1) < 1e300 && fabs(lens.z2) < 1e300 &&
                       lens.z1 != lens.z2;
  if (!lens_ok || !(rho >= 0.0) || !(fabs(zeta.re) < 1e300) || !(fabs(zeta.im) < 1e300) || !(rho < 1e300)) {
    out.A = NAN;
    out.err = NAN;
    out.status = kFiniteBadInput;
    return out;
  }
  // Images and caustic distance at the centre, computed once for every radius below.
  cplx roots[5];
  bool img[5];
  const bool use_warm = warm && warm->valid;
  if (use_warm)
    for (int i = 0; i < 5; ++i) roots[i] = warm->roots[i];
  const int n_img = binary_images(lens, zeta, roots, img, use_warm);
  if (warm) {
    bool finite = true;
    for (int i = 0; i < 5; ++i) {
      warm->roots[i] = roots[i];
      finite = finite && lens::detail::is_finite(roots[i].re) && lens::detail::is_finite(roots[i].im);
    }
    warm->valid = finite;
  }
  if (rho == 0.0) {
    out.A = images_magnification(lens, roots, img);
    return out;
  }
  double d;
  if (outline) {
    d = caustic_distance_bound(*outline, zeta, detail::kQuadMinDistance * rho);
  } else {
    d = contour::caustic_distance(lens, zeta, roots);
    // The estimate is the distance to a caustic point, hence never below the true distance: below
    // the expansions' threshold (uniform source) the contour is right whatever the bound says.
    const double no_expansion_below = opt.a1 > 0.0 ? 0.0 : detail::kHexMinDistance * rho;
    if (d >= no_expansion_below && d < detail::kVerifyDistance * rho) {
      if (!(ws->outline_tag == detail::kOutlineTag && ws->outline_lens.m1 == lens.m1 &&
            ws->outline_lens.m2 == lens.m2 && ws->outline_lens.z1 == lens.z1 && ws->outline_lens.z2 == lens.z2)) {
        build_caustic_outline(lens, &ws->outline);
        ws->outline_lens = lens;
        ws->outline_tag = detail::kOutlineTag;
      }
      d = caustic_distance_bound(ws->outline, zeta, detail::kQuadMinDistance * rho);
    }
  }
  const int max_samples = opt.max_samples < kContourMaxSamples ? opt.max_samples : kContourMaxSamples;
  if (!(opt.a1 > 0.0)) {
    const detail::DiskMag m =
        detail::uniform_disk_mag(lens, zeta, rho, opt.tol_abs, opt.tol_rel, max_samples, roots, img, n_img, d, ws);
    out.A = m.A > 1.0 ? m.A : 1.0;
    out.err = m.err;
    out.status = m.ok ? kFiniteOk : kFiniteBudgetHit;
    return out;
  }
  // Limb darkening: A_LD = [(1 − a1)·M(ρ) + a1·∫₀¹ g(μ) dμ]/(1 − a1/3), g(μ) = (1 − μ²)·M(ρ·sqrt(1 − μ²)).
  // Integrated in φ (μ = cos φ, r = ρ sin φ): ∫₀¹ g dμ = ∫₀^{π/2} sin³φ·M(ρ sin φ) dφ, whose integrand
  // stays smooth at both ends even when M(r) ∝ 1/r (a disk centred on a point-like caustic), where
  // g(μ) has a sqrt(1 − μ) cusp. x = 2φ/π ∈ [0, 1] is the quadrature variable, x = 0 the full disk.
  const double a1 = opt.a1 > 1.0 ? 1.0 : opt.a1;
  const double norm = 1.0 - a1 / 3.0;
  int max_radii = opt.max_radii < kMaxLdRadii ? opt.max_radii : kMaxLdRadii;
  if (max_radii < 4 * kLdPanels) max_radii = 4 * kLdPanels;  // the initial panels
  // Each disk gets a quarter of the goal; the quadrature in μ the rest.
  const double tol_abs_disk = 0.25 * opt.tol_abs, tol_rel_disk = 0.25 * opt.tol_rel;
  bool all_ok = true;
  double disk_err = 0.0;  // largest error of a g value (the quadrature weights sum to 1)
  double err_rho = 0.0;   // error of M(ρ)
  int n_radii = 0;
  constexpr double kHalfPi = 1.5707963267948966;
  auto g = [&](double x) {
    const double sn = cos(kHalfPi * x), s2 = sn * sn;  // sin φ with φ = (π/2)(1 − x)
    if (!(sn > 0.0)) return 0.0;
    const double w = kHalfPi * sn;  // g = (π/2)·sin³φ·M = w·s2·M
    const detail::DiskMag m =
        detail::uniform_disk_mag(lens, zeta, rho * sn, tol_abs_disk, tol_rel_disk, max_samples, roots, img, n_img, d, ws);
    ++n_radii;
    all_ok = all_ok && m.ok;
    if (w * s2 * m.err > disk_err) disk_err = w * s2 * m.err;
    if (x == 0.0) err_rho = m.err;
    return w * s2 * m.A;
  };
  const double g0 = g(0.0), M_rho = g0 / kHalfPi;
  // Globally adaptive Simpson on [0, 1]: each panel holds 5 nodes (Simpson on the whole panel and on
  // its halves; error |S2 − S1|/15 with a safety factor 3, as g has (x − x_c)^{3/2} kinks where the
  // disk edge meets a caustic); the panel of largest error is split (4 new disks) until the summed
  // error meets the goal or the disk budget is spent, so a spent budget leaves the error spread
  // evenly rather than piled up in unvisited panels.
  struct Panel {
    double a, b, f[5], value, err;
  };
  auto finish = [](Panel& p) {
    const double h = p.b - p.a;
    const double s1 = (p.f[0] + 4.0 * p.f[2] + p.f[4]) * h / 6.0;
    const double s2 = (p.f[0] + 4.0 * p.f[1] + 2.0 * p.f[2] + 4.0 * p.f[3] + p.f[4]) * h / 12.0;
    p.value = s2 + (s2 - s1) / 15.0;  // Richardson extrapolation (Boole's rule)
    p.err = 3.0 * fabs(s2 - s1) / 15.0;
  };
  constexpr int kMaxPanels = (kMaxLdRadii - 1) / 4 + 2;
  Panel pan[kMaxPanels];
  int n_pan = kLdPanels;
  for (int k = 0; k < kLdPanels; ++k) {
    Panel& p = pan[k];
    p.a = k / (double)kLdPanels;
    p.b = (k + 1) / (double)kLdPanels;
    for (int j = 0; j < 5; ++j) {
      const double x = p.a + 0.25 * j * (p.b - p.a);
      p.f[j] = (k > 0 && j == 0) ? pan[k - 1].f[4] : (x == 0.0 ? g0 : g(x));
    }
    finish(p);
  }
  double integral = 0.0, quad_err = 0.0;
  for (;;) {
    integral = 0.0;
    quad_err = 0.0;
    int worst = 0;
    for (int k = 0; k < n_pan; ++k) {
      integral += pan[k].value;
      quad_err += pan[k].err;
      if (pan[k].err > pan[worst].err) worst = k;
    }
    const double A_now = ((1.0 - a1) * M_rho + a1 * integral) / norm;
    const double goal = 0.5 * fmax(opt.tol_abs, opt.tol_rel * A_now) * norm / a1;
    if (quad_err <= goal) break;
    if (n_radii + 4 > max_radii || n_pan >= kMaxPanels) {
      all_ok = false;  // disk budget spent
      break;
    }
    const Panel p = pan[worst];
    const double m = 0.5 * (p.a + p.b);
    Panel& l = pan[worst];
    Panel& r = pan[n_pan++];
    l.a = p.a;
    l.b = m;
    r.a = m;
    r.b = p.b;
    l.f[0] = p.f[0], l.f[2] = p.f[1], l.f[4] = p.f[2];
    r.f[0] = p.f[2], r.f[2] = p.f[3], r.f[4] = p.f[4];
    l.f[1] = g(p.a + 0.125 * (p.b - p.a));
    l.f[3] = g(p.a + 0.375 * (p.b - p.a));
    r.f[1] = g(p.a + 0.625 * (p.b - p.a));
    r.f[3] = g(p.a + 0.875 * (p.b - p.a));
    finish(l);
    finish(r);
  }
  out.A = ((1.0 - a1) * M_rho + a1 * integral) / norm;
  out.err = ((1.0 - a1) * err_rho + a1 * (quad_err + disk_err)) / norm;
  if (!(out.A >= 1.0)) out.A = 1.0;
  out.status = all_ok ? kFiniteOk : kFiniteBudgetHit;
  return out;
}

}  // namespace lensflow::lens
