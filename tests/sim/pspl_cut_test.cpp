// 1L1S cut: the PSPL fit recovers injected parameters, pure PSPL sequences are rejected in both
// modes, a caustic-crossing q = 0.1 event is kept and a q = 1e-6 event far from its caustics is
// rejected; input checks; device parity (skipped without a GPU).
#include "sim/pspl_cut.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lens/lensflow_lens.hpp"
#include "lens/lightcurve.hpp"
#include "tests/gpu_required.hpp"
#if LENSFLOW_HAVE_CUDA
#include <cuda_runtime.h>
#endif

using namespace lensflow::lens;
using namespace lensflow::sim;

namespace {

std::vector<double> grid(double dt, double T) {
  std::vector<double> t(static_cast<std::size_t>(std::llround(T / dt)));
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = double(i) * dt;
  return t;
}

std::vector<double> paczynski(const std::vector<double>& t, double t0, double u0, double tE) {
  std::vector<double> A(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double tau = (t[i] - t0) / tE;
    const double u = std::sqrt(tau * tau + u0 * u0);
    A[i] = (u * u + 2.0) / (u * std::sqrt(u * u + 4.0));
  }
  return A;
}

std::vector<double> binary(const EventParams& ev, const std::vector<double>& t) {
  std::vector<double> A(t.size());
  point_lightcurve(ev, t.data(), long(t.size()), A.data());
  return A;
}

}  // namespace

TEST(PsplFit, RecoversInjectedParametersFromAPerturbedStart) {
  const auto t = grid(0.05, 144.0);
  for (auto [t0, u0, tE] : {std::tuple{70.3, 0.2, 15.0}, std::tuple{80.0, 0.02, 4.0}, std::tuple{60.0, 1.2, 40.0}}) {
    const auto A = paczynski(t, t0, u0, tE);
    const PsplFit f = fit_pspl(A.data(), t.data(), long(t.size()), t0 + 1.5, u0 * 1.4, tE * 0.7, 200.0, 40);
    EXPECT_NEAR(f.t0, t0, 1e-5 * tE);
    EXPECT_NEAR(f.u0, u0, 1e-5 * u0);
    EXPECT_NEAR(f.tE, tE, 1e-5 * tE);
    EXPECT_LT(f.chi2, 1e-6);
  }
}

TEST(PsplCut, PureSingleLensIsRejectedInBothModes) {
  const auto t = grid(0.02, 144.0);
  const auto A = paczynski(t, 72.0, 0.1, 20.0);
  const EventParams ev{1.0, 1e-6, 0.0, 0.1, 72.0, 20.0, 0.0};
  CutOptions paper, fit;
  fit.mode = CutMode::fit;
  EXPECT_LT(cut_chi2_dof(paper, ev, A.data(), t.data(), long(t.size())), 1e-12);
  EXPECT_LT(cut_chi2_dof(fit, ev, A.data(), t.data(), long(t.size())), 1e-6);
}

TEST(PsplCut, KeepsCausticCrossingAndRejectsFarPlanet) {
  const auto t = grid(0.02, 144.0);
  const EventParams clear{1.0, 0.1, 60.0, 0.05, 72.0, 20.0, 0.0};      // crosses the resonant caustic
  const EventParams planet{1.5, 1e-6, 90.0, 0.8, 72.0, 20.0, 0.0};     // far from the planetary caustic
  for (CutMode mode : {CutMode::paper, CutMode::fit}) {
    CutOptions opt;
    opt.mode = mode;
    const auto A1 = binary(clear, t);
    const auto A2 = binary(planet, t);
    EXPECT_GT(cut_chi2_dof(opt, clear, A1.data(), t.data(), long(t.size())), 10.0) << cut_mode_name(mode);
    EXPECT_LT(cut_chi2_dof(opt, planet, A2.data(), t.data(), long(t.size())), 0.1) << cut_mode_name(mode);
  }
}

TEST(PsplCut, FitNeverWorseThanOwnParametersOverTheWholeSequence) {
  const auto t = grid(0.05, 144.0);
  for (int k = 0; k < 6; ++k) {
    const EventParams ev{0.5 + 0.3 * k, std::pow(10.0, -1.0 - 0.7 * k), 30.0 * k + 10.0, 0.1 + 0.05 * k, 72.0,
                         10.0 + 3 * k, 0.0};
    const auto A = binary(ev, t);
    long m = 0;
    const double own = pspl_chi2(A.data(), t.data(), long(t.size()), ev.t0, ev.u0, ev.tE, 200.0, -1e9, 1e9, &m);
    ASSERT_EQ(m, long(t.size()));
    const PsplFit f = fit_pspl(A.data(), t.data(), long(t.size()), ev.t0, ev.u0, ev.tE, 200.0, 40);
    EXPECT_LE(f.chi2, own * (1 + 1e-12)) << k;
  }
}

