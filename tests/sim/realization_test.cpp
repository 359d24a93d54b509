// Realization: a reversed window equals the forward model evaluated with the transformed α and t0;
// the random choices follow their distributions; the noise is N(g, sqrt g); reproducible by
// (seed, epoch, sample_id) and independent of batch composition; preprocessing is scale-free and
// interpolates missing points; bad input throws; device parity (skipped without a GPU).
#include "sim/realization.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
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

// A coarse layout (0.05-d cadence: 2,880-point sequences, 1,440-point windows) keeps tests fast.
RealizationConfig coarse() {
  RealizationConfig c;
  c.n_seq = 2880;
  c.n_win = 1440;
  c.dt = 0.05;
  return c;
}

std::vector<float> sequence(const EventParams& ev, const RealizationConfig& c) {
  std::vector<double> t(c.n_seq), A(c.n_seq);
  for (std::size_t i = 0; i < c.n_seq; ++i) t[i] = double(i) * c.dt;
  point_lightcurve(ev, t.data(), long(t.size()), A.data());
  return std::vector<float>(A.begin(), A.end());
}

const EventParams kEvent{0.9, 0.02, 37.0, 0.12, 72.0, 18.0, 1e-3};

}  // namespace

TEST(Realization, ReversedWindowEqualsForwardModelWithTransformedAlphaAndT0) {
  RealizationConfig c = coarse();
  c.noise = false;
  const auto mag = sequence(kEvent, c);
  std::vector<double> tw(c.n_win), A(c.n_win);
  for (std::size_t j = 0; j < c.n_win; ++j) tw[j] = double(j) * c.dt;
  int n_rev = 0, n_fwd = 0;
  for (std::uint64_t id = 0; id < 40; ++id) {
    std::vector<float> x(c.n_win), flux(c.n_win), th_std(kThetaDim);
    std::vector<double> th(kThetaDim);
    realize_batch_host(c, mag.data(), &kEvent, &id, 1, 5, 0, x.data(), th_std.data(), th.data(), flux.data(), 1);
    const RealizationDraw d = realization_draw(c, 5, 0, id);
    (d.reversed ? n_rev : n_fwd)++;
    // The window as a new event: α and t0 from θ, the rest unchanged.
    const EventParams w{kEvent.s, kEvent.q, th[2], th[3], th[4], kEvent.tE, kEvent.rho};
    point_lightcurve(w, tw.data(), long(tw.size()), A.data());
    const double F = d.snr * d.snr, fs = th[7];
    for (std::size_t j = 0; j < c.n_win; ++j) {
      const double a = (double(flux[j]) / F - 1.0 + fs) / fs;  // invert g = F (fs A + 1 - fs)
      ASSERT_NEAR(a, A[j], 2e-6 * A[j] / fs) << "id " << id << " j " << j << (d.reversed ? " reversed" : "");
    }
  }
  EXPECT_GT(n_rev, 5);
  EXPECT_GT(n_fwd, 5);
}

TEST(Realization, RandomChoicesFollowTheirDistributions) {
  const RealizationConfig c = coarse();
  const int n = 20000;
  std::vector<double> t0, fs, snr;
  int rev = 0;
  for (int i = 0; i < n; ++i) {
    const RealizationDraw d = realization_draw(c, 11, 3, i);
    ASSERT_GE(d.k, 1);
    ASSERT_LE(d.k, long(c.n_seq - c.n_win));
    double th[kThetaDim];
    realization_theta(c, kEvent, d, th);
    ASSERT_GE(th[4], -1e-9);
    ASSERT_LE(th[4], 72.0 - c.dt + 1e-9);
    t0.push_back(th[4]);
    fs.push_back(d.fs);
    snr.push_back(d.snr);
    rev += d.reversed;
  }
  auto ks = [](std::vector<double> v, auto F) {
    std::sort(v.begin(), v.end());
    double D = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      D = std::max({D, std::fabs(F(v[i]) - double(i) / v.size()), std::fabs(double(i + 1) / v.size() - F(v[i]))});
    return D;
  };
  const double crit = 1.95 / std::sqrt(double(n));
  // t0 on the grid {0, dt, …, 72 - dt}: compare with U(0, 72) allowing the grid step.
  EXPECT_LT(ks(t0, [](double x) { return std::clamp(x / 72.0, 0.0, 1.0); }), crit + 0.05 / 72.0);
  EXPECT_LT(ks(fs, [](double x) { return std::log(x / 0.1) / std::log(10.0); }), crit);
  EXPECT_LT(ks(snr, [](double x) { return (x - 23.0) / (230.0 - 23.0); }), crit);
  EXPECT_NEAR(double(rev) / n, 0.5, 4 * 0.5 / std::sqrt(double(n)));
}

