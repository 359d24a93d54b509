// Tests of lens/caustics.hpp: critical points have det J = 0, the caustic is their image, the
// image count changes from 3 to 5 across the caustic, and the number of closed curves follows the
// close / resonant / wide topology (equal masses: transitions at s = 1/sqrt(2) and s = 2).
#include <gtest/gtest.h>

#include <cmath>

#include "lens/caustics.hpp"

using namespace lensflow::lens;

TEST(Caustics, CriticalPointsHaveZeroJacobian) {
  for (double q : {1e-6, 1e-3, 0.3, 1.0})
    for (double s : {0.3, 0.8, 1.0, 1.5, 4.0}) {
      const BinaryLens L = make_binary_lens(s, q);
      for (int i = 0; i < 64; ++i) {
        cplx z[4];
        critical_points(L, 6.283185307179586 * i / 64, z, false);
        for (const cplx& c : z) EXPECT_NEAR(jacobian_det(L, c), 0.0, 1e-9) << "s " << s << " q " << q;
      }
    }
}

TEST(Caustics, TopologyCounts) {
  EXPECT_EQ(caustic_curves(1.0, 0.5).critical.size(), 1u);   // resonant
  EXPECT_EQ(caustic_curves(3.0, 0.5).critical.size(), 2u);   // wide
  EXPECT_EQ(caustic_curves(0.4, 0.5).critical.size(), 3u);   // close
  EXPECT_EQ(caustic_curves(0.69, 1.0).critical.size(), 3u);  // just below 1/sqrt(2)
  EXPECT_EQ(caustic_curves(0.73, 1.0).critical.size(), 1u);
  EXPECT_EQ(caustic_curves(1.97, 1.0).critical.size(), 1u);  // just below 2
  EXPECT_EQ(caustic_curves(2.03, 1.0).critical.size(), 2u);
  EXPECT_EQ(caustic_curves(2.0, 1e-4).critical.size(), 2u);  // planetary wide
  EXPECT_EQ(caustic_curves(0.5, 1e-4).critical.size(), 3u);  // planetary close
}

TEST(Caustics, CurvesAreClosedAndMapToCaustics) {
  for (double s : {0.4, 1.0, 3.0}) {
    const double q = 0.2;
    const BinaryLens L = make_binary_lens(s, q);
    const auto cc = caustic_curves(s, q, 400);
    std::size_t total = 0;
    for (std::size_t k = 0; k < cc.critical.size(); ++k) {
      const auto& crit = cc.critical[k];
      const auto& caus = cc.caustic[k];
      ASSERT_EQ(crit.size(), caus.size());
      total += crit.size();
      double max_step = 0.0;
      for (std::size_t i = 0; i < crit.size(); ++i) {
        EXPECT_NEAR(abs(lens_map(L, crit[i]) - caus[i]), 0.0, 1e-14);
        max_step = std::max(max_step, abs(crit[(i + 1) % crit.size()] - crit[i]));
      }
      EXPECT_LT(max_step, 0.1) << "curve " << k << " of s=" << s << " is not one continuous loop";
    }
    EXPECT_EQ(total, 4u * 400u);
  }
}

// Across a fold the number of images changes by 2.
TEST(Caustics, ImageCountChangesAcrossTheCaustic) {
  for (double s : {0.6, 1.1, 2.5}) {
    const double q = 0.1;
    const BinaryLens L = make_binary_lens(s, q);
    const auto cc = caustic_curves(s, q, 256);
    int checked = 0;
    for (const auto& caus : cc.caustic)
      for (std::size_t i = 5; i + 5 < caus.size(); i += 17) {
        const cplx t = caus[i + 1] - caus[i - 1];
        const cplx t1 = caus[i] - caus[i - 1], t2 = caus[i + 1] - caus[i];
        // Skip cusps (the tangent turns sharply): the other fold is then within reach.
        if (abs(t) < 1e-6 || (t1.re * t2.re + t1.im * t2.im) < 0.99 * abs(t1) * abs(t2)) continue;
        const cplx nrm = cplx(-t.im, t.re) / abs(t);
        cplx r[5];
        bool img[5];
        // 1e-9 from the fold: the image classification must still tell inside from outside.
        const int a = binary_images(L, caus[i] + 1e-9 * nrm, r, img, false);
        const int b = binary_images(L, caus[i] - 1e-9 * nrm, r, img, false);
        EXPECT_EQ(std::abs(a - b), 2) << "s " << s << " point " << i;
        ++checked;
      }
    EXPECT_GT(checked, 10);
  }
}
