// Tests of the binary-lens point-source magnification (lens/binary_lens.hpp) against the
// VBMicrolensing reference and an independent 40-digit mpmath computation
// (tests/data/make_binary_point_hp.py), plus the lens-equation, parity and symmetry properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "lens/binary_lens.hpp"
#include "lens/caustics.hpp"
#include "tests/lens/reference_csv.hpp"

using namespace lensflow::lens;
using lensflow::test::data_path;
using lensflow::test::read_csv;

namespace {

struct ErrStats {
  std::vector<double> e;
  void print(const char* label) {
    if (e.empty()) return;
    std::sort(e.begin(), e.end());
    const std::size_t n = e.size();
    const auto frac_above = [&](double t) {
      return double(e.end() - std::upper_bound(e.begin(), e.end(), t)) / n;
    };
    std::printf("  %-28s n=%6zu median=%.2e p99=%.2e p99.9=%.2e max=%.2e  >1e-8: %.3f%%  >1e-5: %.3f%%\n", label, n,
                e[n / 2], e[std::min(n - 1, n * 99 / 100)], e[std::min(n - 1, n * 999 / 1000)], e.back(),
                100.0 * frac_above(1e-8), 100.0 * frac_above(1e-5));
  }
  double fraction_within(double t) const {
    return double(std::count_if(e.begin(), e.end(), [t](double x) { return x <= t; })) / e.size();
  }
  double max() const { return *std::max_element(e.begin(), e.end()); }
};

}  // namespace

TEST(PointSource, MatchesHighPrecisionReference) {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  const auto hp = read_csv(data_path("binary_point_hp.csv"));
  ASSERT_EQ(ref.rows, hp.rows);
  ErrStats all, per_regime[3];
  for (std::size_t i = 0; i < ref.rows; ++i) {
    const double A = binary_point_mag(make_binary_lens(ref["s"][i], ref["q"][i]), cplx(ref["y1"][i], ref["y2"][i]));
    ASSERT_TRUE(std::isfinite(A) && A >= 1.0) << "row " << i;
    const double e = std::fabs(A - hp["A_point_hp"][i]) / hp["A_point_hp"][i];
    all.e.push_back(e);
    per_regime[int(ref["regime"][i])].e.push_back(e);
  }
  std::printf("relative error vs 40-digit mpmath:\n");
  all.print("all rows");
  const char* names[3] = {"regime 0 (uniform |y|<2)", "regime 1 (near caustic)", "regime 2 (resonant/cusp)"};
  for (int r = 0; r < 3; ++r) per_regime[r].print(names[r]);
  EXPECT_GE(all.fraction_within(1e-8), 0.999);
  EXPECT_LE(all.max(), 1e-5);
}

// VBMicrolensing's BinaryMag0 loses digits at high magnification (A > ~1e3 on central caustics;
// the mpmath values show it). Where it is accurate we must agree with it to 1e-8; elsewhere our
// distance to it may not exceed its own distance to the truth.
TEST(PointSource, MatchesVBMicrolensingWhereItIsAccurate) {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  const auto hp = read_csv(data_path("binary_point_hp.csv"));
  ErrStats vs_vbm, vbm_vs_hp;
  std::size_t vbm_inaccurate = 0;
  for (std::size_t i = 0; i < ref.rows; ++i) {
    const double A = binary_point_mag(make_binary_lens(ref["s"][i], ref["q"][i]), cplx(ref["y1"][i], ref["y2"][i]));
    const double vbm = ref["A_point"][i], truth = hp["A_point_hp"][i];
    const double e = std::fabs(A - vbm) / vbm, e_vbm = std::fabs(vbm - truth) / truth;
    vs_vbm.e.push_back(e);
    vbm_vs_hp.e.push_back(e_vbm);
    if (e_vbm > 1e-9) ++vbm_inaccurate;
    EXPECT_LE(std::fabs(A - vbm), std::fabs(vbm - truth) + 1e-8 * truth) << "row " << i;
  }
  std::printf("relative error vs VBMicrolensing A_point, and VBMicrolensing vs mpmath:\n");
  vs_vbm.print("lensflow vs VBM");
  vbm_vs_hp.print("VBM vs mpmath");
  std::printf("  rows where VBM is off the mpmath value by > 1e-9: %zu\n", vbm_inaccurate);
}