TEST(Realization, NoiseIsGaussianWithPhotonVariance) {
  RealizationConfig c = coarse(), c0 = coarse();
  c0.noise = false;
  const auto mag = sequence(kEvent, c);
  double s1 = 0, s2 = 0, s4 = 0;
  long m = 0;
  for (std::uint64_t id = 0; id < 20; ++id) {
    std::vector<float> x(c.n_win), f(c.n_win), g(c.n_win), ts(kThetaDim);
    realize_batch_host(c, mag.data(), &kEvent, &id, 1, 9, 1, x.data(), ts.data(), nullptr, f.data(), 1);
    realize_batch_host(c0, mag.data(), &kEvent, &id, 1, 9, 1, x.data(), ts.data(), nullptr, g.data(), 1);
    for (std::size_t j = 0; j < c.n_win; ++j) {
      const double z = (double(f[j]) - g[j]) / std::sqrt(double(g[j]));
      s1 += z;
      s2 += z * z;
      s4 += z * z * z * z;
      ++m;
    }
  }
  const double mean = s1 / m, var = s2 / m - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(double(m)));
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / m) + 1e-3);  // float rounding of g adds ~1e-4
  EXPECT_NEAR(s4 / m, 3.0, 0.15);                          // Gaussian kurtosis
}

TEST(Realization, ReproducibleAndIndependentOfBatchComposition) {
  const RealizationConfig c = coarse();
  const EventParams e2{2.0, 1e-3, 200.0, 0.5, 72.0, 30.0, 1e-2};
  auto m1 = sequence(kEvent, c), m2 = sequence(e2, c);
  std::vector<float> both(m1);
  both.insert(both.end(), m2.begin(), m2.end());
  const EventParams evs[2] = {kEvent, e2};
  const std::uint64_t ids[2] = {17, 4};
  std::vector<float> xb(2 * c.n_win), tb(2 * kThetaDim), x1(c.n_win), t1(kThetaDim);
  realize_batch_host(c, both.data(), evs, ids, 2, 77, 2, xb.data(), tb.data(), nullptr, nullptr, 2);
  realize_batch_host(c, m2.data(), &e2, &ids[1], 1, 77, 2, x1.data(), t1.data(), nullptr, nullptr, 1);
  EXPECT_TRUE(std::equal(x1.begin(), x1.end(), xb.begin() + c.n_win));
  EXPECT_TRUE(std::equal(t1.begin(), t1.end(), tb.begin() + kThetaDim));
  realize_batch_host(c, m2.data(), &e2, &ids[1], 1, 77, 3, x1.data(), t1.data(), nullptr, nullptr, 1);
  EXPECT_FALSE(std::equal(x1.begin(), x1.end(), xb.begin() + c.n_win));  // another epoch, another draw
}

TEST(Realization, StandardizedThetaUsesPriorMoments) {
  const RealizationConfig c = coarse();
  const auto mag = sequence(kEvent, c);
  const std::uint64_t id = 3;
  std::vector<float> x(c.n_win), ts(kThetaDim);
  std::vector<double> th(kThetaDim);
  realize_batch_host(c, mag.data(), &kEvent, &id, 1, 1, 0, x.data(), ts.data(), th.data(), nullptr, 1);
  const ThetaStandardization st = theta_standardization(c.prior);
  for (int k = 0; k < kThetaDim; ++k) EXPECT_NEAR(ts[k], (th[k] - st.mean[k]) / st.std[k], 1e-6);
  EXPECT_NEAR(th[0], std::log10(0.9), 1e-12);
  EXPECT_NEAR(th[1], std::log10(0.02), 1e-12);
  EXPECT_TRUE(in_support(c.prior, th.data()));
}

