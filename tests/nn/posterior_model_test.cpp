// The full posterior model: paper-size shapes, config checks, end-to-end gradients, and a tiny
// model learning a conditional Gaussian posterior from "light curves".
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"
#include "nn/adam.hpp"
#include "nn/grad_clip.hpp"
#include "nn/posterior_model.hpp"
#include "nn/schedule.hpp"
#include "tests/nn/module_gradcheck.hpp"

namespace lensflow::nn {
namespace {

TEST(PosteriorModelTest, PaperSizeShapes) {
  PosteriorModel model(PosteriorConfig::paper());
  EXPECT_EQ(model.config().featurizer.out_length(), 56);
  ad::Generator gen(1);
  ad::Tensor x = ad::randn({2, 7200, 1}, gen);
  ad::NoGradGuard ng;
  EXPECT_EQ(model.featurizer().resnet(x).shape(), (ad::Shape{2, 56, 256}));
  EXPECT_EQ(model.features(x).shape(), (ad::Shape{2, 256}));
  ad::Tensor theta = ad::randn({2, 8}, gen);
  const auto lp = model.log_prob(x, theta).to_f32();
  ASSERT_EQ(lp.size(), 2u);
  for (float v : lp) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(model.sample(x, 3, gen).shape(), (ad::Shape{2, 3, 8}));
  EXPECT_EQ(model.flow().orderings().size(), 21u);
  // Parameter count, from the architecture (independent of the module code):
  int64_t feat = 0, cin = 1;
  const int64_t ch[9] = {32, 64, 128, 256, 256, 256, 256, 256, 256};
  for (int b = 0; b < 9; ++b) {
    feat += 3 * cin * ch[b] + ch[b] + 3 * ch[b] * ch[b] + ch[b] + 4 * ch[b];  // 2 convs + 2 LNs
    if (cin != ch[b]) feat += cin * ch[b];                                    // 1x1 skip
    cin = ch[b];
  }
  feat += 2 * (3 * 256 * 256 * 2 + 2 * 3 * 256) + 256 * 256 + 256;  // GRU + head
  auto made = [](int64_t P) {
    return 8 * 256 + 256 + 256 * 256 + 256 + 256 * 8 * P + 8 * P + 256 * 256;
  };
  EXPECT_EQ(model.featurizer().num_parameters(), feat);
  EXPECT_EQ(model.num_parameters(), feat + 20 * made(2) + made(24));
  std::cout << "paper-size model: " << model.num_parameters() << " parameters" << std::endl;
}

TEST(PosteriorModelTest, ConfigMismatchIsNamed) {
  PosteriorConfig c = PosteriorConfig::tiny(16, 2);
  c.flow.context = 5;
  try {
    PosteriorModel m(c);
    FAIL() << "accepted flow.context != featurizer.out_dim";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("flow.context"), std::string::npos) << e.what();
  }
  PosteriorModel m(PosteriorConfig::tiny(16, 2));
  EXPECT_THROW(m.log_prob(ad::Tensor::zeros({2, 15, 1}), ad::Tensor::zeros({2, 2})), std::invalid_argument);
  EXPECT_THROW(m.log_prob(ad::Tensor::zeros({2, 16, 1}), ad::Tensor::zeros({3, 2})), std::invalid_argument);
}

TEST(PosteriorModelTest, DeterministicFromConfig) {
  PosteriorConfig c = PosteriorConfig::tiny(16, 3);
  c.init_seed = 5;
  PosteriorModel a(c), b(c);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.to_f32(), pb[i].second.to_f32()) << pa[i].first;
  }
  ad::Generator g(1);
  ad::Tensor x = ad::randn({3, 16, 1}, g);
  ad::Generator s1(2), s2(2);
  EXPECT_EQ(a.sample(x, 20, s1).to_f32(), b.sample(x, 20, s2).to_f32());
  c.init_seed = 6;  // another seed gives another initialisation
  PosteriorModel d(c);
  EXPECT_NE(d.named_parameters().front().second.to_f32(), pa.front().second.to_f32());
}

TEST(PosteriorModelTest, EndToEndGradients) {
  PosteriorConfig c = PosteriorConfig::tiny(8, 2);
  c.featurizer.n_blocks = 2;
  c.featurizer.n_pools = 1;
  c.featurizer.base_channels = 2;
  c.featurizer.max_channels = 3;
  c.featurizer.gru_hidden = 3;
  c.featurizer.out_dim = 3;
  c.flow.context = 3;
  c.flow.hidden = 6;
  PosteriorModel model(c);
  model.to(ad::DType::F64);
  ad::Generator gen(2);
  testing::jitter_zero_params(model, gen);
  ad::Tensor x = testing::f64_leaf({2, 8, 1}, gen), th = testing::f64_leaf({2, 2}, gen);
  testing::check_gradients("posterior log_prob", [&] { return model.log_prob(x, th); },
                           testing::params_and(model, {{"x", x}, {"theta", th}}), 4);
}

