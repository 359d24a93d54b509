// The Gaussian photon-noise likelihood with profiled/marginalized baseline flux.
// Point-source light curves of a few hundred epochs keep this fast; one test runs the finite-source
// path on a short curve.
#include "sim/likelihood.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "lens/lensflow_lens.hpp"
#include "tests/gpu_required.hpp"

using namespace lensflow::lens;
using namespace lensflow::sim;

namespace {

// A planetary event with a central-caustic approach (paper Table 1 geometry, a shorter tE).
const double kTruth[8] = {-0.2, -2.0, 300.0, 0.05, 26.0, 1.0, -2.301, 0.12};

struct Curve {
  std::vector<double> t, x, g;  // g: noiseless model flux
  LightCurveView view() const { return {t.data(), x.data(), t.size()}; }
};

Curve make_curve(const double* th, double F0, std::size_t n, double t_first, double t_last, bool finite,
                 std::uint64_t noise_seed /* 0 = noiseless */) {
  Curve c;
  c.t.resize(n);
  for (std::size_t i = 0; i < n; ++i) c.t[i] = t_first + (t_last - t_first) * i / (n - 1);
  const EventParams ev = event_from_theta(th);
  std::vector<double> A(n);
  lightcurves_host(&ev, 1, c.t.data(), n, finite, FiniteSourceOptions{}, A.data(), nullptr, 1);
  std::mt19937_64 rng(noise_seed);
  std::normal_distribution<double> n01;
  c.g.resize(n);
  c.x.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    c.g[i] = F0 * (th[7] * A[i] + 1.0 - th[7]);
    c.x[i] = c.g[i] + (noise_seed ? std::sqrt(c.g[i]) * n01(rng) : 0.0);
  }
  return c;
}

LikelihoodOptions point_opts() {
  LikelihoodOptions o;
  o.finite_source = false;
  o.n_threads = 1;
  return o;
}

// Exact Gaussian log-likelihood at a given F_base, written out directly (independent of the sums).
double direct_logl(const Curve& c, const double* th, double F) {
  const EventParams ev = event_from_theta(th);
  std::vector<double> A(c.t.size());
  lightcurves_host(&ev, 1, c.t.data(), c.t.size(), false, FiniteSourceOptions{}, A.data(), nullptr, 1);
  double ll = 0.0;
  for (std::size_t i = 0; i < c.t.size(); ++i) {
    const double g = F * (th[7] * A[i] + 1.0 - th[7]);
    ll += -0.5 * (c.x[i] - g) * (c.x[i] - g) / g - 0.5 * std::log(2.0 * M_PI * g);
  }
  return ll;
}

}  // namespace

TEST(Likelihood, ProfiledBaselineFluxIsTheInjectedOneOnNoiselessData) {
  const double F0 = 200.0 * 200.0;
  const Curve c = make_curve(kTruth, F0, 400, 20.0, 32.0, false, 0);
  double ll, fb, chi2;
  log_likelihood_host(c.view(), kTruth, 1, point_opts(), &ll, {&fb, &chi2});
  // On noiseless data the variance term n·log F shifts the maximizer below F0 by n/(2b) ≈ 1/(2 m̄)
  // counts (< 0.5 count here, 1e-5 relative).
  double b = 0.0;
  for (double g : c.g) b += g / F0;
  EXPECT_NEAR(fb, F0, 400.0 / (2.0 * b) * 1.01);
  EXPECT_LT(fb, F0);
  // Independent: golden-section maximization of the directly written log L over F.
  double lo = 0.9 * F0, hi = 1.1 * F0;
  const double r = 0.5 * (std::sqrt(5.0) - 1.0);
  for (int it = 0; it < 200; ++it) {
    const double m1 = hi - r * (hi - lo), m2 = lo + r * (hi - lo);
    if (direct_logl(c, kTruth, m1) > direct_logl(c, kTruth, m2))
      hi = m2;
    else
      lo = m1;
  }
  EXPECT_NEAR(fb, 0.5 * (lo + hi), 1e-6 * F0);
  EXPECT_NEAR(ll, direct_logl(c, kTruth, fb), 1e-6 * std::fabs(ll));
}

TEST(Likelihood, MaximalAtTheTruthOnNoiselessData) {
  const Curve c = make_curve(kTruth, 100.0 * 100.0, 500, 20.0, 32.0, false, 0);
  double ll0;
  log_likelihood_host(c.view(), kTruth, 1, point_opts(), &ll0);
  const double step[8] = {1e-3, 1e-3, 0.05, 1e-4, 1e-3, 1e-3, 1e-3, 1e-3};
  std::vector<double> th;
  for (int d = 0; d < 8; ++d)
    for (double sgn : {-1.0, 1.0}) {
      if (d == 6) continue;  // ρ does not enter point-source curves
      th.insert(th.end(), kTruth, kTruth + 8);
      th[th.size() - 8 + d] += sgn * step[d];
    }
  std::vector<double> ll(th.size() / 8);
  log_likelihood_host(c.view(), th.data(), ll.size(), point_opts(), ll.data());
  for (std::size_t k = 0; k < ll.size(); ++k) EXPECT_LT(ll[k], ll0) << "perturbation " << k;
}

