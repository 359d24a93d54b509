// Finite-difference gradient checks (float64, CPU) for the linear-algebra and network layers,
// plus forward values against direct formulas.
#include <cmath>

#include "tests/autodiff/gradcheck.hpp"

namespace lensflow::ad {
namespace {

using testing::gradcheck;
using testing::rand_leaf;

TEST(GradcheckLinalg, Matmul) {
  Generator gen(10);
  gradcheck("matmul 2d", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
            {rand_leaf({3, 4}, gen), rand_leaf({4, 5}, gen)});
  gradcheck("matmul 3dx2d", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
            {rand_leaf({2, 3, 4}, gen), rand_leaf({4, 5}, gen)});
  gradcheck("matmul batched", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
            {rand_leaf({2, 3, 4}, gen), rand_leaf({2, 4, 5}, gen)});
}

TEST(GradcheckLinalg, MatmulValues) {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{1, 0, 0, 1, 1, 1}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_f64(), (std::vector<double>{4, 5, 10, 11}));
}

TEST(GradcheckLinalg, LinearAndMaskedLinear) {
  Generator gen(11);
  gradcheck("linear", [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
            {rand_leaf({2, 3, 4}, gen), rand_leaf({5, 4}, gen), rand_leaf({5}, gen)});
  gradcheck("linear no bias",
            [](const std::vector<Tensor>& v) { return linear(v[0], v[1], Tensor()); },
            {rand_leaf({3, 4}, gen), rand_leaf({5, 4}, gen)});
  gradcheck("linear 1d input",
            [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
            {rand_leaf({4}, gen), rand_leaf({5, 4}, gen), rand_leaf({5}, gen)});
  // MADE-style mask: strictly lower triangular.
  std::vector<double> m(5 * 4);
  for (int o = 0; o < 5; ++o)
    for (int i = 0; i < 4; ++i) m[size_t(o * 4 + i)] = i < o ? 1.0 : 0.0;
  const Tensor mask = Tensor::from_vector(m, {5, 4});
  Tensor W = rand_leaf({5, 4}, gen);
  gradcheck("masked_linear",
            [mask](const std::vector<Tensor>& v) { return masked_linear(v[0], v[1], mask, v[2]); },
            {rand_leaf({3, 4}, gen), W, rand_leaf({5}, gen)});
  // Masked weights get exactly zero gradient and do not affect the output.
  W.zero_grad();
  backward(sum(masked_linear(rand_leaf({3, 4}, gen), W, mask, Tensor())));
  const auto g = W.grad().to_f64();
  for (size_t k = 0; k < m.size(); ++k)
    if (m[k] == 0.0) EXPECT_EQ(g[k], 0.0);
}

TEST(GradcheckLayers, Conv1d) {
  Generator gen(12);
  for (int64_t K : {1, 3, 5}) {
    gradcheck("conv1d K=" + std::to_string(K),
              [](const std::vector<Tensor>& v) { return conv1d(v[0], v[1], v[2]); },
              {rand_leaf({2, 7, 3}, gen), rand_leaf({K, 3, 4}, gen), rand_leaf({4}, gen)});
  }
  gradcheck("conv1d no bias",
            [](const std::vector<Tensor>& v) { return conv1d(v[0], v[1], Tensor()); },
            {rand_leaf({2, 6, 1}, gen), rand_leaf({3, 1, 2}, gen)});
}

TEST(GradcheckLayers, Conv1dMatchesDirectSum) {
  Generator gen(13);
  const int64_t B = 2, L = 6, Ci = 3, Co = 2, K = 3;
  const Tensor x = rand_leaf({B, L, Ci}, gen), w = rand_leaf({K, Ci, Co}, gen),
               b = rand_leaf({Co}, gen);
  const auto y = conv1d(x, w, b).to_f64();
  const auto xv = x.to_f64(), wv = w.to_f64(), bv = b.to_f64();
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t o = 0; o < Co; ++o) {
        double s = bv[size_t(o)];
        for (int64_t k = 0; k < K; ++k) {
          const int64_t src = l + k - 1;
          if (src < 0 || src >= L) continue;
          for (int64_t c = 0; c < Ci; ++c)
            s += xv[size_t((bb * L + src) * Ci + c)] * wv[size_t((k * Ci + c) * Co + o)];
        }
        EXPECT_NEAR(y[size_t((bb * L + l) * Co + o)], s, 1e-12);
      }
}

TEST(GradcheckLayers, LayerNorm) {
  Generator gen(14);
  gradcheck("layer_norm",
            [](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2]); },
            {rand_leaf({2, 3, 6}, gen, -2, 2), rand_leaf({6}, gen), rand_leaf({6}, gen)});
  // Normalised rows have mean 0 and variance 1/(1 + eps/var) with gamma = 1, beta = 0.
  const Tensor x = rand_leaf({4, 8}, gen, -3, 3);
  const auto y = layer_norm(x, Tensor::full({8}, 1.0, DType::F64), Tensor::zeros({8}, DType::F64),
                            1e-12)
                     .to_f64();
  for (int r = 0; r < 4; ++r) {
    double m = 0, v = 0;
    for (int c = 0; c < 8; ++c) m += y[size_t(r * 8 + c)] / 8;
    for (int c = 0; c < 8; ++c) v += (y[size_t(r * 8 + c)] - m) * (y[size_t(r * 8 + c)] - m) / 8;
    EXPECT_NEAR(m, 0, 1e-12);
    EXPECT_NEAR(v, 1, 1e-9);
  }
}