TEST(Preprocess, ScaleFreeBaselineNearZeroAndMatchesRealization) {
  const RealizationConfig c = coarse();
  const auto mag = sequence(kEvent, c);
  const std::uint64_t id = 8;
  std::vector<float> x(c.n_win), flux(c.n_win), ts(kThetaDim), y(c.n_win), y2(c.n_win), scaled(c.n_win);
  realize_batch_host(c, mag.data(), &kEvent, &id, 1, 1, 0, x.data(), ts.data(), nullptr, flux.data(), 1);
  preprocess_lightcurve(flux.data(), flux.size(), y.data());
  for (std::size_t j = 0; j < c.n_win; ++j) EXPECT_FLOAT_EQ(y[j], x[j]);  // what inference sees = training
  for (std::size_t j = 0; j < c.n_win; ++j) scaled[j] = flux[j] * 37.5f;
  preprocess_lightcurve(scaled.data(), scaled.size(), y2.data());
  for (std::size_t j = 0; j < c.n_win; ++j) EXPECT_NEAR(y2[j], y[j], 2e-6);
  std::vector<float> sorted(y);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(0.5 * (sorted[c.n_win / 2 - 1] + sorted[c.n_win / 2]), 0.0, 1e-6);
}

TEST(Preprocess, MissingPointsAreInterpolatedAndAllMissingThrows) {
  std::vector<float> x = {NAN, 100, 200, -5, 400, INFINITY, 100, NAN};
  std::vector<float> y(x.size());
  preprocess_lightcurve(x.data(), x.size(), y.data());
  const double med = 150.0;  // median of {100, 200, 400, 100}
  EXPECT_NEAR(y[1], std::log(100 / med), 1e-6);
  EXPECT_NEAR(y[0], y[1], 1e-7);                                      // held before the first valid point
  EXPECT_NEAR(y[3], 0.5 * (std::log(200 / med) + std::log(400 / med)), 1e-6);  // interpolated
  EXPECT_NEAR(y[5], 0.5 * (std::log(400 / med) + std::log(100 / med)), 1e-6);
  EXPECT_NEAR(y[7], y[6], 1e-7);                                      // held after the last
  std::vector<float> bad = {NAN, 0.0f, -1.0f, 5.0f};
  EXPECT_THROW(preprocess_lightcurve(bad.data(), bad.size(), y.data()), std::invalid_argument);
}

TEST(Realization, BadInputThrows) {
  RealizationConfig c = coarse();
  auto mag = sequence(kEvent, c);
  const std::uint64_t id = 0;
  std::vector<float> x(c.n_win), ts(kThetaDim);
  mag[10] = NAN;
  EXPECT_THROW(realize_batch_host(c, mag.data(), &kEvent, &id, 1, 1, 0, x.data(), ts.data()), std::invalid_argument);
  mag = sequence(kEvent, c);
  c.n_win = c.n_seq;
  EXPECT_THROW(realize_batch_host(c, mag.data(), &kEvent, &id, 1, 1, 0, x.data(), ts.data()), std::invalid_argument);
  c = coarse();
  c.snr_min = -1;
  EXPECT_THROW(realize_batch_host(c, mag.data(), &kEvent, &id, 1, 1, 0, x.data(), ts.data()), std::invalid_argument);
}