// theta = (m + 0.1 e1, -m + 0.2 e2) with m ~ U(-1, 1) read off a noisy constant light curve.
// The best achievable mean NLL is the Gaussian entropy sum: 0.5 log(2 pi e 0.01) +
// 0.5 log(2 pi e 0.04) = -1.074; ignoring x costs > 0.6 nats.
TEST(PosteriorModelTest, LearnsAConditionalGaussian) {
  const int64_t L = 16;
  PosteriorModel model(PosteriorConfig::tiny(L, 2));
  ad::Generator gen(3);
  auto batch = [&](int64_t n, ad::Tensor& x, ad::Tensor& th) {
    std::vector<float> xv(n * L), tv(n * 2);
    for (int64_t i = 0; i < n; ++i) {
      const double m = 2 * gen.uniform() - 1;
      for (int64_t t = 0; t < L; ++t) xv[i * L + t] = static_cast<float>(m + 0.01 * (2 * gen.uniform() - 1));
      const double u1 = gen.uniform() + 1e-12, u2 = gen.uniform();
      const double r = std::sqrt(-2 * std::log(u1));
      tv[i * 2] = static_cast<float>(m + 0.1 * r * std::cos(2 * M_PI * u2));
      tv[i * 2 + 1] = static_cast<float>(-m + 0.2 * r * std::sin(2 * M_PI * u2));
    }
    x = ad::Tensor::from_vector(xv, {n, L, 1});
    th = ad::Tensor::from_vector(tv, {n, 2});
  };
  ad::Tensor vx, vth;
  batch(1000, vx, vth);
  auto val = [&] {
    ad::NoGradGuard ng;
    return model.loss(vx, vth).item();
  };
  const double before = val();
  const int steps = 800;
  Adam adam(model.parameters(), AdamOptions{3e-3});
  CosineSchedule sched(3e-3, steps);
  for (int s = 0; s < steps; ++s) {
    ad::Tensor x, th;
    batch(64, x, th);
    adam.set_lr(sched.lr(s));
    adam.zero_grad();
    ad::backward(model.loss(x, th));
    clip_grad_norm(model.parameters(), 10.0);
    adam.step();
  }
  const double after = val();
  std::cout << "conditional Gaussian NLL: " << before << " -> " << after << " (optimum -1.074)" << std::endl;
  EXPECT_LT(after, -0.9);
  // Posterior samples for m = 0.5 centre on (0.5, -0.5).
  ad::Tensor x1 = ad::Tensor::full({1, L, 1}, 0.5);
  const auto s = model.sample(x1, 2000, gen).to_f32();
  double m0 = 0, m1 = 0;
  for (size_t i = 0; i < s.size(); i += 2) {
    m0 += s[i] / 2000;
    m1 += s[i + 1] / 2000;
  }
  EXPECT_NEAR(m0, 0.5, 0.1);
  EXPECT_NEAR(m1, -0.5, 0.1);
}


// input_fold f folds f consecutive points into channels: the first block sees [B, L/f, f·C], which is
// exactly a stride-f first layer. A folded model equals an unfolded one fed the reshaped input with
// f input channels, and its size shows in out_length and in the checkpointed config.
TEST(PosteriorModelTest, InputFoldIsAReshapeIntoChannels) {
  PosteriorConfig folded = PosteriorConfig::tiny(64, 2);
  folded.featurizer.input_fold = 4;
  PosteriorConfig plain = folded;
  plain.featurizer.input_fold = 1;
  plain.featurizer.length = 16;
  plain.featurizer.in_channels = 4;
  EXPECT_EQ(folded.featurizer.out_length(), plain.featurizer.out_length());
  PosteriorModel a(folded), b(plain);  // same init_seed and layer shapes: the same weights
  std::vector<float> x(2 * 64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * float(i));
  const auto ha = a.features(ad::Tensor::from_vector(x, {2, 64, 1})).to_f32();
  const auto hb = b.features(ad::Tensor::from_vector(x, {2, 16, 4})).to_f32();
  EXPECT_EQ(ha, hb);
  PosteriorConfig bad = folded;
  bad.featurizer.input_fold = 3;  // 64 is not a multiple of 3
  EXPECT_THROW(bad.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace lensflow::nn
