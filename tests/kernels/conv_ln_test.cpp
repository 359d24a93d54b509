// kernels/conv_ln: the fused convolution + layer norm + residual + ReLU (forward and backward)
// against naive double-precision loops written from the definitions, over the vector widths
// (8k channels), the plain-loop widths, K = 1, 3, 5, the narrow direct path (K * Cin <= 4), tile
// and halo boundaries (L longer than a tile), the Winograd layers (K = 3, >= 32 channels), every
// optional part on and off, float and double; and results independent of the thread count
// (bitwise).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/conv_ln.hpp"

namespace lensflow::kernels {
namespace {

struct Case {
  int64_t B, L, Cin, Cout, K;
  bool bias, ln, res, relu;
  std::string name() const {
    return "B" + std::to_string(B) + " L" + std::to_string(L) + " Cin" + std::to_string(Cin) +
           " Cout" + std::to_string(Cout) + " K" + std::to_string(K) + (bias ? " bias" : "") +
           (ln ? " ln" : "") + (res ? " res" : "") + (relu ? " relu" : "");
  }
};

struct Data {
  std::vector<double> x, w, b, gamma, beta, res, gy;
};

Data random_data(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto fill = [&](int64_t n, double scale = 1.0, double shift = 0.0) {
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& e : v) e = shift + scale * u(rng);
    return v;
  };
  Data d;
  d.x = fill(c.B * c.L * c.Cin);
  d.w = fill(c.K * c.Cin * c.Cout);
  d.b = fill(c.Cout, 0.5);
  d.gamma = fill(c.Cout, 0.5, 1.0);
  d.beta = fill(c.Cout, 0.5);
  d.res = fill(c.B * c.L * c.Cout);
  d.gy = fill(c.B * c.L * c.Cout);
  return d;
}

struct Grads {
  std::vector<double> y, gx, gw, gb, ggamma, gbeta, gres;
};

// The definitions in double. `mask` (y > 0 from the kernel under test) decides the ReLU branch so
// that a pre-activation within rounding of 0 cannot flip it between the two computations.
Grads reference(const Case& c, const Data& d, const std::vector<double>& mask) {
  const int64_t rows = c.B * c.L, C = c.Cout, pad = (c.K - 1) / 2;
  std::vector<double> z(static_cast<size_t>(rows * C)), xhat(z.size()), rstd(static_cast<size_t>(rows));
  Grads g;
  g.y.assign(z.size(), 0.0);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t l = 0; l < c.L; ++l)
      for (int64_t o = 0; o < C; ++o) {
        double s = c.bias ? d.b[size_t(o)] : 0.0;
        for (int64_t k = 0; k < c.K; ++k) {
          const int64_t src = l + k - pad;
          if (src < 0 || src >= c.L) continue;
          for (int64_t i = 0; i < c.Cin; ++i)
            s += d.x[size_t((b * c.L + src) * c.Cin + i)] * d.w[size_t((k * c.Cin + i) * C + o)];
        }
        z[size_t((b * c.L + l) * C + o)] = s;
      }
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t o = 0; o < C; ++o) m += z[size_t(r * C + o)] / double(C);
    for (int64_t o = 0; o < C; ++o) v += std::pow(z[size_t(r * C + o)] - m, 2) / double(C);
    rstd[size_t(r)] = 1.0 / std::sqrt(v + 1e-5);
    for (int64_t o = 0; o < C; ++o) {
      const size_t e = size_t(r * C + o);
      xhat[e] = (z[e] - m) * rstd[size_t(r)];
      double p = c.ln ? xhat[e] * d.gamma[size_t(o)] + d.beta[size_t(o)] : z[e];
      if (c.res) p += d.res[e];
      g.y[e] = c.relu ? std::max(p, 0.0) : p;
    }
  }
  // Backward of sum(y * gy).
  std::vector<double> gpre(z.size()), gz(z.size());
  for (size_t e = 0; e < z.size(); ++e) gpre[e] = c.relu && !(mask[e] > 0) ? 0.0 : d.gy[e];
  g.gres = gpre;
  g.ggamma.assign(size_t(C), 0.0);
  g.gbeta.assign(size_t(C), 0.0);
  g.gb.assign(size_t(C), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    if (!c.ln) {
      for (int64_t o = 0; o < C; ++o) gz[size_t(r * C + o)] = gpre[size_t(r * C + o)];
      continue;
    }
    double mg = 0, mgx = 0;  // means of dL/dxhat and dL/dxhat * xhat over the row
    for (int64_t o = 0; o < C; ++o) {
      const size_t e = size_t(r * C + o);
      const double gx = gpre[e] * d.gamma[size_t(o)];
      mg += gx / double(C);
      mgx += gx * xhat[e] / double(C);
      g.ggamma[size_t(o)] += gpre[e] * xhat[e];
      g.gbeta[size_t(o)] += gpre[e];
    }
    for (int64_t o = 0; o < C; ++o) {
      const size_t e = size_t(r * C + o);
      gz[e] = rstd[size_t(r)] * (gpre[e] * d.gamma[size_t(o)] - mg - xhat[e] * mgx);
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < C; ++o) g.gb[size_t(o)] += gz[size_t(r * C + o)];
  g.gw.assign(d.w.size(), 0.0);
  g.gx.assign(d.x.size(), 0.0);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t l = 0; l < c.L; ++l)
      for (int64_t k = 0; k < c.K; ++k) {
        const int64_t src = l + k - pad;
        if (src < 0 || src >= c.L) continue;
        for (int64_t i = 0; i < c.Cin; ++i)
          for (int64_t o = 0; o < C; ++o) {
            const double go = gz[size_t((b * c.L + l) * C + o)];
            g.gw[size_t((k * c.Cin + i) * C + o)] += d.x[size_t((b * c.L + src) * c.Cin + i)] * go;
            g.gx[size_t((b * c.L + src) * c.Cin + i)] += d.w[size_t((k * c.Cin + i) * C + o)] * go;
          }
      }
  return g;
}