TEST(GradcheckLayers, Conv1dLn) {
  Generator gen(16);
  for (bool relu : {false, true})
    for (int64_t K : {1, 3}) {
      gradcheck("conv1d_ln K=" + std::to_string(K) + (relu ? " relu" : ""),
                [relu](const std::vector<Tensor>& v) {
                  return conv1d_ln(v[0], v[1], v[2], v[3], v[4], v[5], relu);
                },
                {rand_leaf({2, 7, 3}, gen), rand_leaf({K, 3, 5}, gen), rand_leaf({5}, gen),
                 rand_leaf({5}, gen, 0.5, 1.5), rand_leaf({5}, gen), rand_leaf({2, 7, 5}, gen)});
    }
  gradcheck("conv1d_ln without norm, bias",
            [](const std::vector<Tensor>& v) {
              return conv1d_ln(v[0], v[1], Tensor(), Tensor(), Tensor(), v[2], true);
            },
            {rand_leaf({2, 6, 2}, gen), rand_leaf({3, 2, 4}, gen), rand_leaf({2, 6, 4}, gen)});
  gradcheck("conv1d_ln without residual",
            [](const std::vector<Tensor>& v) {
              return conv1d_ln(v[0], v[1], v[2], v[3], v[4], Tensor(), true);
            },
            {rand_leaf({1, 9, 1}, gen), rand_leaf({3, 1, 8}, gen), rand_leaf({8}, gen),
             rand_leaf({8}, gen, 0.5, 1.5), rand_leaf({8}, gen)});
}

