// Layers and the featurizer: finite-difference gradients (float64), shapes, masks, config errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "autodiff/ops.hpp"
#include "core/thread_pool.hpp"
#include "nn/featurizer.hpp"
#include "nn/layers.hpp"
#include "tests/nn/module_gradcheck.hpp"

namespace lensflow::nn {
namespace {

using testing::check_gradients;
using testing::f64_leaf;
using testing::params_and;

TEST(Layers, LinearGradientsAndValues) {
  ad::Generator gen(1);
  Linear lin(4, 3, gen);
  lin.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({5, 4}, gen);
  check_gradients("Linear", [&] { return lin.forward(x); }, params_and(lin, {{"x", x}}));
  // Value against a direct sum.
  ad::Tensor y = lin.forward(x);
  auto W = lin.weight.to_f64(), b = lin.bias.to_f64(), xv = x.to_f64(), yv = y.to_f64();
  for (int i = 0; i < 5; ++i)
    for (int o = 0; o < 3; ++o) {
      double s = b[o];
      for (int k = 0; k < 4; ++k) s += W[o * 4 + k] * xv[i * 4 + k];
      EXPECT_NEAR(yv[i * 3 + o], s, 1e-12);
    }
}

TEST(Layers, MaskedLinearMasksWeightsAndGradients) {
  ad::Generator gen(2);
  std::vector<float> mask = {1, 0, 0, 1, 1, 0, 1, 1, 1};  // lower triangular, 3x3
  MaskedLinear ml(mask, 3, 3, gen);
  ml.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({4, 3}, gen);
  check_gradients("MaskedLinear", [&] { return ml.forward(x); }, params_and(ml, {{"x", x}}));
  auto g = ml.weight.grad().to_f64();
  for (int i = 0; i < 9; ++i)
    if (mask[i] == 0) EXPECT_EQ(g[i], 0.0) << "masked weight " << i << " got a gradient";
  // Output 0 depends on x0 only.
  ad::Tensor x2 = ad::Tensor::from_vector(x.to_f64(), x.shape());
  x2.data<double>()[1] += 1.0;
  x2.data<double>()[2] -= 2.0;
  EXPECT_NEAR(ml.forward(x).to_f64()[0], ml.forward(x2).to_f64()[0], 1e-14);
  EXPECT_THROW(MaskedLinear({1, 0}, 3, 3, gen), std::invalid_argument);
}

TEST(Layers, Conv1dAndLayerNormGradients) {
  ad::Generator gen(3);
  Conv1d conv(2, 3, 3, gen);
  LayerNorm ln(3);
  conv.to(ad::DType::F64);
  ln.to(ad::DType::F64);
  {  // non-trivial gamma/beta
    ad::NoGradGuard ng;
    ln.gamma.copy_(ad::Tensor::from_vector(std::vector<double>{0.5, 1.5, -1.0}, {3}));
    ln.beta.copy_(ad::Tensor::from_vector(std::vector<double>{0.1, -0.2, 0.3}, {3}));
  }
  ad::Tensor x = f64_leaf({2, 6, 2}, gen);
  check_gradients("Conv1d", [&] { return conv.forward(x); }, params_and(conv, {{"x", x}}));
  check_gradients("LayerNorm", [&] { return ln.forward(conv.forward(x)); },
                  params_and(ln, {{"x", x}}));
  EXPECT_EQ(conv.forward(x).shape(), (ad::Shape{2, 6, 3}));
  EXPECT_THROW(Conv1d(2, 3, 2, gen), std::invalid_argument);
}

TEST(Layers, GRUGradientsAndLastHidden) {
  ad::Generator gen(4);
  GRU gru(3, 4, 2, gen);
  gru.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({2, 5, 3}, gen);
  check_gradients("GRU", [&] { return gru.last_hidden(x); }, params_and(gru, {{"x", x}}), 12);
  ad::Tensor all = gru.forward(x), last = gru.last_hidden(x);
  ASSERT_EQ(all.shape(), (ad::Shape{2, 5, 4}));
  ASSERT_EQ(last.shape(), (ad::Shape{2, 4}));
  auto a = all.to_f64(), l = last.to_f64();
  for (int b = 0; b < 2; ++b)
    for (int k = 0; k < 4; ++k) EXPECT_EQ(l[b * 4 + k], a[(b * 5 + 4) * 4 + k]);
  EXPECT_EQ(gru.named_parameters().size(), 8u);
}

TEST(Layers, ResBlockGradientsWithAndWithoutProjection) {
  ad::Generator gen(5);
  ResBlock proj(2, 3, 3, gen), ident(3, 3, 3, gen);
  proj.to(ad::DType::F64);
  ident.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({2, 5, 2}, gen);
  check_gradients("ResBlock 2->3", [&] { return proj.forward(x); }, params_and(proj, {{"x", x}}), 10);
  ad::Tensor x3 = f64_leaf({2, 5, 3}, gen);
  check_gradients("ResBlock 3->3", [&] { return ident.forward(x3); }, params_and(ident, {{"x", x3}}), 10);
  EXPECT_GT(proj.named_parameters().size(), ident.named_parameters().size());  // the 1x1 skip
}

// The block runs fused ops (ad::conv1d_ln); its definition is the layers composed:
// relu(LN2(conv2(relu(LN1(conv1(x))))) + skip(x)). Values and every parameter gradient, in float.
TEST(Layers, ResBlockEqualsItsLayersComposed) {
  ad::Generator gen(9);
  for (const auto& [cin, cout] : std::vector<std::pair<int64_t, int64_t>>{{3, 8}, {8, 8}}) {
    ResBlock block(cin, cout, 3, gen);
    std::map<std::string, ad::Tensor> p;
    for (const auto& [name, t] : block.named_parameters()) p[name] = t;
    const ad::Tensor x = ad::randn({2, 40, cin}, gen);
    const ad::Tensor R = ad::rand({2, 40, cout}, gen) + 0.5;
    auto grads = [&](const ad::Tensor& y) {
      block.zero_grad();
      ad::backward(ad::sum(y * R));
      std::map<std::string, std::vector<float>> g;
      for (const auto& [name, t] : block.named_parameters()) g[name] = t.grad().to_f32();
      return g;
    };
    const ad::Tensor fused = block.forward(x);
    const auto yf = fused.to_f32();
    const auto gf = grads(fused);
    ad::Tensor h = ad::relu(ad::layer_norm(ad::conv1d(x, p["conv1.weight"], p["conv1.bias"]),
                                           p["ln1.gamma"], p["ln1.beta"]));
    h = ad::layer_norm(ad::conv1d(h, p["conv2.weight"], p["conv2.bias"]), p["ln2.gamma"],
                       p["ln2.beta"]);
    const ad::Tensor composed =
        ad::relu(h + (cin != cout ? ad::conv1d(x, p["skip.weight"], ad::Tensor()) : x));
    const auto yc = composed.to_f32();
    const auto gc = grads(composed);
    for (size_t i = 0; i < yf.size(); ++i) ASSERT_NEAR(yf[i], yc[i], 1e-5 * (1 + std::fabs(yc[i])));
    ASSERT_EQ(gf.size(), gc.size());
    for (const auto& [name, g] : gc)
      for (size_t i = 0; i < g.size(); ++i)
        ASSERT_NEAR(gf.at(name)[i], g[i], 1e-4 * (1 + std::fabs(g[i]))) << name << " " << i;
  }
}

TEST(Featurizer, PaperChannelScheduleAndLength) {
  FeaturizerConfig c;  // paper defaults
  EXPECT_EQ(c.out_length(), 56);
  const int64_t want[9] = {32, 64, 128, 256, 256, 256, 256, 256, 256};
  for (int b = 0; b < 9; ++b) EXPECT_EQ(c.block_channels(b), want[b]) << "block " << b;
}

TEST(Featurizer, TinyGradientsAndShapes) {
  FeaturizerConfig c;
  c.length = 16;
  c.in_channels = 2;
  c.n_blocks = 3;
  c.n_pools = 2;
  c.base_channels = 2;
  c.max_channels = 4;
  c.gru_layers = 2;
  c.gru_hidden = 3;
  c.out_dim = 2;
  ad::Generator gen(6);
  Featurizer f(c, gen);
  f.to(ad::DType::F64);
  ad::Tensor x = f64_leaf({2, 16, 2}, gen);
  EXPECT_EQ(f.resnet(x).shape(), (ad::Shape{2, 4, 4}));
  EXPECT_EQ(f.forward(x).shape(), (ad::Shape{2, 2}));
  check_gradients("Featurizer", [&] { return f.forward(x); }, params_and(f, {{"x", x}}), 6);
  EXPECT_THROW(f.forward(f64_leaf({2, 15, 2}, gen)), std::invalid_argument);
}

// The featurizer's forward and every gradient are the same bits with 1 and 2 threads: the fused
// convolutions, the GRU's row chunks, the long-K weight-gradient GEMMs and the long-axis sums all
// split their work independently of the thread count.
TEST(Featurizer, GradientsIndependentOfThreadCount) {
  FeaturizerConfig c;
  c.length = 1600;
  c.n_blocks = 3;
  c.n_pools = 2;
  c.base_channels = 8;
  c.max_channels = 16;
  c.gru_layers = 1;
  c.gru_hidden = 8;
  c.out_dim = 4;
  ad::Generator gen(8);
  Featurizer f(c, gen);
  const ad::Tensor x = ad::randn({4, 1600, 1}, gen);
  auto run = [&](int threads) {
    core::set_num_threads(threads);
    f.zero_grad();
    const ad::Tensor h = f.forward(x);
    ad::backward(ad::sum(h * h));
    std::vector<std::vector<float>> out{h.to_f32()};
    for (const auto& [name, t] : f.named_parameters()) out.push_back(t.grad().to_f32());
    return out;
  };
  const auto one = run(1), two = run(2);
  core::set_num_threads(0);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i], two[i]) << "output/gradient " << i;
}

TEST(Featurizer, ConfigErrorsNameTheField) {
  FeaturizerConfig c;
  c.kernel_size = 4;
  try {
    c.validate();
    FAIL() << "even kernel accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("kernel_size"), std::string::npos) << e.what();
  }
  c = FeaturizerConfig{};
  c.length = 100;  // 100 >> 7 == 0
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(Module, NamesMovesAndCounts) {
  ad::Generator gen(7);
  ResBlock b(2, 3, 3, gen);
  auto names = b.named_parameters();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front().first, "conv1.weight");
  EXPECT_EQ(names.back().first, "skip.weight");
  int64_t n = 0;
  for (auto& [k, t] : names) n += t.numel();
  EXPECT_EQ(b.num_parameters(), n);
  b.to(ad::DType::F64);
  for (auto& [k, t] : b.named_parameters()) {
    EXPECT_EQ(t.dtype(), ad::DType::F64) << k;
    EXPECT_TRUE(t.requires_grad()) << k;
    EXPECT_TRUE(t.is_leaf()) << k;
  }
  EXPECT_EQ(b.dtype(), ad::DType::F64);
}

}  // namespace
}  // namespace lensflow::nn
