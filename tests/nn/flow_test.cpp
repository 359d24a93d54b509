// Conditional MAF with MoG base: normalisation (grid integral), forward/inverse agreement,
// samples vs density (KS and moments), per-observation separation of batched sampling,
// determinism, the base's density vs a direct formula, and finite-difference gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "autodiff/ops.hpp"
#include "nn/flow.hpp"
#include "tests/nn/module_gradcheck.hpp"

namespace lensflow::nn {
namespace {

using testing::check_gradients;
using testing::f64_leaf;
using testing::params_and;

FlowConfig small_flow(int64_t dim, int64_t context, double final_scale) {
  FlowConfig c;
  c.dim = dim;
  c.context = context;
  c.n_blocks = 3;
  c.hidden = 16;
  c.components = 3;
  c.final_scale = final_scale;
  c.order_seed = 5;
  return c;
}

ad::Tensor h_row(std::vector<double> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return ad::Tensor::from_vector(v, {1, n});
}

// Log-density of theta values (rows) under one conditioning vector h[1, C].
std::vector<double> logq(const ConditionalFlow& f, const std::vector<double>& theta, int64_t dim,
                         const ad::Tensor& h) {
  ad::NoGradGuard ng;
  const int64_t n = static_cast<int64_t>(theta.size()) / dim;
  std::vector<int64_t> idx(n, 0);
  ad::Tensor th = ad::Tensor::from_vector(theta, {n, dim}).to(h.dtype());
  return f.log_prob(th, ad::index_select(h, 0, idx)).to_f64();
}

TEST(Flow, DensityIntegratesToOneIn2D) {
  ad::Generator gen(21);
  ConditionalFlow flow(small_flow(2, 3, 0.5), gen);
  flow.to(ad::DType::F64);
  const ad::Tensor h = h_row({0.4, -1.0, 0.8});
  // Box from the samples' spread.
  ad::Generator sgen(3);
  const auto s = flow.sample(h, 4000, sgen).to_f64();
  double lo[2] = {1e9, 1e9}, hi[2] = {-1e9, -1e9};
  for (size_t i = 0; i < s.size(); ++i) {
    lo[i % 2] = std::min(lo[i % 2], s[i]);
    hi[i % 2] = std::max(hi[i % 2], s[i]);
  }
  const int n = 500;
  double box_lo[2], step[2];
  for (int d = 0; d < 2; ++d) {
    const double w = hi[d] - lo[d];
    box_lo[d] = lo[d] - w;
    step[d] = 3 * w / n;
  }
  std::vector<double> grid;
  grid.reserve(2 * n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      grid.push_back(box_lo[0] + (i + 0.5) * step[0]);
      grid.push_back(box_lo[1] + (j + 0.5) * step[1]);
    }
  const auto lp = logq(flow, grid, 2, h);
  double integral = 0;
  for (double v : lp) integral += std::exp(v);
  integral *= step[0] * step[1];
  EXPECT_NEAR(integral, 1.0, 2e-3);
}

TEST(Flow, InverseAndForwardAgree) {
  ad::Generator gen(22);
  FlowConfig c = small_flow(4, 3, 1.0);  // large outputs: the clamp is active somewhere
  ConditionalFlow flow(c, gen);
  ad::Generator g2(9);
  ad::Tensor h = ad::randn({64, 3}, g2);
  ad::Tensor z = ad::randn({64, 4}, g2);
  ad::NoGradGuard ng;
  ad::Tensor theta = flow.from_base(z, h);
  ad::Tensor logdet;
  ad::Tensor z2 = flow.to_base(theta, h, &logdet);
  const auto a = z.to_f32(), b = z2.to_f32();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
  // Jacobian determinant bound: every a is clamped to [-1, 1].
  for (float v : logdet.to_f32()) EXPECT_LE(std::fabs(v), c.n_blocks * c.dim * 1.0 + 1e-4);
}

TEST(Flow, OneDimensionalSamplesMatchDensityKS) {
  ad::Generator gen(23);
  ConditionalFlow flow(small_flow(1, 2, 0.8), gen);
  flow.to(ad::DType::F64);
  const ad::Tensor h = h_row({1.0, -0.5});
  ad::Generator sgen(4);
  const int n = 100000;
  auto s = flow.sample(h, n, sgen).to_f64();
  std::sort(s.begin(), s.end());
  // CDF by trapezoidal integration of the density on a fine grid around the samples.
  const double w = s.back() - s.front();
  const double a = s.front() - w, b = s.back() + w;
  const int m = 40001;
  std::vector<double> x(m);
  for (int i = 0; i < m; ++i) x[i] = a + (b - a) * i / (m - 1);
  const auto lp = logq(flow, x, 1, h);
  std::vector<double> cdf(m, 0.0);
  for (int i = 1; i < m; ++i) cdf[i] = cdf[i - 1] + 0.5 * (std::exp(lp[i]) + std::exp(lp[i - 1])) * (x[1] - x[0]);
  EXPECT_NEAR(cdf.back(), 1.0, 1e-3);
  double ks = 0;
  for (int i = 0; i < n; ++i) {
    const double pos = (s[i] - a) / (b - a) * (m - 1);
    const int k = std::clamp(static_cast<int>(pos), 0, m - 2);
    const double F = cdf[k] + (cdf[k + 1] - cdf[k]) * (pos - k);
    ks = std::max({ks, std::fabs(F - double(i) / n), std::fabs(F - double(i + 1) / n)});
  }
  EXPECT_LT(ks, 1.95 / std::sqrt(double(n)));  // 0.1% level of the KS distribution
}

TEST(Flow, TwoDimensionalSampleMomentsMatchDensity) {
  ad::Generator gen(24);
  ConditionalFlow flow(small_flow(2, 2, 0.5), gen);
  flow.to(ad::DType::F64);
  const ad::Tensor h = h_row({-0.3, 0.9});
  ad::Generator sgen(5);
  const int n = 20000;
  const auto s = flow.sample(h, n, sgen).to_f64();
  double mean[2] = {0, 0}, sq[2] = {0, 0};
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < 2; ++d) {
      mean[d] += s[2 * i + d] / n;
      sq[d] += s[2 * i + d] * s[2 * i + d] / n;
    }
  double lo[2], step[2];
  const int g = 400;
  for (int d = 0; d < 2; ++d) {
    const double sd = std::sqrt(sq[d] - mean[d] * mean[d]);
    lo[d] = mean[d] - 8 * sd;
    step[d] = 16 * sd / g;
  }
  std::vector<double> grid;
  for (int i = 0; i < g; ++i)
    for (int j = 0; j < g; ++j) {
      grid.push_back(lo[0] + (i + 0.5) * step[0]);
      grid.push_back(lo[1] + (j + 0.5) * step[1]);
    }
  const auto lp = logq(flow, grid, 2, h);
  double Z = 0, m1[2] = {0, 0}, m2[2] = {0, 0};
  for (size_t k = 0; k < lp.size(); ++k) {
    const double p = std::exp(lp[k]);
    Z += p;
    for (int d = 0; d < 2; ++d) {
      m1[d] += p * grid[2 * k + d];
      m2[d] += p * grid[2 * k + d] * grid[2 * k + d];
    }
  }
  for (int d = 0; d < 2; ++d) {
    const double mu = m1[d] / Z, var = m2[d] / Z - mu * mu;
    const double sd = std::sqrt(var);
    EXPECT_NEAR(mean[d], mu, 4 * sd / std::sqrt(double(n))) << "dim " << d;
    EXPECT_NEAR(sq[d] - mean[d] * mean[d], var, 0.05 * var) << "dim " << d;
  }
}

TEST(Flow, BatchedSamplingKeepsObservationsApart) {
  ad::Generator gen(25);
  ConditionalFlow flow(small_flow(3, 2, 1.0), gen);
  const int64_t n = 50, D = 3;
  ad::Tensor h0 = ad::Tensor::from_vector(std::vector<float>{5.f, -5.f}, {1, 2});
  ad::Tensor h1 = ad::Tensor::from_vector(std::vector<float>{-4.f, 3.f}, {1, 2});
  ad::Generator gb(77);
  const auto both = flow.sample(ad::concat({h0, h1}, 0), n, gb).to_f32();
  EXPECT_EQ(gb.offset(), uint64_t(2 * 2 * n * D));
  ad::Generator g0(77), g1(77);
  g1.set_offset(2 * n * D);
  const auto s0 = flow.sample(h0, n, g0).to_f32();
  const auto s1 = flow.sample(h1, n, g1).to_f32();
  ASSERT_EQ(both.size(), s0.size() + s1.size());
  for (size_t i = 0; i < s0.size(); ++i) ASSERT_EQ(both[i], s0[i]) << i;
  for (size_t i = 0; i < s1.size(); ++i) ASSERT_EQ(both[s0.size() + i], s1[i]) << i;
  // The two observations give clearly different sample sets.
  double m0 = 0, m1 = 0;
  for (size_t i = 0; i < s0.size(); ++i) {
    m0 += s0[i];
    m1 += s1[i];
  }
  EXPECT_GT(std::fabs(m0 - m1) / double(s0.size()), 0.05);
  // Chunking over observations does not change the result.
  ad::Generator gc(77);
  EXPECT_EQ(flow.sample(ad::concat({h0, h1}, 0), n, gc, /*max_rows=*/n).to_f32(), both);
}

TEST(Flow, DeterministicForAFixedSeed) {
  ad::Generator ga(26), gb(26);
  ConditionalFlow a(small_flow(3, 2, 0.5), ga), b(small_flow(3, 2, 0.5), gb);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second.to_f32(), pb[i].second.to_f32());
  EXPECT_EQ(a.orderings(), b.orderings());
  ad::Tensor h = ad::Tensor::from_vector(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, {2, 2});
  ad::Generator s1(8), s2(8);
  EXPECT_EQ(a.sample(h, 10, s1).to_f32(), b.sample(h, 10, s2).to_f32());
  // Orderings differ between blocks (random per block).
  const auto o = a.orderings();
  bool differ = false;
  for (size_t i = 1; i < o.size(); ++i) differ |= o[i] != o[0];
  EXPECT_TRUE(differ);
}