// The fused op against the unfused ops it replaces, in float: values and every gradient, for a
// vector width (16 channels), a plain-loop width (12) and a light curve longer than one tile.
TEST(GradcheckLayers, Conv1dLnMatchesComposedOps) {
  Generator gen(17);
  auto f32_leaf = [&](const Shape& s, double lo = -1, double hi = 1) {
    Tensor t = (rand(s, gen) * (hi - lo) + lo).detach();
    t.set_requires_grad(true);
    return t;
  };
  for (const auto& [L, C] : std::vector<std::pair<int64_t, int64_t>>{{300, 16}, {50, 12}, {1500, 8}}) {
    std::vector<Tensor> in = {f32_leaf({3, L, 4}), f32_leaf({3, 4, C}), f32_leaf({C}),
                              f32_leaf({C}, 0.5, 1.5), f32_leaf({C}), f32_leaf({3, L, C})};
    const Tensor R = rand({3, L, C}, gen) + 0.5;
    auto grads = [&](const Tensor& y) {
      for (Tensor& t : in) t.zero_grad();
      backward(sum(y * R));
      std::vector<std::vector<float>> g;
      for (Tensor& t : in) g.push_back(t.grad().to_f32());
      return g;
    };
    const Tensor fused = conv1d_ln(in[0], in[1], in[2], in[3], in[4], in[5], true);
    const auto yf = fused.to_f32();
    const auto gf = grads(fused);
    const Tensor composed = relu(layer_norm(conv1d(in[0], in[1], in[2]), in[3], in[4]) + in[5]);
    const auto yc = composed.to_f32();
    const auto gc = grads(composed);
    for (size_t i = 0; i < yf.size(); ++i)
      ASSERT_NEAR(yf[i], yc[i], 1e-5 * (1 + std::fabs(yc[i]))) << "C=" << C << " y " << i;
    for (size_t k = 0; k < in.size(); ++k)
      for (size_t i = 0; i < gf[k].size(); ++i)
        ASSERT_NEAR(gf[k][i], gc[k][i], 1e-4 * (1 + std::fabs(gc[k][i])))
            << "C=" << C << " grad of input " << k << " element " << i;
  }
}

TEST(GradcheckLayers, Conv1dLnRejectsBadArguments) {
  Generator gen(18);
  const Tensor x = rand_leaf({2, 5, 3}, gen), w = rand_leaf({3, 3, 4}, gen),
               g = rand_leaf({4}, gen), bad = rand_leaf({5}, gen);
  EXPECT_THROW(conv1d_ln(x, w, Tensor(), g, Tensor(), Tensor(), true), std::invalid_argument);
  EXPECT_THROW(conv1d_ln(x, w, Tensor(), g, bad, Tensor(), true), std::invalid_argument);
  EXPECT_THROW(conv1d_ln(x, w, Tensor(), g, g, rand_leaf({2, 5, 3}, gen), true),
               std::invalid_argument);
  EXPECT_THROW(conv1d_ln(x, w, Tensor(), g, g, Tensor(), true, 0.0), std::invalid_argument);
  EXPECT_THROW(conv1d_ln(x, rand_leaf({2, 3, 4}, gen), Tensor(), g, g, Tensor(), true),
               std::invalid_argument);
}

TEST(GradcheckLayers, Maxpool2) {
  // Distinct values so the max is not tied (the gradient is not differentiable at ties).
  Generator gen(15);
  for (int64_t L : {6, 7}) {
    std::vector<double> v(size_t(2 * L * 3));
    const auto perm = randperm(int64_t(v.size()), gen);
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * double(perm[i]);
    Tensor x = Tensor::from_vector(v, {2, L, 3});
    x.set_requires_grad(true);
    gradcheck("maxpool2 L=" + std::to_string(L),
              [](const std::vector<Tensor>& t) { return maxpool2(t[0]); }, {x});
    EXPECT_EQ(maxpool2(x).shape(), (Shape{2, L / 2, 3}));
  }
  Tensor x = Tensor::from_vector(std::vector<double>{1, 5, 3, 2, 4, 4}, {1, 6, 1});
  x.set_requires_grad(true);
  EXPECT_EQ(maxpool2(x).to_f64(), (std::vector<double>{5, 3, 4}));
  backward(sum(maxpool2(x)));
  EXPECT_EQ(x.grad().to_f64(), (std::vector<double>{0, 1, 1, 0, 1, 0}));  // tie -> first
}

