// The caustic outline (lens/caustic_outline.hpp) bounds the distance from a source to the caustics
// from below: checked against caustics traced 64 times more densely (lens/caustics.hpp), for lenses
// across the training priors and beyond (q down to 1e-6, close, resonant and wide), at points
// scattered around every caustic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "lens/caustic_outline.hpp"
#include "lens/caustics.hpp"

namespace lensflow::lens {
namespace {

// Distance from z to the densely sampled caustic polylines (exact up to the sampling).
double dense_distance(const CausticCurves& cc, cplx z) {
  double best = 1e300;
  for (const auto& c : cc.caustic)
    for (std::size_t i = 0; i < c.size(); ++i) {
      const cplx a = c[i], b = c[(i + 1) % c.size()], ab = b - a;
      const double len2 = norm2(ab);
      double u = len2 > 0.0 ? ((z - a).re * ab.re + (z - a).im * ab.im) / len2 : 0.0;
      u = std::min(1.0, std::max(0.0, u));
      best = std::min(best, std::sqrt(norm2(z - (a + u * ab))));
    }
  return best;
}

TEST(CausticOutline, BoundsTheDistanceFromBelow) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  auto outline = std::make_unique<CausticOutline>();
  std::size_t n_points = 0, n_near = 0;
  double worst_slack = 0.0, tightness_far = 1.0;
  for (int lens_i = 0; lens_i < 40; ++lens_i) {
    const double s = std::pow(10.0, -0.7 + 1.4 * U(rng));   // 0.2 … 5
    const double q = std::pow(10.0, -6.0 + 6.0 * U(rng));   // 1e-6 … 1
    const BinaryLens L = make_binary_lens(s, q);
    build_caustic_outline(L, outline.get());
    ASSERT_TRUE(outline->ok) << "s " << s << " q " << q;
    const CausticCurves cc = caustic_curves(s, q, kOutlineSamples * 16);
    // Points at distances from 1e-5 to 1 of random caustic points, in random directions.
    for (int k = 0; k < 300; ++k) {
      const auto& c = cc.caustic[std::size_t(U(rng) * cc.caustic.size()) % cc.caustic.size()];
      const cplx base = c[std::size_t(U(rng) * c.size()) % c.size()];
      const double r = std::pow(10.0, -5.0 + 5.0 * U(rng)), a = 6.283185307179586 * U(rng);
      const cplx z = base + cplx(r * std::cos(a), r * std::sin(a));
      const double truth = dense_distance(cc, z);
      const double bound = caustic_distance_bound(*outline, z, 1e300);
      ++n_points;
      n_near += truth < 1e-2;
      worst_slack = std::max(worst_slack, bound - truth);
      ASSERT_LE(bound, truth + 1e-12) << "s " << s << " q " << q << " z " << z.re << " " << z.im;
      if (truth > 0.05) tightness_far = std::min(tightness_far, bound / truth);
      // A bound asked only up to `enough` is the full bound or at least `enough`.
      const double partial = caustic_distance_bound(*outline, z, 0.5 * truth);
      EXPECT_TRUE(partial == bound || partial >= 0.5 * truth);
    }
  }
  std::printf("%zu points (%zu within 0.01 of a caustic); bound/true >= %.3f beyond 0.05\n", n_points, n_near,
              tightness_far);
  EXPECT_GT(tightness_far, 0.5);  // useful, not just safe
}

}  // namespace
}  // namespace lensflow::lens