TEST(Flow, LogProbGradientsFiniteDifference) {
  ad::Generator gen(27);
  FlowConfig c = small_flow(3, 2, 0.5);
  c.n_blocks = 2;
  c.hidden = 8;
  ConditionalFlow flow(c, gen);
  flow.to(ad::DType::F64);
  testing::jitter_zero_params(flow, gen);
  ad::Tensor th = f64_leaf({4, 3}, gen), h = f64_leaf({4, 2}, gen);
  check_gradients("flow log_prob", [&] { return flow.log_prob(th, h); },
                  params_and(flow, {{"theta", th}, {"h", h}}), 8);
}

TEST(Flow, SaturatedLogScalesPassNoGradient) {
  // Large output weights push many raw log-scales past ±1: the clamped values must be exactly ±1
  // and the gradients (checked by finite differences) must treat them as constants.
  ad::Generator gen(32);
  AffineBlock block({3, 2, 8, 2, 2}, {2, 3, 1}, 1.0, gen, /*final_scale=*/8.0);
  block.to(ad::DType::F64);
  testing::jitter_zero_params(block, gen);
  ad::Tensor x = f64_leaf({6, 3}, gen), h = f64_leaf({6, 2}, gen);
  // The block's MADE rebuilt from the same generator stream gives the raw (unclamped) log-scales.
  ad::Generator gen2(32);
  MADE twin({3, 2, 8, 2, 2}, {2, 3, 1}, gen2, 8.0);
  twin.to(ad::DType::F64);
  testing::jitter_zero_params(twin, gen2);
  ad::Tensor logdet = ad::Tensor::zeros({6}, ad::DType::F64);
  std::vector<double> raw;
  {
    ad::NoGradGuard ng;
    block.forward(x, h, &logdet);
    raw = twin.forward(x, h).to_f64();  // [6, 3, 2]
  }
  const auto ld = logdet.to_f64();
  int saturated = 0;
  for (int b = 0; b < 6; ++b) {
    double want = 0;
    for (int d = 0; d < 3; ++d) {
      const double a = raw[(b * 3 + d) * 2 + 1];
      saturated += std::fabs(a) > 1.0;
      want -= std::clamp(a, -1.0, 1.0);
    }
    EXPECT_NEAR(ld[b], want, 1e-12) << "row " << b;
  }
  EXPECT_GT(saturated, 3) << "too few clamped log-scales; raise final_scale";
  EXPECT_LT(saturated, 18) << "every log-scale clamped; lower final_scale";
  check_gradients("affine block z", [&] { return block.forward(x, h, nullptr); },
                  params_and(block, {{"x", x}, {"h", h}}), 10);
  check_gradients("affine block logdet", [&] {
    ad::Tensor ld = ad::Tensor::zeros({6}, ad::DType::F64);
    block.forward(x, h, &ld);
    return ld;
  }, params_and(block, {{"x", x}, {"h", h}}), 10);
}

