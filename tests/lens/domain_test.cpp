// The supported domain of the batched lens API (lens/batch_validate.hpp): values outside it are
// refused with std::invalid_argument (C API: LENSFLOW_INVALID_ARGUMENT) naming the field, index
// and range, instead of the wrong numbers they gave (s = 1e20: A = 2; q = 1e-300: 13.97 for a
// single-lens 8.986; |y| = 1e60 with a finite source: A = 1.9e50; tE = 1e-300: NaN curves); at
// the edges of the domain the results agree with an independent 80-digit solution of the lens
// equation and with the limits (far source: A = 1; tiny q: the primary's Paczyński curve).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "lens/batch_validate.hpp"
#include "lens/lensflow_lens.h"
#include "lens/lensflow_lens.hpp"

using namespace lensflow::lens;

namespace {

std::string point_error(double s, double q, double y1, double y2) {
  double A = 0.0;
  try {
    point_mag_host(&s, &q, &y1, &y2, 1, &A, 1);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

double point(double s, double q, double y1, double y2) {
  double A = 0.0;
  point_mag_host(&s, &q, &y1, &y2, 1, &A, 1);
  return A;
}

double paczynski(double u) { return (u * u + 2.0) / (u * std::sqrt(u * u + 4.0)); }

}  // namespace

TEST(LensDomain, ValuesOutsideTheDomainAreRefusedByName) {
  EXPECT_EQ(point_error(1e20, 0.1, 0.3, 0.1),
            "point_mag_host: s[0] = 1e+20 is outside the supported range [0.001, 1000]");
  EXPECT_NE(point_error(1.0, 1e-300, 0.3, 0.1).find("q[0] = 1e-300 is outside the supported range [1e-09, 1e+09]"),
            std::string::npos);
  EXPECT_NE(point_error(1.0, 0.1, 1e60, 0.1).find("y1[0] = 1e+60 is outside the supported range"), std::string::npos);
  // Finite source, far away: refused, not A = 1.9e50.
  double s = 1.0, q = 0.1, y1 = 1e60, y2 = 0.1, rho = 0.01, A = 0.0;
  EXPECT_THROW(finite_mag_host(&s, &q, &y1, &y2, &rho, 1, FiniteSourceOptions{}, &A, nullptr, 1),
               std::invalid_argument);
  y1 = 0.3;
  rho = 50.0;
  EXPECT_THROW(finite_mag_host(&s, &q, &y1, &y2, &rho, 1, FiniteSourceOptions{}, &A, nullptr, 1),
               std::invalid_argument);
  // A tE that sends the source 1e302 Einstein radii away over the grid: refused, not NaN rows.
  const EventParams ev{1.1, 0.01, 30.0, 0.1, 5.0, 1e-300, 0.001};
  const std::vector<double> t = {0.0, 144.0};
  std::vector<double> curve(2);
  try {
    lightcurves_host(&ev, 1, t.data(), 2, false, FiniteSourceOptions{}, curve.data(), nullptr, 1);
    FAIL() << "tE = 1e-300 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("event.tE[0] = 1e-300"), std::string::npos) << e.what();
  }
  // The C API returns the same refusal as a status and message.
  const double cs[1] = {1e20}, cq[1] = {0.1}, cy1[1] = {0.3}, cy2[1] = {0.1};
  double cA[1];
  EXPECT_EQ(lensflow_point_mag(cs, cq, cy1, cy2, 1, cA, 1), LENSFLOW_INVALID_ARGUMENT);
  EXPECT_NE(std::string(lensflow_last_error()).find("outside the supported range [0.001, 1000]"), std::string::npos)
      << lensflow_last_error();
}

TEST(LensDomain, TheEdgesAgreeWithAnIndependentSolutionAndTheLimits) {
  // A from an 80-digit mpmath solution of the lens equation (the polynomial of
  // tests/data/make_binary_point_hp.py, solved by mpmath.polyroots), at the corners of the domain.
  struct Ref {
    double s, q, y1, y2, A;
  };
  const Ref refs[] = {
      {0.001, 1e-9, 0.3, 0.1, 3.2796489996607237},
      {0.001, 1e-9, 0.0005, 0.0002, 1856.9535837141951},
      {0.001, 1e9, -0.2, 0.35, 2.6293736732548919},
      {1000, 1e-9, -0.25, 0.15, 3.5383579529728625},
      {1000, 1e-9, 999.99999900001, 0.00001, 1.0000019936336486},
      {1000, 1e9, 0.25, -0.15, 3.5383579529728625},
      {1000, 0.5, -333.08, 0.2, 2.6775152720628492},
      {1, 1e-9, 0.9999, 0.0001, 1.3417123476520291},
  };
  for (const Ref& r : refs) EXPECT_NEAR(point(r.s, r.q, r.y1, r.y2), r.A, 1e-10 * r.A) << r.s << " " << r.q;
  // Far sources: A - 1 ~ 2/|y|^4 is below round-off; the largest offset allowed gives exactly 1.
  EXPECT_NEAR(point(1.0, 0.1, kMaxSourceOffset, -kMaxSourceOffset), 1.0, 1e-15);
  double s = 1.0, q = 0.1, y1 = kMaxSourceOffset, y2 = 0.3, rho = 1e-3, A = 0.0;
  finite_mag_host(&s, &q, &y1, &y2, &rho, 1, FiniteSourceOptions{}, &A, nullptr, 1);
  EXPECT_NEAR(A, 1.0, 1e-15);
  // The smallest q: the primary's single lens (Einstein radius sqrt(m1), at -s q/(1+q)), up to the
  // planet's genuine perturbation of a few q.
  const double qm = kMinMassRatio, u = std::hypot(0.3 + qm / (1 + qm), 0.1) * std::sqrt(1 + qm);
  EXPECT_NEAR(point(1.0, qm, 0.3, 0.1), paczynski(u), 1e-7 * paczynski(u));
}
