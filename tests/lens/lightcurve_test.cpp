// Tests of lens/trajectory.hpp and lens/lightcurve.hpp: the VBMicrolensing point-source light
// curves (every 4th epoch of reference/lightcurves.csv), warm start = cold start, and the
// time-reversal and reflection symmetries of docs/conventions.md §Trajectory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "lens/lensflow_lens.hpp"
#include "lens/lightcurve.hpp"
#include "tests/lens/reference_csv.hpp"

using namespace lensflow::lens;
using lensflow::test::data_path;
using lensflow::test::read_csv;

namespace {
EventParams event_of(const lensflow::test::CsvTable& p, std::size_t k) {
  return {p["s"][k], p["q"][k], p["alpha_deg"][k], p["u0"][k], p["t0"][k], p["tE"][k], p["rho"][k]};
}
}  // namespace

TEST(Trajectory, FollowsSpecFormula) {
  const Trajectory tr = make_trajectory(30.0, 0.2, 10.0, 5.0);
  const cplx z = source_position(tr, 12.0);  // τ = 0.4
  const double a = 30.0 * M_PI / 180.0;
  EXPECT_NEAR(z.re, 0.4 * std::cos(a) - 0.2 * std::sin(a), 1e-15);
  EXPECT_NEAR(z.im, 0.4 * std::sin(a) + 0.2 * std::cos(a), 1e-15);
  EXPECT_DOUBLE_EQ(time_reversed_alpha(30.0), 150.0);
  EXPECT_DOUBLE_EQ(time_reversed_alpha(200.0), 340.0);
  EXPECT_DOUBLE_EQ(time_reversed_alpha(180.0), 0.0);
}

TEST(LightCurve, MatchesVBMicrolensingPointSourceCurves) {
  const auto p = read_csv(data_path("lightcurve_params.csv"));
  const auto lc = read_csv(data_path("lightcurves_sub.csv"));
  std::vector<double> err;
  std::size_t row = 0;
  for (std::size_t k = 0; k < p.rows; ++k) {
    std::vector<double> t, ref;
    while (row < lc.rows && lc["curve_id"][row] == double(k)) {
      t.push_back(lc["t"][row]);
      ref.push_back(lc["A_point"][row]);
      ++row;
    }
    ASSERT_GT(t.size(), 1000u) << "curve " << k;
    std::vector<double> A(t.size());
    point_lightcurve(event_of(p, k), t.data(), long(t.size()), A.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      ASSERT_TRUE(std::isfinite(A[i]) && A[i] >= 1.0);
      const double e = std::fabs(A[i] - ref[i]) / ref[i];
      err.push_back(e);
      worst = std::max(worst, e);
    }
    std::printf("  curve %2zu: max relative error %.2e (peak A %.1f)\n", k, worst,
                *std::max_element(ref.begin(), ref.end()));
  }
  std::sort(err.begin(), err.end());
  const double frac = double(std::upper_bound(err.begin(), err.end(), 1e-8) - err.begin()) / err.size();
  std::printf("  all %zu epochs: within 1e-8: %.4f%%, max %.2e\n", err.size(), 100.0 * frac, err.back());
  EXPECT_GE(frac, 0.999);
  EXPECT_LE(err.back(), 1e-5);
}

TEST(LightCurve, WarmStartEqualsColdStart) {
  const auto p = read_csv(data_path("lightcurve_params.csv"));
  for (std::size_t k = 0; k < p.rows; ++k) {
    const EventParams ev = event_of(p, k);
    std::vector<double> t(3000), A(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = ev.t0 + ev.tE * (-3.0 + 6.0 * i / (t.size() - 1));
    point_lightcurve(ev, t.data(), long(t.size()), A.data());
    const BinaryLens L = make_binary_lens(ev.s, ev.q);
    const Trajectory tr = make_trajectory(ev);
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double cold = binary_point_mag(L, source_position(tr, t[i]));
      ASSERT_NEAR(A[i], cold, 1e-9 * cold) << "curve " << k << " epoch " << i;
    }
  }
}