TEST(Likelihood, ChiSquareAtTheTruthFollowsTheNoiseModel) {
  const std::size_t n = 2000;
  const Curve c = make_curve(kTruth, 150.0 * 150.0, n, 0.0, 72.0, false, 5);
  double ll, chi2;
  log_likelihood_host(c.view(), kTruth, 1, point_opts(), &ll, {nullptr, &chi2});
  // χ² ~ χ²(n − 1) (one profiled parameter): 5σ band.
  EXPECT_NEAR(chi2, n - 1.0, 5.0 * std::sqrt(2.0 * n));
}

TEST(Likelihood, LaplaceMarginalMatchesNumericalIntegralOverBaselineFlux) {
  const Curve c = make_curve(kTruth, 80.0 * 80.0, 300, 20.0, 32.0, false, 9);
  LikelihoodOptions o = point_opts();
  o.fbase = BaselineFluxMode::laplace_marginal;
  double llm, fb;
  log_likelihood_host(c.view(), kTruth, 1, o, &llm, {&fb, nullptr});
  // Simpson over F̂ ± 12 σ_F, log-sum-exp around the peak.
  const double peak = direct_logl(c, kTruth, fb);
  const double sig = std::sqrt(fb / 300.0);  // rough σ_F; the range only needs to cover the peak
  const int N = 2000;
  const double a = fb - 12 * sig, h = 24 * sig / N;
  double sum = 0.0;
  for (int i = 0; i <= N; ++i) {
    const double w = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
    sum += w * std::exp(direct_logl(c, kTruth, a + i * h) - peak);
  }
  const double log_int = peak + std::log(sum * h / 3.0);
  EXPECT_NEAR(llm, log_int, 1e-3);  // Laplace error ~ O(1/n) of the (near-Gaussian) F posterior
}

TEST(Likelihood, BatchingChunkingAndManyCurvesAgree) {
  const Curve c1 = make_curve(kTruth, 1e4, 300, 10.0, 40.0, false, 1);
  double th2[8];
  std::copy(kTruth, kTruth + 8, th2);
  th2[4] = 30.0;
  const Curve c2 = make_curve(th2, 4e4, 300, 10.0, 40.0, false, 2);
  std::vector<double> th;
  for (int k = 0; k < 6; ++k) {
    th.insert(th.end(), kTruth, kTruth + 8);
    th[th.size() - 8 + 4] += 0.5 * k;
  }
  std::vector<double> one(6), batch(6), chunked(6);
  for (int k = 0; k < 6; ++k) log_likelihood_host(c1.view(), &th[8 * k], 1, point_opts(), &one[k]);
  log_likelihood_host(c1.view(), th.data(), 6, point_opts(), batch.data());
  LikelihoodOptions small = point_opts();
  small.max_chunk_points = 700;  // two θ per lightcurves_host call
  small.n_threads = 2;
  log_likelihood_host(c1.view(), th.data(), 6, small, chunked.data());
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(one[k], batch[k]);
    EXPECT_EQ(one[k], chunked[k]);
  }
  // Two curves × 3 θ each.
  const LightCurveView curves[2] = {c1.view(), c2.view()};
  std::vector<double> many(6), fb(6);
  log_likelihood_many_host(curves, 2, th.data(), 3, point_opts(), many.data(), {fb.data(), nullptr});
  std::vector<double> ref(3);
  log_likelihood_host(c2.view(), th.data() + 24, 3, point_opts(), ref.data());
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(many[k], batch[k]);
    EXPECT_EQ(many[3 + k], ref[k]);
  }
}

