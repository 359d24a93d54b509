// Finite-source light curves against the 20 reference curves of VBMicrolensing
// (tests/data/lightcurves_sub.csv: every 4th epoch of the 14,400; uniform source at
// Tol = RelTol = 1e-5), in the lensflow trajectory convention: point by point through
// binary_finite_mag (cold start, caustic distance estimated), and through lightcurves_host (epochs
// walked in blocks, caustic distance bounded from the caustic outline).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "lens/finite_source.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/trajectory.hpp"
#include "tests/lens/reference_csv.hpp"

namespace lensflow::lens {
namespace {

TEST(FiniteLightCurve, MatchesReferenceCurves) {
  const auto par = test::read_csv(test::data_path("lightcurve_params.csv"));
  const auto lc = test::read_csv(test::data_path("lightcurves_sub.csv"));
  std::map<int, std::size_t> row_of;
  for (std::size_t k = 0; k < par.rows; ++k) row_of[static_cast<int>(par["curve_id"][k])] = k;
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = 1e-4;
  std::map<int, double> worst;
  std::vector<double> errs;
  std::size_t covered = 0, budget = 0;
  for (std::size_t i = 0; i < lc.rows; ++i) {
    const int id = static_cast<int>(lc["curve_id"][i]);
    const std::size_t k = row_of.at(id);
    const BinaryLens L = make_binary_lens(par["s"][k], par["q"][k]);
    const Trajectory tr = make_trajectory(par["alpha_deg"][k], par["u0"][k], par["t0"][k], par["tE"][k]);
    const double ref = lc["A_finite"][i];
    const FiniteMagResult r = binary_finite_mag(L, source_position(tr, lc["t"][i]), par["rho"][k], opt, ws.get());
    ASSERT_TRUE(std::isfinite(r.A) && r.A >= 1.0) << "curve " << id << " t " << lc["t"][i];
    budget += r.status != kFiniteOk;
    const double rel = std::fabs(r.A - ref) / ref;
    errs.push_back(rel);
    worst[id] = std::max(worst[id], rel);
    covered += std::fabs(r.A - ref) <= r.err + 1e-5 * ref;  // reference good to ~1e-5
    EXPECT_LT(rel, 1e-2) << "curve " << id << " t " << lc["t"][i];
  }
  for (const auto& [id, e] : worst) std::printf("curve %2d: max relative error %.2e\n", id, e);
  std::sort(errs.begin(), errs.end());
  const double p999 = errs[static_cast<std::size_t>(0.999 * (errs.size() - 1))];
  std::printf("%zu epochs: max %.2e, 99.9%% %.2e; error estimate covers %.2f%%; budget hits %zu\n", errs.size(),
              errs.back(), p999, 100.0 * covered / errs.size(), budget);
  EXPECT_LE(p999, 1e-3);
}

TEST(FiniteLightCurve, BatchedCurvesMatchReferenceCurves) {
  const auto par = test::read_csv(test::data_path("lightcurve_params.csv"));
  const auto lc = test::read_csv(test::data_path("lightcurves_sub.csv"));
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = 1e-4;
  std::vector<double> errs;
  std::size_t covered = 0;
  for (std::size_t k = 0; k < par.rows; ++k) {
    const int id = static_cast<int>(par["curve_id"][k]);
    std::vector<double> t, ref;
    for (std::size_t i = 0; i < lc.rows; ++i)
      if (static_cast<int>(lc["curve_id"][i]) == id) {
        t.push_back(lc["t"][i]);
        ref.push_back(lc["A_finite"][i]);
      }
    const EventParams ev{par["s"][k], par["q"][k], par["alpha_deg"][k], par["u0"][k],
                         par["t0"][k], par["tE"][k], par["rho"][k]};
    std::vector<double> A(t.size()), E(t.size());
    lightcurves_host(&ev, 1, t.data(), t.size(), true, opt, A.data(), E.data(), 2);
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double rel = std::fabs(A[i] - ref[i]) / ref[i];
      errs.push_back(rel);
      covered += std::fabs(A[i] - ref[i]) <= E[i] + 1e-5 * ref[i];
      EXPECT_LT(rel, 1e-2) << "curve " << id << " t " << t[i];
    }
  }
  std::sort(errs.begin(), errs.end());
  const double p999 = errs[static_cast<std::size_t>(0.999 * (errs.size() - 1))];
  std::printf("%zu epochs: max %.2e, 99.9%% %.2e; error estimate covers %.2f%%\n", errs.size(), errs.back(), p999,
              100.0 * covered / errs.size());
  EXPECT_LE(p999, 1e-3);
}

}  // namespace
}  // namespace lensflow::lens