TEST(PsplCut, HostBatchMatchesPerEventAndCountsTheWindow) {
  const auto t = grid(0.01, 144.0);
  std::vector<EventParams> ev{{1.0, 0.1, 60.0, 0.05, 72.0, 20.0, 0.0}, {1.5, 1e-6, 90.0, 0.8, 72.0, 20.0, 0.0}};
  std::vector<double> A;
  for (const auto& e : ev) {
    const auto a = binary(e, t);
    A.insert(A.end(), a.begin(), a.end());
  }
  CutOptions opt;
  std::vector<double> out(ev.size());
  pspl_cut_host(ev.data(), ev.size(), t.data(), t.size(), A.data(), opt, out.data(), 2);
  for (std::size_t k = 0; k < ev.size(); ++k) {
    long m = 0;
    const double c = pspl_chi2(A.data() + k * t.size(), t.data(), long(t.size()), ev[k].t0, ev[k].u0, ev[k].tE, 200.0,
                               36.0, 108.0, &m);
    EXPECT_EQ(m, 7200);  // the central 72 days: dof = 7197
    EXPECT_DOUBLE_EQ(out[k], c / 7197.0);
  }
}

TEST(PsplCut, BadInputThrows) {
  const auto t = grid(0.1, 144.0);
  std::vector<double> A(t.size(), 1.0);
  const EventParams ev{1.0, 0.1, 0.0, 0.1, 72.0, 20.0, 0.0};
  double out = 0;
  CutOptions opt;
  A[5] = std::nan("");
  EXPECT_THROW(pspl_cut_host(&ev, 1, t.data(), t.size(), A.data(), opt, &out), std::invalid_argument);
  A[5] = 1.0;
  EventParams bad = ev;
  bad.tE = -1;
  EXPECT_THROW(pspl_cut_host(&bad, 1, t.data(), t.size(), A.data(), opt, &out), std::invalid_argument);
  opt.window_lo = 200;
  opt.window_hi = 300;
  EXPECT_THROW(pspl_cut_host(&ev, 1, t.data(), t.size(), A.data(), opt, &out), std::invalid_argument);
  EXPECT_THROW(parse_cut_mode("best"), std::invalid_argument);
  EXPECT_EQ(parse_cut_mode("fit"), CutMode::fit);
}

TEST(PsplCut, DeviceMatchesHost) {
  LENSFLOW_SKIP_WITHOUT_GPU(LENSFLOW_HAVE_CUDA && cuda_device_available()) << "no CUDA build or no GPU: device parity not run";
#if LENSFLOW_HAVE_CUDA
  const auto t = grid(0.01, 144.0);
  std::vector<EventParams> ev;
  std::vector<double> A;
  for (int k = 0; k < 8; ++k) {
    ev.push_back({0.5 + 0.2 * k, std::pow(10.0, -0.5 * k), 45.0 * k, 0.05 + 0.1 * k, 72.0, 8.0 + 4 * k, 0.0});
    const auto a = binary(ev.back(), t);
    A.insert(A.end(), a.begin(), a.end());
  }
  for (CutMode mode : {CutMode::paper, CutMode::fit}) {
    CutOptions opt;
    opt.mode = mode;
    std::vector<double> host(ev.size()), dev(ev.size());
    pspl_cut_host(ev.data(), ev.size(), t.data(), t.size(), A.data(), opt, host.data());
    EventParams* d_ev;
    double *d_t, *d_A, *d_out;
    cudaMalloc(&d_ev, ev.size() * sizeof(EventParams));
    cudaMalloc(&d_t, t.size() * sizeof(double));
    cudaMalloc(&d_A, A.size() * sizeof(double));
    cudaMalloc(&d_out, ev.size() * sizeof(double));
    cudaMemcpy(d_ev, ev.data(), ev.size() * sizeof(EventParams), cudaMemcpyHostToDevice);
    cudaMemcpy(d_t, t.data(), t.size() * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpy(d_A, A.data(), A.size() * sizeof(double), cudaMemcpyHostToDevice);
    pspl_cut_device(d_ev, ev.size(), d_t, t.size(), d_A, opt, d_out);
    cudaMemcpy(dev.data(), d_out, ev.size() * sizeof(double), cudaMemcpyDeviceToHost);
    cudaFree(d_ev);
    cudaFree(d_t);
    cudaFree(d_A);
    cudaFree(d_out);
    // Same arithmetic, different summation order: 1e-9 relative.
    for (std::size_t k = 0; k < ev.size(); ++k) EXPECT_NEAR(dev[k], host[k], 1e-9 * host[k] + 1e-12) << k;
  }
#endif
}