TEST(Likelihood, MissingPointsAreSkipped) {
  Curve c = make_curve(kTruth, 1e4, 200, 20.0, 32.0, false, 3);
  Curve kept;
  for (std::size_t i = 0; i < c.t.size(); ++i) {
    if (i % 7 == 3) {
      c.x[i] = NAN;
      continue;
    }
    kept.t.push_back(c.t[i]);
    kept.x.push_back(c.x[i]);
  }
  c.t[11] = INFINITY;  // a bad time is missing too
  kept.t.erase(kept.t.begin() + 9);
  kept.x.erase(kept.x.begin() + 9);  // index 11 of c is index 9 of kept (3 and 10 were dropped)
  double a, b;
  log_likelihood_host(c.view(), kTruth, 1, point_opts(), &a);
  log_likelihood_host(kept.view(), kTruth, 1, point_opts(), &b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(usable_points(c.view()).n_missing, c.t.size() - kept.t.size());
}

TEST(Likelihood, BadInputIsRejectedClearly) {
  const Curve c = make_curve(kTruth, 1e4, 50, 20.0, 32.0, false, 4);
  double ll;
  double bad[8];
  std::copy(kTruth, kTruth + 8, bad);
  bad[5] = NAN;
  try {
    log_likelihood_host(c.view(), bad, 1, point_opts(), &ll);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("log10_tE"), std::string::npos) << e.what();
  }
  const std::vector<double> t1 = {1.0}, x1 = {5.0};
  EXPECT_THROW(log_likelihood_host({t1.data(), x1.data(), 1}, kTruth, 1, point_opts(), &ll), std::invalid_argument);
  const std::vector<double> t2 = {1.0, 2.0}, x2 = {0.0, 0.0};
  EXPECT_THROW(log_likelihood_host({t2.data(), x2.data(), 2}, kTruth, 1, point_opts(), &ll), std::invalid_argument);
  // f_s = −1 makes the model flux negative near the peak: zero likelihood, not NaN.
  double neg[8];
  std::copy(kTruth, kTruth + 8, neg);
  neg[7] = -1.0;
  log_likelihood_host(c.view(), neg, 1, point_opts(), &ll);
  EXPECT_EQ(ll, -INFINITY);
}

TEST(Likelihood, FiniteSourcePathOnAShortCurve) {
  // Caustic approach with finite source: the point-source likelihood of finite-source data is worse.
  const Curve c = make_curve(kTruth, 1e4, 120, 25.0, 27.0, true, 6);
  LikelihoodOptions fo = point_opts();
  fo.finite_source = true;
  double ll_f, ll_p, chi2;
  log_likelihood_host(c.view(), kTruth, 1, fo, &ll_f, {nullptr, &chi2});
  log_likelihood_host(c.view(), kTruth, 1, point_opts(), &ll_p);
  EXPECT_NEAR(chi2, 119.0, 5.0 * std::sqrt(2.0 * 120));
  EXPECT_GE(ll_f, ll_p);
}

TEST(Likelihood, DeviceMatchesHost) {
#if !LENSFLOW_HAVE_CUDA
  LENSFLOW_SKIP_WITHOUT_GPU(false) << "built without CUDA: device likelihood not compiled";
#else
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_device_available()) << "no CUDA device present";
  const Curve c = make_curve(kTruth, 1e4, 400, 20.0, 32.0, true, 8);
  std::vector<double> th;
  for (int k = 0; k < 5; ++k) {
    th.insert(th.end(), kTruth, kTruth + 8);
    th[th.size() - 8 + 3] += 0.002 * k;
  }
  for (bool finite : {false, true}) {
    LikelihoodOptions o = point_opts();
    o.finite_source = finite;
    std::vector<double> h(5), d(5), fh(5), fd(5);
    log_likelihood_host(c.view(), th.data(), 5, o, h.data(), {fh.data(), nullptr});
    log_likelihood_device(c.view(), th.data(), 5, o, d.data(), {fd.data(), nullptr});
    for (int k = 0; k < 5; ++k) {
      // Point source: device magnifications equal the host's to ~1e-9 relative
      // (docs/forward-model.md §Accuracy), which moves log L by << 1e-5 here. Finite source: both
      // backends meet the same tolerance (1e-3 relative), which bounds the log L difference well
      // below 1 for this curve.
      EXPECT_NEAR(d[k], h[k], finite ? 1.0 : 1e-5) << k;
      EXPECT_NEAR(fd[k], fh[k], 1e-6 * fh[k]) << k;
    }
  }
  // The device keeps its buffers between calls: another light curve (other length, other
  // fluxes), a larger θ chunk, then the first curve again, each must match the host.
  const Curve c2 = make_curve(kTruth, 3e3, 700, 15.0, 40.0, true, 9);
  std::vector<double> th2;
  for (int k = 0; k < 40; ++k) {
    th2.insert(th2.end(), kTruth, kTruth + 8);
    th2[th2.size() - 8 + 4] += 0.01 * k;
  }
  const LikelihoodOptions o = point_opts();
  for (const Curve* cv : {&c2, &c, &c2}) {
    const std::size_t n = cv == &c ? 5 : 40;
    const double* t = cv == &c ? th.data() : th2.data();
    std::vector<double> h(n), d(n);
    log_likelihood_host(cv->view(), t, n, o, h.data());
    log_likelihood_device(cv->view(), t, n, o, d.data());
    for (std::size_t k = 0; k < n; ++k) EXPECT_NEAR(d[k], h[k], 1e-5) << k;
  }
#endif
}
