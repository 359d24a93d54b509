// Tests of lens/single_lens.hpp: analytic values (u = 0, ρ → 0, large-u expansion) and a brute-force
// 2D integration over the source disk for uniform and limb-darkened sources.
#include <gtest/gtest.h>

#include <cmath>

#include "lens/single_lens.hpp"

using namespace lensflow::lens;

namespace {

// Brute force: polar coordinates (r, θ) centred on the lens, midpoint rule in θ and in r over the
// chord [r1, r2] inside the disk, brightness I(d/ρ) with d the distance to the source centre.
double brute_force(double u, double rho, double gamma, int n_theta = 4000, int n_r = 2000) {
  const double pi = 3.141592653589793;
  double num = 0.0, den = 0.0;
  for (int it = 0; it < n_theta; ++it) {
    const double th = pi * (it + 0.5) / n_theta;  // symmetric about the lens–source axis: [0, π]
    const double c = std::cos(th), s = std::sin(th);
    const double disc = rho * rho - u * u * s * s;
    if (disc <= 0.0) continue;
    const double r1 = std::max(0.0, u * c - std::sqrt(disc)), r2 = u * c + std::sqrt(disc);
    if (r2 <= r1) continue;
    for (int ir = 0; ir < n_r; ++ir) {
      const double r = r1 + (r2 - r1) * (ir + 0.5) / n_r;
      const double dx = r * c - u, dy = r * s;
      const double x2 = std::min(1.0, (dx * dx + dy * dy) / (rho * rho));
      const double I = 1.0 - gamma * (1.0 - std::sqrt(1.0 - x2));
      const double w = r * (r2 - r1) / n_r;
      num += I * single_point_mag(r) * w;
      den += I * w;
    }
  }
  return num / den;
}

}  // namespace

TEST(SingleLens, PaczynskiValues) {
  EXPECT_NEAR(single_point_mag(1.0), 3.0 / std::sqrt(5.0), 1e-15);
  EXPECT_NEAR(single_point_mag(0.1), (0.01 + 2.0) / (0.1 * std::sqrt(4.01)), 1e-13);
  EXPECT_TRUE(std::isinf(single_point_mag(0.0)));
}

TEST(SingleLens, UniformSourceOnTheLensIsAnalytic) {
  for (double rho : {1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0})
    EXPECT_NEAR(single_finite_mag_uniform(0.0, rho), std::sqrt(1.0 + 4.0 / (rho * rho)),
                1e-10 * std::sqrt(1.0 + 4.0 / (rho * rho)))
        << "rho " << rho;
}

TEST(SingleLens, SmallSourceTendsToPointSource) {
  for (double u : {0.01, 0.1, 0.5, 1.0, 3.0}) {
    const double rho = 1e-7;
    EXPECT_NEAR(single_finite_mag_uniform(u, rho) / single_point_mag(u), 1.0, 1e-9) << "u " << u;
    EXPECT_NEAR(single_finite_mag_ld(u, rho, 0.6) / single_point_mag(u), 1.0, 1e-9) << "u " << u;
  }
}

// Far from the lens the disk average is A + (ρ²/8) ∇²A + O(ρ⁴), ∇²A = A'' + A'/u.
TEST(SingleLens, LargeSeparationMatchesLaplacianExpansion) {
  for (double u : {3.0, 5.0, 10.0}) {
    const double rho = 0.02, h = 1e-3;  // O(ρ⁴) remainder ~ 4e-11 at u = 3
    const double A0 = single_point_mag(u), Ap = single_point_mag(u + h), Am = single_point_mag(u - h);
    const double lap = (Ap - 2.0 * A0 + Am) / (h * h) + (Ap - Am) / (2.0 * h * u);
    const double expected = A0 + rho * rho / 8.0 * lap;
    EXPECT_NEAR(single_finite_mag_uniform(u, rho), expected, 2e-10 * A0) << "u " << u;
  }
}

TEST(SingleLens, UniformMatchesBruteForce) {
  for (double rho : {1e-3, 0.05, 0.5})
    for (double x : {0.0, 0.3, 0.99, 1.0, 1.01, 2.0, 10.0}) {
      const double u = x * rho;
      const double A = single_finite_mag_uniform(u, rho);
      EXPECT_NEAR(A, brute_force(u, rho, 0.0), 2e-5 * A) << "u/rho " << x << " rho " << rho;
    }
}

TEST(SingleLens, LimbDarkenedMatchesBruteForce) {
  for (double gamma : {0.0, 0.5, 1.0})
    for (double x : {0.0, 0.5, 0.999, 1.2, 4.0}) {
      const double rho = 0.01, u = x * rho;
      const double A = single_finite_mag_ld(u, rho, gamma);
      EXPECT_NEAR(A, brute_force(u, rho, gamma), 5e-5 * A) << "u/rho " << x << " gamma " << gamma;
    }
  // Limb darkening concentrates light at the centre: on the lens it raises A, far away it barely matters.
  EXPECT_GT(single_finite_mag_ld(0.0, 0.01, 0.5), single_finite_mag_uniform(0.0, 0.01));
}