template <class T> std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Runs the kernel in precision T; returns every output in double.
template <class T> Grads run(const Case& c, const Data& d) {
  const ConvLnDims dims{c.B, c.L, c.Cin, c.Cout, c.K};
  const int64_t n = c.B * c.L * c.Cout, rows = c.B * c.L;
  const auto x = cast<T>(d.x), w = cast<T>(d.w), b = cast<T>(d.b), ga = cast<T>(d.gamma),
             be = cast<T>(d.beta), res = cast<T>(d.res), gy = cast<T>(d.gy);
  std::vector<T> z(static_cast<size_t>(n)), mean(static_cast<size_t>(rows)), rstd(mean.size()), y(z.size());
  conv_ln_forward_cpu<T>(dims, x.data(), w.data(), c.bias ? b.data() : nullptr,
                         c.ln ? ga.data() : nullptr, c.ln ? be.data() : nullptr,
                         c.res ? res.data() : nullptr, c.relu, 1e-5, z.data(), mean.data(),
                         rstd.data(), y.data());
  std::vector<T> gx(x.size()), gw(w.size()), gb(b.size()), gg(b.size()),
      gbeta(b.size()), gres(z.size());
  conv_ln_backward_cpu<T>(dims, x.data(), w.data(), c.ln ? ga.data() : nullptr, z.data(),
                          mean.data(), rstd.data(), y.data(), gy.data(), c.relu, gx.data(),
                          gw.data(), gb.data(), gg.data(), gbeta.data(), gres.data());
  auto d64 = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  return {d64(y), d64(gx), d64(gw), d64(gb), d64(gg), d64(gbeta), d64(gres)};
}

// |got - want| <= tol * (1 + |want|) elementwise.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << what << " element " << i;
}