TEST(GradcheckLayers, Gru) {
  Generator gen(16);
  const int64_t B = 2, T = 4, In = 3, H = 5;
  gradcheck("gru with h0",
            [](const std::vector<Tensor>& v) { return gru(v[0], v[1], v[2], v[3], v[4], v[5]); },
            {rand_leaf({B, T, In}, gen), rand_leaf({B, H}, gen), rand_leaf({3 * H, In}, gen),
             rand_leaf({3 * H, H}, gen), rand_leaf({3 * H}, gen), rand_leaf({3 * H}, gen)});
  gradcheck("gru no h0",
            [](const std::vector<Tensor>& v) {
              return gru(v[0], Tensor(), v[1], v[2], v[3], v[4]);
            },
            {rand_leaf({B, T, In}, gen), rand_leaf({3 * H, In}, gen), rand_leaf({3 * H, H}, gen),
             rand_leaf({3 * H}, gen), rand_leaf({3 * H}, gen)});
}

TEST(GradcheckLayers, GruMatchesComposedOps) {
  // The fused layer equals the PyTorch equations written with the elementwise ops.
  Generator gen(17);
  const int64_t B = 3, T = 5, In = 4, H = 6;
  const Tensor x = rand_leaf({B, T, In}, gen), h0 = rand_leaf({B, H}, gen),
               Wi = rand_leaf({3 * H, In}, gen), Wh = rand_leaf({3 * H, H}, gen),
               bi = rand_leaf({3 * H}, gen), bh = rand_leaf({3 * H}, gen);
  const auto fused = gru(x, h0, Wi, Wh, bi, bh).to_f64();
  Tensor h = h0;
  for (int64_t t = 0; t < T; ++t) {
    const Tensor xt = squeeze(slice(x, 1, t, t + 1), 1);
    const Tensor gi = linear(xt, Wi, bi), gh = linear(h, Wh, bh);
    const Tensor r = sigmoid(slice(gi, 1, 0, H) + slice(gh, 1, 0, H));
    const Tensor z = sigmoid(slice(gi, 1, H, 2 * H) + slice(gh, 1, H, 2 * H));
    const Tensor n = tanh(slice(gi, 1, 2 * H, 3 * H) + r * slice(gh, 1, 2 * H, 3 * H));
    h = (1.0 - z) * n + z * h;
    const auto hv = h.to_f64();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j)
        EXPECT_NEAR(fused[size_t((b * T + t) * H + j)], hv[size_t(b * H + j)], 1e-13);
  }
}

TEST(GradcheckLayers, MogLogpdf) {
  Generator gen(18);
  gradcheck("mog_logpdf",
            [](const std::vector<Tensor>& v) { return mog_logpdf(v[0], v[1], v[2], v[3]); },
            {rand_leaf({2, 3}, gen, -2, 2), rand_leaf({2, 3, 4}, gen, -2, 2),
             rand_leaf({2, 3, 4}, gen, -2, 2), rand_leaf({2, 3, 4}, gen, -1, 0.5)});
}

TEST(GradcheckLayers, MogMatchesComposedFormula) {
  Generator gen(19);
  const Tensor z = rand_leaf({3, 2}, gen, -2, 2), lg = rand_leaf({3, 2, 5}, gen, -2, 2),
               mu = rand_leaf({3, 2, 5}, gen, -2, 2), ls = rand_leaf({3, 2, 5}, gen, -1, 0.5);
  const Tensor u = (unsqueeze(z, 2) - mu) * exp(-ls);
  const Tensor comp = log_softmax(lg, 2) - ls - 0.5 * std::log(2 * M_PI) - 0.5 * square(u);
  const auto want = logsumexp(comp, 2).to_f64();
  const auto got = mog_logpdf(z, lg, mu, ls).to_f64();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-13);
  // One component with weight 1 is a Gaussian.
  const Tensor z1 = Tensor::from_vector(std::vector<double>{0.3}, {1, 1});
  const Tensor zero = Tensor::zeros({1, 1, 1}, DType::F64);
  EXPECT_NEAR(mog_logpdf(z1, zero, zero, zero).item(), -0.5 * std::log(2 * M_PI) - 0.045, 1e-14);
}

}  // namespace
}  // namespace lensflow::ad