TEST(Flow, LogProbSamplesMatchesRowwise) {
  ad::Generator gen(28);
  ConditionalFlow flow(small_flow(2, 2, 0.5), gen);
  ad::Tensor h = ad::Tensor::from_vector(std::vector<float>{0.5f, -0.5f, 2.f, 1.f}, {2, 2});
  ad::Generator sg(1);
  ad::Tensor s = flow.sample(h, 5, sg);  // [2, 5, 2]
  ad::NoGradGuard ng;
  const auto lq = flow.log_prob_samples(s, h).to_f32();
  ASSERT_EQ(lq.size(), 10u);
  for (int j = 0; j < 2; ++j) {
    ad::Tensor rows = ad::slice(s, 0, j, j + 1).reshape({5, 2});
    const auto direct = flow.log_prob(rows, ad::index_select(h, 0, {j, j, j, j, j})).to_f32();
    for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(lq[j * 5 + i], direct[i]);
  }
}

TEST(MoGBaseTest, LogProbMatchesDirectMixtureFormula) {
  ad::Generator gen(29);
  MoGBase base({2, 2, 8, 2, 0}, 3, {2, 1}, gen, 1.0);
  base.to(ad::DType::F64);
  ad::Tensor z = f64_leaf({3, 2}, gen), h = f64_leaf({3, 2}, gen);
  ad::Tensor logits, mu, ls;
  base.mixture(z, h, logits, mu, ls);
  const auto L = logits.to_f64(), M = mu.to_f64(), S = ls.to_f64(), Z = z.to_f64();
  const auto lp = base.log_prob(z, h).to_f64();
  for (int b = 0; b < 3; ++b) {
    double total = 0;
    for (int d = 0; d < 2; ++d) {
      double norm = 0, p = 0;
      for (int k = 0; k < 3; ++k) norm += std::exp(L[(b * 2 + d) * 3 + k]);
      for (int k = 0; k < 3; ++k) {
        const int i = (b * 2 + d) * 3 + k;
        const double sig = std::exp(S[i]), u = (Z[b * 2 + d] - M[i]) / sig;
        p += std::exp(L[i]) / norm * std::exp(-0.5 * u * u) / (sig * std::sqrt(2 * M_PI));
      }
      total += std::log(p);
    }
    EXPECT_NEAR(lp[b], total, 1e-10);
  }
}

