// Tests of lens/roots.hpp: polynomials built from known roots (well separated, clustered, double,
// spread over many decades) must give those roots back; warm starts must agree with cold starts.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "lens/roots.hpp"

using lensflow::lens::cplx;
using lensflow::lens::poly_roots;

namespace {

// Coefficients (c[k] multiplies z^k) of lead * prod (z - r_i).
std::vector<cplx> poly_from_roots(const std::vector<cplx>& r, cplx lead = cplx(1.0)) {
  std::vector<cplx> c(1, lead);
  for (const cplx& x : r) {
    std::vector<cplx> n(c.size() + 1, cplx(0.0));
    for (std::size_t k = 0; k < c.size(); ++k) {
      n[k + 1] += c[k];
      n[k] -= x * c[k];
    }
    c = n;
  }
  return c;
}

// Largest distance from each expected root to the nearest of the n_found (default: as many) roots, relative to max(|r|, floor).
double match_error(const std::vector<cplx>& expected, const cplx* found, double floor, std::size_t n_found = 0) {
  if (n_found == 0) n_found = expected.size();
  double worst = 0.0;
  for (const cplx& e : expected) {
    double best = 1e300;
    for (std::size_t k = 0; k < n_found; ++k) best = std::min(best, abs(found[k] - e));
    worst = std::max(worst, best / std::max(abs(e), floor));
  }
  return worst;
}

}  // namespace

TEST(Roots, RecoversWellSeparatedRandomRoots) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  for (int n = 1; n <= 5; ++n) {
    for (int trial = 0; trial < 2000; ++trial) {
      std::vector<cplx> r;
      for (int k = 0; k < n; ++k) r.emplace_back(u(rng), u(rng));
      const auto c = poly_from_roots(r, cplx(u(rng) + 3.0, u(rng)));
      cplx found[5];
      poly_roots(c.data(), n, found, false);
      // Random roots can come close to each other; the tolerance covers mild clustering.
      EXPECT_LT(match_error(r, found, 1e-3), 1e-7) << "degree " << n << " trial " << trial;
    }
  }
}

TEST(Roots, NearlyCoincidentAndDoubleRootsConvergeWithoutFailure) {
  for (double sep : {1e-2, 1e-4, 1e-6, 1e-8, 0.0}) {
    const std::vector<cplx> r = {cplx(0.3, 0.1), cplx(0.3 + sep, 0.1), cplx(-1.0, 0.5), cplx(0.7, -0.9),
                                 cplx(2.0, 0.0)};
    const auto c = poly_from_roots(r);
    cplx found[5];
    poly_roots(c.data(), 5, found, false);
    for (int k = 0; k < 5; ++k) {
      ASSERT_TRUE(std::isfinite(found[k].re) && std::isfinite(found[k].im));
    }
    // A double root is determined to ~sqrt(machine epsilon); isolated roots to round-off.
    EXPECT_LT(match_error({r[2], r[3], r[4]}, found, 1.0, 5), 1e-12) << "sep " << sep;
    double cluster = 1e300;
    for (int k = 0; k < 5; ++k) cluster = std::min(cluster, abs(found[k] - r[0]));
    EXPECT_LT(cluster, 1e-7) << "sep " << sep;
  }
}

TEST(Roots, RootsSpanningManyDecades) {
  // Like the binary-lens polynomial at q ~ 1e-6: roots from 1e-6 to 1e2.
  const std::vector<cplx> r = {cplx(1e-6, 2e-6), cplx(-3e-4, 1e-4), cplx(0.02, -0.01), cplx(1.0, 1.0),
                               cplx(-100.0, 3.0)};
  const auto c = poly_from_roots(r);
  cplx found[5];
  poly_roots(c.data(), 5, found, false);
  EXPECT_LT(match_error(r, found, 0.0), 1e-9);
}

TEST(Roots, WarmStartAgreesWithColdStart) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<cplx> r;
    for (int k = 0; k < 5; ++k) r.emplace_back(u(rng), u(rng));
    const auto c = poly_from_roots(r);
    cplx cold[5], warm[5];
    poly_roots(c.data(), 5, cold, false);
    for (int k = 0; k < 5; ++k) warm[k] = r[k] + cplx(0.01 * u(rng), 0.01 * u(rng));  // perturbed start
    poly_roots(c.data(), 5, warm, true);
    EXPECT_LT(match_error(r, warm, 1e-3), 1e-7);
    std::vector<cplx> cold_v(cold, cold + 5);
    EXPECT_LT(match_error(cold_v, warm, 1e-3), 1e-7);
  }
  // Identical warm estimates are separated instead of producing NaN.
  const auto c = poly_from_roots({cplx(1.0), cplx(-1.0), cplx(0.0, 1.0), cplx(0.0, -1.0), cplx(0.5, 0.5)});
  cplx same[5] = {cplx(0.2), cplx(0.2), cplx(0.2), cplx(0.2), cplx(0.2)};
  poly_roots(c.data(), 5, same, true);
  EXPECT_LT(match_error({cplx(1.0), cplx(-1.0), cplx(0.0, 1.0), cplx(0.0, -1.0), cplx(0.5, 0.5)}, same, 1.0), 1e-12);
}