TEST(PointSource, ImagesSolveTheLensEquationWithBalancedParity) {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  std::size_t n5 = 0, ulp_limited = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.rows; ++i) {
    const BinaryLens L = make_binary_lens(ref["s"][i], ref["q"][i]);
    const cplx zeta(ref["y1"][i], ref["y2"][i]);
    cplx roots[5];
    bool img[5];
    const int n = binary_images(L, zeta, roots, img, false);
    ASSERT_TRUE(n == 3 || n == 5) << "row " << i;
    n5 += n == 5;
    int neg = 0, count = 0;
    for (int k = 0; k < 5; ++k) {
      if (!img[k]) continue;
      ++count;
      neg += jacobian_det(L, roots[k]) < 0.0;
      // Source-plane residual; an image within ~1e-6 of a lens has |∂ζ/∂z̄| up to 1e14, so one ulp of
      // its position moves ζ by more than 1e-10: there the image-plane distance to the exact
      // solution (the Newton step) must be within a few ulps instead.
      const double r = abs(lens_map(L, roots[k]) - zeta) / std::max(1.0, abs(zeta));
      worst = std::max(worst, r);
      if (r > 1e-10) {
        ++ulp_limited;
        double resid;
        const cplx step = detail::lens_newton_step(L, roots[k], zeta, resid);
        EXPECT_LE(abs(step), 8e-16 * std::max(1.0, abs(roots[k]))) << "row " << i << " image " << k;
      }
    }
    EXPECT_EQ(count, n);
    EXPECT_EQ(2 * neg - n, 1) << "row " << i << ": #negative - #positive parity must be 1";
  }
  std::printf("  largest source-plane residual of an image: %.2e (%zu images next to a lens judged by their\n"
              "  image-plane distance instead); rows with 5 images: %zu\n", worst, ulp_limited, n5);
}

// Witt & Mao (1995): for a source inside a caustic of two point lenses (5 images) the signed
// magnifications sum to 1.
TEST(PointSource, SignedMagnificationsSumToOneInsideCaustics) {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  std::size_t n5 = 0;
  for (std::size_t i = 0; i < ref.rows; ++i) {
    const BinaryLens L = make_binary_lens(ref["s"][i], ref["q"][i]);
    cplx roots[5];
    bool img[5];
    if (binary_images(L, cplx(ref["y1"][i], ref["y2"][i]), roots, img, false) != 5) continue;
    ++n5;
    double signed_sum = 0.0, A = 0.0;
    for (int k = 0; k < 5; ++k)
      if (img[k]) {
        signed_sum += 1.0 / jacobian_det(L, roots[k]);
        A += 1.0 / std::fabs(jacobian_det(L, roots[k]));
      }
    EXPECT_NEAR(signed_sum, 1.0, 1e-10 * A * A) << "row " << i;
  }
  EXPECT_GT(n5, 1000u);
}

TEST(PointSource, ReflectionSymmetries) {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  for (std::size_t i = 0; i < ref.rows; i += 5) {
    const double s = ref["s"][i], q = ref["q"][i], y1 = ref["y1"][i], y2 = ref["y2"][i];
    const double A = binary_point_mag(make_binary_lens(s, q), cplx(y1, y2));
    // y2 -> -y2: the lens is symmetric about the real axis.
    EXPECT_NEAR(binary_point_mag(make_binary_lens(s, q), cplx(y1, -y2)), A, 1e-9 * A) << "row " << i;
    // q -> 1/q with y1 -> -y1: the same lens seen from the other side (documents q > 1).
    EXPECT_NEAR(binary_point_mag(make_binary_lens(s, 1.0 / q), cplx(-y1, y2)), A, 1e-8 * A) << "row " << i;
  }
}