TEST(Realization, DeviceMatchesHost) {
  LENSFLOW_SKIP_WITHOUT_GPU(LENSFLOW_HAVE_CUDA && cuda_device_available()) << "no CUDA build or no GPU: device parity not run";
#if LENSFLOW_HAVE_CUDA
  const RealizationConfig c;  // full size: 14,400-point sequences, 7,200-point windows
  const EventParams evs[3] = {kEvent, {2.0, 1e-3, 200.0, 0.5, 72.0, 30.0, 1e-2}, {0.3, 0.5, 10.0, 0.01, 72.0, 5.0, 1e-4}};
  std::vector<float> mag;
  for (const auto& e : evs) {
    const auto m = sequence(e, c);
    mag.insert(mag.end(), m.begin(), m.end());
  }
  const std::uint64_t ids[3] = {0, 123456, 99};
  const std::size_t B = 3, W = c.n_win;
  std::vector<float> xh(B * W), th(B * kThetaDim), xd(B * W), td(B * kThetaDim);
  realize_batch_host(c, mag.data(), evs, ids, B, 42, 7, xh.data(), th.data());
  float *d_mag, *d_x, *d_t;
  EventParams* d_ev;
  std::uint64_t* d_id;
  cudaMalloc(&d_mag, mag.size() * sizeof(float));
  cudaMalloc(&d_x, xd.size() * sizeof(float));
  cudaMalloc(&d_t, td.size() * sizeof(float));
  cudaMalloc(&d_ev, sizeof(evs));
  cudaMalloc(&d_id, sizeof(ids));
  cudaMemcpy(d_mag, mag.data(), mag.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(d_ev, evs, sizeof(evs), cudaMemcpyHostToDevice);
  cudaMemcpy(d_id, ids, sizeof(ids), cudaMemcpyHostToDevice);
  realize_batch_device(c, d_mag, d_ev, d_id, B, 42, 7, d_x, d_t);
  cudaMemcpy(xd.data(), d_x, xd.size() * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(td.data(), d_t, td.size() * sizeof(float), cudaMemcpyDeviceToHost);
  // Same code on both; libm ulp differences may flip the last float bit of a flux.
  for (std::size_t i = 0; i < xh.size(); ++i) ASSERT_NEAR(xd[i], xh[i], 1e-5) << i;
  for (std::size_t i = 0; i < th.size(); ++i) EXPECT_NEAR(td[i], th[i], 1e-6) << i;

  // Through a row index (a resident set realized batch by batch): rows {2, 0, 2, 1} give the host
  // realizations of those rows, in that order, a repeated row twice.
  const std::int64_t rows[4] = {2, 0, 2, 1};
  const std::size_t R = 4;
  std::vector<float> mr, xr(R * W), tr(R * kThetaDim), xrd(R * W), trd(R * kThetaDim);
  EventParams er[R];
  std::uint64_t ir[R];
  for (std::size_t r = 0; r < R; ++r) {
    mr.insert(mr.end(), mag.begin() + rows[r] * c.n_seq, mag.begin() + (rows[r] + 1) * c.n_seq);
    er[r] = evs[rows[r]];
    ir[r] = ids[rows[r]];
  }
  realize_batch_host(c, mr.data(), er, ir, R, 42, 7, xr.data(), tr.data());
  float *d_xr, *d_tr;
  std::int64_t* d_rows;
  cudaMalloc(&d_xr, xrd.size() * sizeof(float));
  cudaMalloc(&d_tr, trd.size() * sizeof(float));
  cudaMalloc(&d_rows, sizeof(rows));
  cudaMemcpy(d_rows, rows, sizeof(rows), cudaMemcpyHostToDevice);
  realize_batch_device(c, d_mag, d_ev, d_id, R, 42, 7, d_xr, d_tr, nullptr, nullptr, nullptr, d_rows);
  cudaMemcpy(xrd.data(), d_xr, xrd.size() * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(trd.data(), d_tr, trd.size() * sizeof(float), cudaMemcpyDeviceToHost);
  for (void* p : {static_cast<void*>(d_mag), static_cast<void*>(d_x), static_cast<void*>(d_t),
                  static_cast<void*>(d_ev), static_cast<void*>(d_id), static_cast<void*>(d_xr),
                  static_cast<void*>(d_tr), static_cast<void*>(d_rows)})
    cudaFree(p);
  for (std::size_t i = 0; i < xr.size(); ++i) ASSERT_NEAR(xrd[i], xr[i], 1e-5) << "rows " << i;
  for (std::size_t i = 0; i < tr.size(); ++i) EXPECT_NEAR(trd[i], tr[i], 1e-6) << "rows " << i;
#endif
}