template <class T> void check_case(const Case& c, double tol) {
  const Data d = random_data(c, 17);
  const Grads got = run<T>(c, d);
  const Grads want = reference(c, d, got.y);
  const std::string n = c.name() + (sizeof(T) == 4 ? " f32" : " f64");
  expect_close(got.y, want.y, tol, n + " y");
  expect_close(got.gx, want.gx, tol, n + " gx");
  expect_close(got.gw, want.gw, tol, n + " gw");
  expect_close(got.gb, want.gb, tol, n + " gb");
  expect_close(got.gres, want.gres, tol, n + " gres");
  if (c.ln) {
    expect_close(got.ggamma, want.ggamma, tol, n + " ggamma");
    expect_close(got.gbeta, want.gbeta, tol, n + " gbeta");
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  // Vector widths (8, 16, 32 channels) and plain-loop widths (5, 12); K = 1, 3, 5; Cin = 1
  // (the narrow direct path) and wider; L = 700 spans two tiles of a light curve (halo rows).
  for (int64_t Cout : {8, 16, 32, 5, 12})
    for (int64_t K : {1, 3, 5})
      for (int64_t Cin : {1, 3, 8}) out.push_back({2, 37, Cin, Cout, K, true, true, true, true});
  out.push_back({2, 700, 8, 8, 3, true, true, true, true});
  // Winograd F(4,3) (K = 3, >= 32 channels in and out): L of every residue mod 4 (a last quad
  // of 1, 2, 3 or 4 rows), one and several tiles, Cin != Cout both ways.
  out.push_back({2, 37, 64, 64, 3, true, true, true, true});
  out.push_back({2, 38, 32, 48, 3, true, true, true, true});
  out.push_back({2, 39, 48, 32, 3, true, false, true, true});
  out.push_back({1, 3, 32, 32, 3, true, true, true, true});
  out.push_back({1, 5, 32, 32, 3, false, true, false, true});
  out.push_back({1, 1101, 64, 72, 3, true, true, false, true});
  out.push_back({2, 600, 80, 64, 3, false, false, true, false});
  out.push_back({1, 2, 64, 64, 3, true, true, false, false});
  out.push_back({1, 1, 64, 64, 3, true, false, false, true});
  // 32 channels: Winograd over several tiles; per-tap GEMMs (5 taps; 16 -> 32, whose input
  // gradient runs the direct loops).
  out.push_back({2, 601, 32, 32, 3, true, true, true, true});
  out.push_back({2, 601, 32, 32, 5, true, true, false, true});
  out.push_back({2, 601, 16, 32, 3, true, true, false, true});
  out.push_back({3, 3, 2, 8, 5, false, true, false, false});  // L shorter than the kernel
  for (int mask = 0; mask < 16; ++mask)
    out.push_back({2, 29, 3, 16, 3, bool(mask & 1), bool(mask & 2), bool(mask & 4), bool(mask & 8)});
  return out;
}

TEST(ConvLn, MatchesDirectLoopsInFloat) {
  for (const Case& c : cases()) ASSERT_NO_FATAL_FAILURE(check_case<float>(c, 2e-4));
}

TEST(ConvLn, MatchesDirectLoopsInDouble) {
  for (const Case& c : cases()) ASSERT_NO_FATAL_FAILURE(check_case<double>(c, 1e-10));
}

TEST(ConvLn, BitwiseIndependentOfThreadCount) {
  // Several tiles and chunks: per-tap GEMMs, and Winograd.
  for (const Case& c : {Case{5, 1100, 8, 16, 3, true, true, true, true},
                        Case{3, 1300, 32, 32, 3, true, true, true, true},
                        Case{2, 700, 64, 64, 3, true, true, true, true}}) {
    const Data d = random_data(c, 23);
    core::set_num_threads(1);
    const Grads one = run<float>(c, d);
    core::set_num_threads(2);
    const Grads two = run<float>(c, d);
    core::set_num_threads(0);
    EXPECT_EQ(one.y, two.y) << c.name();
    EXPECT_EQ(one.gx, two.gx) << c.name();
    EXPECT_EQ(one.gw, two.gw) << c.name();
    EXPECT_EQ(one.gb, two.gb) << c.name();
    EXPECT_EQ(one.ggamma, two.ggamma) << c.name();
    EXPECT_EQ(one.gbeta, two.gbeta) << c.name();
    EXPECT_EQ(one.gres, two.gres) << c.name();
  }
}

TEST(ConvLn, EmptyBatchWritesZeroParameterGradients) {
  const ConvLnDims d{0, 10, 3, 8, 3};
  std::vector<float> w(3 * 3 * 8, 1.0f), g(8, 1.0f), gw(w.size(), 7.0f), gb(8, 7.0f), gg(8, 7.0f),
      gbeta(8, 7.0f);
  conv_ln_forward_cpu<float>(d, nullptr, w.data(), nullptr, g.data(), g.data(), nullptr, true, 1e-5,
                             nullptr, nullptr, nullptr, nullptr);
  conv_ln_backward_cpu<float>(d, nullptr, w.data(), g.data(), nullptr, nullptr, nullptr, nullptr,
                              nullptr, true, nullptr, gw.data(), gb.data(), gg.data(),
                              gbeta.data(), nullptr);
  for (float v : gw) EXPECT_EQ(v, 0.0f);
  for (float v : gb) EXPECT_EQ(v, 0.0f);
  for (float v : gg) EXPECT_EQ(v, 0.0f);
  for (float v : gbeta) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace lensflow::kernels