TEST(MoGBaseTest, SamplesFollowTheMixtureKS) {
  ad::Generator gen(30);
  MoGBase base({1, 1, 8, 2, 0}, 3, {1}, gen, 2.0);
  base.to(ad::DType::F64);
  const int n = 20000;
  ad::Generator sg(6);
  ad::Tensor h = ad::Tensor::full({n, 1}, 0.7, ad::DType::F64);
  ad::Tensor eps = ad::randn({n, 1}, sg, ad::Device::CPU, ad::DType::F64);
  ad::Tensor u = ad::rand({n, 1}, sg, ad::Device::CPU, ad::DType::F64);
  auto s = base.sample(h, eps, u).to_f64();
  ad::Tensor logits, mu, ls;
  base.mixture(ad::Tensor::zeros({1, 1}, ad::DType::F64), ad::slice(h, 0, 0, 1), logits, mu, ls);
  const auto L = logits.to_f64(), M = mu.to_f64(), S = ls.to_f64();
  double norm = 0;
  for (double l : L) norm += std::exp(l);
  auto cdf = [&](double x) {
    double F = 0;
    for (int k = 0; k < 3; ++k)
      F += std::exp(L[k]) / norm * 0.5 * std::erfc(-(x - M[k]) / (std::exp(S[k]) * std::sqrt(2.0)));
    return F;
  };
  std::sort(s.begin(), s.end());
  double ks = 0;
  for (int i = 0; i < n; ++i)
    ks = std::max({ks, std::fabs(cdf(s[i]) - double(i) / n), std::fabs(cdf(s[i]) - double(i + 1) / n)});
  EXPECT_LT(ks, 1.95 / std::sqrt(double(n)));  // 0.1% level
}

TEST(Flow, ConfigAndShapeErrors) {
  FlowConfig c;
  c.clamp = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  ad::Generator gen(31);
  ConditionalFlow flow(small_flow(2, 3, 0.1), gen);
  EXPECT_THROW(flow.log_prob(ad::Tensor::zeros({4, 3}), ad::Tensor::zeros({4, 3})), std::invalid_argument);
  EXPECT_THROW(flow.log_prob(ad::Tensor::zeros({4, 2}), ad::Tensor::zeros({5, 3})), std::invalid_argument);
  EXPECT_THROW(flow.sample(ad::Tensor::zeros({2, 2}), 3, gen), std::invalid_argument);
  EXPECT_THROW(flow.sample(ad::Tensor::zeros({2, 3}), 0, gen), std::invalid_argument);
}

}  // namespace
}  // namespace lensflow::nn
