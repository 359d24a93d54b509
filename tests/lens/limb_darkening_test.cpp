// Limb-darkened binary-lens finite source against the VBMicrolensing reference
// (tests/data/binary_ld.csv, all rows, a1 = 0.5), plus the law's moments and limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "lens/finite_source.hpp"
#include "lens/limb_darkening.hpp"
#include "lens/single_lens.hpp"
#include "tests/lens/reference_csv.hpp"

namespace lensflow::lens {
namespace {

// Brightness-weighted brute-force disk average on an n×n grid (independent of the contours).
double brute_force_disk_ld(const BinaryLens& L, cplx zeta, double rho, double a1, int n) {
  double sum = 0.0, wsum = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double x = -1.0 + (i + 0.5) * 2.0 / n, y = -1.0 + (j + 0.5) * 2.0 / n;
      if (x * x + y * y > 1.0) continue;
      const double w = ld_profile(a1, std::sqrt(x * x + y * y));
      sum += w * binary_point_mag(L, zeta + cplx(rho * x, rho * y));
      wsum += w;
    }
  return sum / wsum;
}

TEST(LimbDarkening, MomentsMatchNumericalIntegrals) {
  for (double a1 : {0.0, 0.3, 0.5, 1.0}) {
    double m2, m4;
    ld_moments(a1, m2, m4);
    // Midpoint rule in x² (the profile's sqrt(1 − x²) is integrable; 2e5 cells give ~1e-7).
    double f = 0.0, f2 = 0.0, f4 = 0.0;
    const int n = 200000;
    for (int k = 0; k < n; ++k) {
      const double u = (k + 0.5) / n, x = std::sqrt(u);  // u = x², d(x²) = 2x dx
      const double I = ld_profile(a1, x);
      f += I;
      f2 += I * u;
      f4 += I * u * u;
    }
    EXPECT_NEAR(m2, f2 / f, 1e-6) << a1;
    EXPECT_NEAR(m4, f4 / f, 1e-6) << a1;
  }
}

TEST(LimbDarkening, MatchesReference) {
  const auto t = test::read_csv(test::data_path("binary_ld.csv"));
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = 1e-4;
  std::vector<double> err_by_regime[3];
  std::size_t within_1e3 = 0, covered = 0, budget = 0;
  for (std::size_t i = 0; i < t.rows; ++i) {
    const BinaryLens L = make_binary_lens(t["s"][i], t["q"][i]);
    const cplx zeta(t["y1"][i], t["y2"][i]);
    const double rho = t["rho"][i], ref = t["A_finite_ld"][i];
    opt.a1 = t["a1"][i];
    const FiniteMagResult r = binary_finite_mag(L, zeta, rho, opt, ws.get());
    ASSERT_TRUE(std::isfinite(r.A) && r.A >= 1.0) << "row " << i;
    budget += r.status != kFiniteOk;
    const double rel = std::fabs(r.A - ref) / ref;
    err_by_regime[static_cast<int>(t["regime"][i])].push_back(rel);
    within_1e3 += rel <= 1e-3;
    // The reference is good to 1e-5 (ld_flag 0) or 1e-4 (ld_flag 1) relative.
    covered += std::fabs(r.A - ref) <= r.err + (t["ld_flag"][i] != 0.0 ? 1e-4 : 1e-5) * ref;
    if (rel > 1e-2) {
      const double brute = brute_force_disk_ld(L, zeta, rho, opt.a1, 1000);
      std::printf("row %zu: ours %.7g, reference %.7g, brute force %.7g\n", i, r.A, ref, brute);
      EXPECT_LT(2.0 * std::fabs(r.A - brute), std::fabs(ref - brute)) << "row " << i;
    }
  }
  const char* names[3] = {"random", "near caustic", "resonant/cusp"};
  for (int g = 0; g < 3; ++g) {
    auto v = err_by_regime[g];
    std::sort(v.begin(), v.end());
    auto at = [&](double f) { return v[static_cast<std::size_t>(f * (v.size() - 1))]; };
    std::printf("regime %d (%s), %zu rows: relative error max %.2e, 99.9%% %.2e, 99%% %.2e, median %.2e\n", g,
                names[g], v.size(), v.back(), at(0.999), at(0.99), at(0.5));
  }
  std::printf("within 1e-3: %.3f%%; error estimate (+ reference accuracy) covers the actual error on %.2f%%; "
              "budget hits %zu\n",
              100.0 * within_1e3 / t.rows, 100.0 * covered / t.rows, budget);
  // 1,107 rows: 99.9% allows one row above 1e-3 (row 570, a central-caustic crossing at A ~ 1,370
  // where the reference is off by ~1e-3 from a brute-force average that sides with us).
  EXPECT_GE(static_cast<double>(within_1e3) / t.rows, 0.999 - 1.0 / t.rows);
  EXPECT_GE(static_cast<double>(covered) / t.rows, 0.95);
}

TEST(LimbDarkening, VanishingCoefficientGivesUniform) {
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  const BinaryLens L = make_binary_lens(1.1, 0.01);
  FiniteSourceOptions uni, ld;
  uni.tol_abs = uni.tol_rel = ld.tol_abs = ld.tol_rel = 1e-6;
  ld.a1 = 1e-9;  // exercises the annulus quadrature with a negligible darkening
  for (cplx zeta : {cplx(0.2, 0.05), cplx(-0.05, 0.01), cplx(0.0, 0.0), cplx(0.6, 0.3)}) {
    const double a = binary_finite_mag(L, zeta, 0.02, uni, ws.get()).A;
    const double b = binary_finite_mag(L, zeta, 0.02, ld, ws.get()).A;
    EXPECT_NEAR(a, b, 1e-5 * a) << zeta.re << " " << zeta.im;
  }
}

TEST(LimbDarkening, TinyMassRatioTendsToSingleLens) {
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  const BinaryLens L = make_binary_lens(1.3, 1e-9);
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = 1e-6;
  opt.a1 = 0.6;
  const struct {
    double u, rho;
  } cases[] = {{0.03, 0.01}, {0.005, 0.01}, {0.0, 0.004}, {0.3, 0.05}};
  for (const auto& c : cases) {
    const FiniteMagResult r = binary_finite_mag(L, cplx(L.z1 - c.u * 0.6, c.u * 0.8), c.rho, opt, ws.get());
    const double ref = single_finite_mag_ld(c.u, c.rho, opt.a1);
    EXPECT_NEAR(r.A, ref, 5e-5 * ref) << "u " << c.u << " rho " << c.rho;
  }
}

TEST(LimbDarkening, MatchesBruteForceOnCentralCaustic) {
  // Equal masses, source centred on the central (astroid) caustic, strong darkening: against a
  // brightness-weighted brute-force average, and distinct from the uniform value.
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  const BinaryLens L = make_binary_lens(1.0, 1.0);
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = 1e-5;
  const double uni = binary_finite_mag(L, cplx(0.0, 0.0), 0.05, opt, ws.get()).A;
  opt.a1 = 0.8;
  const double ld = binary_finite_mag(L, cplx(0.0, 0.0), 0.05, opt, ws.get()).A;
  const double brute = brute_force_disk_ld(L, cplx(0.0, 0.0), 0.05, 0.8, 600);
  const double brute_uni = brute_force_disk_ld(L, cplx(0.0, 0.0), 0.05, 0.0, 600);
  EXPECT_NEAR(ld, brute, 1e-3 * brute);
  EXPECT_NEAR(uni, brute_uni, 1e-3 * brute_uni);
  EXPECT_NEAR(ld - uni, brute - brute_uni, 2e-4 * brute);
}

}  // namespace
}  // namespace lensflow::lens