// Stress: never NaN, Inf or A < 1 over q in [1e-6, 1e3], s in [0.1, 10], including sources exactly
// on sampled caustic points and just off them, on the lens positions, at the origin and far away.
TEST(PointSource, AlwaysFiniteAndAtLeastOne) {
  const double qs[] = {1e-6, 3e-5, 1e-3, 0.05, 0.5, 1.0, 2.0, 1e3};
  const double ss[] = {0.1, 0.3, 0.7, 1.0, 1.3, 2.5, 10.0};
  std::size_t checked = 0;
  for (double q : qs)
    for (double s : ss) {
      const BinaryLens L = make_binary_lens(s, q);
      std::vector<cplx> sources = {cplx(0.0), cplx(L.z1), cplx(L.z2), cplx(1e3, -2e3), cplx(0.0, 1e-300),
                                   cplx(L.z2 - 1.0 / L.z2)};  // the last: near a planetary caustic
      const auto curves = caustic_curves(s, q, 64);
      for (const auto& caustic : curves.caustic)
        for (std::size_t k = 0; k < caustic.size(); k += 3)
          for (double off : {0.0, 1e-14, 1e-10, 1e-7, -1e-7, 1e-4})
            sources.push_back(caustic[k] + cplx(off, 0.5 * off));
      for (const cplx& z : sources) {
        const double A = binary_point_mag(L, z);
        ++checked;
        ASSERT_TRUE(std::isfinite(A) && A >= 1.0)
            << "s=" << s << " q=" << q << " source (" << z.re << ", " << z.im << ") A=" << A;
      }
    }
  std::printf("  %zu stress sources checked\n", checked);
}

// Fuzz: 100,000 random lenses and sources (s in [0.1, 10], q in [1e-6, 1e3], |y| < 3): 3 or 5
// distinct images with balanced parity, finite A >= 1.
TEST(PointSource, RandomSourcesGiveConsistentImages) {
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> ls(std::log(0.1), std::log(10.0)), lq(std::log(1e-6), std::log(1e3)),
      uy(-3.0, 3.0);
  for (int trial = 0; trial < 100000; ++trial) {
    const double s = std::exp(ls(rng)), q = std::exp(lq(rng));
    const BinaryLens L = make_binary_lens(s, q);
    const cplx zeta(uy(rng), uy(rng));
    cplx roots[5];
    bool img[5];
    const int n = binary_images(L, zeta, roots, img, false);
    ASSERT_TRUE(n == 3 || n == 5) << "s=" << s << " q=" << q;
    int neg = 0;
    for (int k = 0; k < 5; ++k) {
      if (!img[k]) continue;
      neg += jacobian_det(L, roots[k]) < 0.0;
      for (int j = 0; j < k; ++j)
        if (img[j])
          ASSERT_GT(abs(roots[k] - roots[j]), 1e-12 * std::max(1.0, abs(roots[k])))
              << "duplicate image, s=" << s << " q=" << q << " source (" << zeta.re << ", " << zeta.im << ")";
    }
    ASSERT_EQ(2 * neg - n, 1) << "s=" << s << " q=" << q << " source (" << zeta.re << ", " << zeta.im << ")";
    const double A = images_magnification(L, roots, img);
    ASSERT_TRUE(std::isfinite(A) && A >= 1.0);
  }
}

// An equal-mass lens with the source at its centre of mass has 5 images on the axes (for s < √2):
// z = 0, z = ±i·sqrt(1 − a²) and z = ±sqrt(1 + a²), a = s/2, with det J = 1 − 1/a⁴, 1 − (2a² − 1)²
// and 1 − (2a² + 1)². Sources within 1e-9 of the centre must find all five (the central image sits
// at |z| ~ 1e-14 and was once rejected by a Newton step measured against |z|).
TEST(PointSource, EqualMassLensAtItsCentreHasFiveImages) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  for (const double s : {0.02, 0.5, 1.0}) {
    const double a2 = 0.25 * s * s;
    const double A_centre = 1.0 / (1.0 / (a2 * a2) - 1.0) + 2.0 / (1.0 - (2.0 * a2 - 1.0) * (2.0 * a2 - 1.0)) +
                            2.0 / ((2.0 * a2 + 1.0) * (2.0 * a2 + 1.0) - 1.0);
    for (const double q : {1.0, 1.0 - 1e-9}) {
      const BinaryLens L = make_binary_lens(s, q);
      for (int k = 0; k < 2000; ++k) {
        const double r = std::pow(10.0, -15.0 + 6.0 * (U(rng) + 1.0) / 2.0);
        const cplx zeta(r * U(rng), r * U(rng));
        cplx z[5];
        bool img[5];
        ASSERT_EQ(binary_images(L, zeta, z, img, false), 5) << "s " << s << " q " << q << " zeta " << zeta.re;
        EXPECT_NEAR(images_magnification(L, z, img), A_centre, 1e-6 * A_centre) << "s " << s;
      }
    }
  }
}