// Reversing time maps (α, u0) to (-(α+180) mod 360, u0); reflecting y2 -> -y2 maps (α, u0) to (-α, -u0).
TEST(LightCurve, TimeReversalAndReflectionSymmetries) {
  const auto p = read_csv(data_path("lightcurve_params.csv"));
  for (std::size_t k = 0; k < p.rows; ++k) {
    const EventParams ev = event_of(p, k);
    const std::size_t n = 2001;
    std::vector<double> t(n), t_rev(n);
    for (std::size_t i = 0; i < n; ++i) {
      t[i] = ev.t0 + ev.tE * (-2.0 + 4.0 * i / (n - 1));
      t_rev[i] = 2.0 * ev.t0 - t[i];
    }
    std::vector<double> A(n), A_rev(n), A_ref(n);
    point_lightcurve(ev, t.data(), long(n), A.data());
    EventParams rev = ev;
    rev.alpha_deg = time_reversed_alpha(ev.alpha_deg);
    point_lightcurve(rev, t_rev.data(), long(n), A_rev.data());
    EventParams refl = ev;
    refl.alpha_deg = -ev.alpha_deg;
    refl.u0 = -ev.u0;
    point_lightcurve(refl, t.data(), long(n), A_ref.data());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_NEAR(A_rev[i], A[i], 1e-8 * A[i]) << "curve " << k << " epoch " << i;
      ASSERT_NEAR(A_ref[i], A[i], 1e-8 * A[i]) << "curve " << k << " epoch " << i;
    }
  }
}

// Finite-source curves through the batched API (lens/lensflow_lens.hpp) against VBMicrolensing's
// A_finite (uniform source, Tol = RelTol = 1e-5): docs/forward-model.md §Accuracy, 1e-3 relative on
// >= 99.9% of epochs and 1e-2 on all.
TEST(LightCurve, FiniteSourceCurvesMatchVBMicrolensing) {
  const auto p = read_csv(data_path("lightcurve_params.csv"));
  const auto lc = read_csv(data_path("lightcurves_sub.csv"));
  std::vector<EventParams> ev;
  for (std::size_t k = 0; k < p.rows; ++k) ev.push_back(event_of(p, k));
  // Every curve of the subsample has the same epochs.
  std::vector<double> t;
  for (std::size_t row = 0; row < lc.rows && lc["curve_id"][row] == 0.0; ++row) t.push_back(lc["t"][row]);
  ASSERT_EQ(lc.rows, t.size() * ev.size());
  FiniteSourceOptions opt{};
  opt.tol_abs = 1e-5;
  opt.tol_rel = 1e-4;
  std::vector<double> A(lc.rows), A_err(lc.rows);
  lightcurves_host(ev.data(), ev.size(), t.data(), t.size(), true, opt, A.data(), A_err.data(), 0);
  std::vector<double> err(lc.rows);
  for (std::size_t i = 0; i < lc.rows; ++i) {
    ASSERT_EQ(lc["t"][i], t[i % t.size()]);
    ASSERT_TRUE(std::isfinite(A[i]) && A[i] >= 1.0) << i;
    err[i] = std::fabs(A[i] - lc["A_finite"][i]) / lc["A_finite"][i];
  }
  for (std::size_t k = 0; k < ev.size(); ++k)
    std::printf("  curve %2zu: max relative error %.2e (finite source)\n", k,
                *std::max_element(err.begin() + k * t.size(), err.begin() + (k + 1) * t.size()));
  std::sort(err.begin(), err.end());
  const double frac = double(std::upper_bound(err.begin(), err.end(), 1e-3) - err.begin()) / err.size();
  std::printf("  all %zu epochs: within 1e-3: %.4f%%, max %.2e\n", err.size(), 100.0 * frac, err.back());
  EXPECT_GE(frac, 0.999);
  EXPECT_LE(err.back(), 1e-2);
}
