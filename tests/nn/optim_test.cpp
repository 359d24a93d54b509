// Adam against an independent scalar implementation, cosine schedule, gradient clipping, and two
// small networks (an MLP and a conv net) learning toy tasks with Adam.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"
#include "nn/adam.hpp"
#include "nn/featurizer.hpp"
#include "nn/grad_clip.hpp"
#include "nn/layers.hpp"
#include "nn/schedule.hpp"

namespace lensflow::nn {
namespace {

TEST(Adam, MatchesReferenceUpdates) {
  for (double wd : {0.0, 0.05}) {
    std::vector<double> p0 = {0.5, -1.0, 2.0};
    ad::Tensor p = ad::Tensor::from_vector(p0, {3});
    p.set_requires_grad(true);
    AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = wd;
    Adam adam({p}, o);
    std::vector<double> ref = p0, m(3, 0.0), v(3, 0.0);
    for (int t = 1; t <= 5; ++t) {
      std::vector<double> g = {0.1 * t, -0.3, 1.0 / t};
      p.set_grad(ad::Tensor::from_vector(g, {3}));
      adam.step();
      for (int i = 0; i < 3; ++i) {
        const double gi = g[i] + wd * ref[i];
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
        ref[i] -= 0.01 * mh / (std::sqrt(vh) + 1e-8);
      }
      const auto got = p.to_f64();
      for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], ref[i], 1e-12) << "t " << t << " i " << i;
    }
    EXPECT_EQ(adam.step_count(), 5);
  }
}

TEST(Adam, SkipsParametersWithoutGradient) {
  ad::Tensor a = ad::Tensor::from_vector(std::vector<double>{1.0}, {1});
  ad::Tensor b = ad::Tensor::from_vector(std::vector<double>{2.0}, {1});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Adam adam({a, b});
  a.set_grad(ad::Tensor::from_vector(std::vector<double>{1.0}, {1}));
  adam.step();
  EXPECT_LT(a.item(), 1.0);
  EXPECT_EQ(b.item(), 2.0);
  EXPECT_THROW(Adam({ad::Tensor::zeros({2})}), std::invalid_argument);  // not a trainable leaf
}

TEST(CosineScheduleTest, EndpointsMidpointAndMonotone) {
  CosineSchedule s(1e-3, 100);
  EXPECT_DOUBLE_EQ(s.lr(0), 1e-3);
  EXPECT_NEAR(s.lr(50), 0.5e-3, 1e-15);
  EXPECT_NEAR(s.lr(100), 0.0, 1e-18);
  EXPECT_NEAR(s.lr(250), 0.0, 1e-18);
  EXPECT_NEAR(s.lr(25), 1e-3 * (1 + std::cos(M_PI / 4)) / 2, 1e-15);
  for (int t = 1; t <= 100; ++t) EXPECT_LE(s.lr(t), s.lr(t - 1));
  EXPECT_THROW(CosineSchedule(1e-3, 0), std::invalid_argument);
}

TEST(GradClip, ScalesToMaxNormKeepingDirection) {
  ad::Tensor a = ad::Tensor::zeros({2}), b = ad::Tensor::zeros({1});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  a.set_grad(ad::Tensor::from_vector(std::vector<float>{3.f, 0.f}, {2}));
  b.set_grad(ad::Tensor::from_vector(std::vector<float>{4.f}, {1}));
  EXPECT_NEAR(grad_norm({a, b}), 5.0, 1e-6);
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 5.0, 1e-6);  // below: untouched
  EXPECT_FLOAT_EQ(a.grad().to_f32()[0], 3.f);
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad().to_f32()[0], 0.6, 1e-6);
  EXPECT_NEAR(b.grad().to_f32()[0], 0.8, 1e-6);
  EXPECT_NEAR(grad_norm({a, b}), 1.0, 1e-5);
  b.set_grad(ad::Tensor::from_vector(std::vector<float>{NAN}, {1}));
  EXPECT_TRUE(std::isnan(clip_grad_norm({a, b}, 1.0)));
  EXPECT_NEAR(a.grad().to_f32()[0], 0.6, 1e-6);  // untouched
}

TEST(GradClip, FactorForAdamsPass) {
  EXPECT_EQ(clip_factor(3.0, 5.0), 1.0);
  EXPECT_EQ(clip_factor(5.0, 5.0), 1.0);
  EXPECT_DOUBLE_EQ(clip_factor(10.0, 5.0), 5.0 / (10.0 + 1e-6));
  EXPECT_EQ(clip_factor(NAN, 5.0), 1.0);
  EXPECT_EQ(clip_factor(INFINITY, 5.0), 1.0);
  EXPECT_THROW(clip_factor(1.0, 0.0), std::invalid_argument);
  // Adam::step(factor) moves the parameters as clip_grad_norm then Adam::step() does.
  auto run = [](bool fused) {
    ad::Tensor w = ad::Tensor::from_vector(std::vector<float>{1.f, -2.f, 0.5f}, {3});
    w.set_requires_grad(true);
    Adam opt({w});
    for (int t = 0; t < 3; ++t) {
      opt.zero_grad();
      w.set_grad(ad::Tensor::from_vector(std::vector<float>{30.f, -40.f, 2.f + t}, {3}));
      if (fused) {
        opt.step(clip_factor(grad_norm({w}), 1.0));
      } else {
        clip_grad_norm({w}, 1.0);
        opt.step();
      }
    }
    return w.to_f64();
  };
  EXPECT_EQ(run(true), run(false));
}

TEST(Training, MlpLearnsSine) {
  ad::Generator gen(41);
  Linear l1(1, 32, gen, true, kReluGain), l2(32, 32, gen, true, kReluGain), l3(32, 1, gen);
  std::vector<ad::Tensor> params;
  for (Module* m : std::initializer_list<Module*>{&l1, &l2, &l3})
    for (auto& p : m->parameters()) params.push_back(p);
  AdamOptions o;
  o.lr = 3e-3;
  Adam adam(params, o);
  auto batch = [&](int n, std::vector<float>& x, std::vector<float>& y) {
    x.resize(n);
    y.resize(n);
    for (int i = 0; i < n; ++i) {
      x[i] = static_cast<float>(4 * gen.uniform() - 2);
      y[i] = std::sin(2 * x[i]);
    }
  };
  auto loss_of = [&](const std::vector<float>& x, const std::vector<float>& y) {
    const int64_t n = static_cast<int64_t>(x.size());
    ad::Tensor pred = l3.forward(ad::relu(l2.forward(ad::relu(l1.forward(ad::Tensor::from_vector(x, {n, 1}))))));
    return ad::mean(ad::square(pred - ad::Tensor::from_vector(y, {n, 1})));
  };
  std::vector<float> x, y;
  batch(512, x, y);
  const double before = loss_of(x, y).item();
  for (int it = 0; it < 1500; ++it) {
    std::vector<float> bx, by;
    batch(64, bx, by);
    adam.zero_grad();
    ad::backward(loss_of(bx, by));
    adam.step();
  }
  const double after = loss_of(x, y).item();
  EXPECT_GT(before, 0.2);  // variance of sin(2x) is ~0.5
  EXPECT_LT(after, 0.01) << "before " << before;
}

TEST(Training, ConvNetLearnsAmplitude) {
  // Regress the amplitude of a randomly shifted bump: needs convolution + pooling + nonlinearity.
  ad::Generator gen(42);
  const int64_t L = 32;
  ResBlock block(1, 8, 3, gen);
  Linear head(8, 1, gen);
  std::vector<ad::Tensor> params = block.parameters();
  for (auto& p : head.parameters()) params.push_back(p);
  AdamOptions o;
  o.lr = 3e-3;
  Adam adam(params, o);
  auto batch = [&](int n, std::vector<float>& x, std::vector<float>& y) {
    x.assign(n * L, 0.f);
    y.resize(n);
    for (int i = 0; i < n; ++i) {
      const double a = 0.5 + 1.5 * gen.uniform();
      const int c = 4 + static_cast<int>(gen.uniform() * (L - 8));
      for (int t = 0; t < L; ++t)
        x[i * L + t] = static_cast<float>(a * std::exp(-0.5 * (t - c) * (t - c) / 2.0) +
                                          0.05 * (2 * gen.uniform() - 1));
      y[i] = static_cast<float>(a);
    }
  };
  auto loss_of = [&](const std::vector<float>& x, const std::vector<float>& y) {
    const int64_t n = static_cast<int64_t>(y.size());
    ad::Tensor f = ad::maxpool2(block.forward(ad::Tensor::from_vector(x, {n, L, 1})));
    ad::Tensor pooled = ad::mean(f, 1);  // [n, 8]
    return ad::mean(ad::square(head.forward(pooled) - ad::Tensor::from_vector(y, {n, 1})));
  };
  std::vector<float> x, y;
  batch(256, x, y);
  const double before = loss_of(x, y).item();
  for (int it = 0; it < 600; ++it) {
    std::vector<float> bx, by;
    batch(32, bx, by);
    adam.zero_grad();
    ad::backward(loss_of(bx, by));
    clip_grad_norm(params, 5.0);
    adam.step();
  }
  const double after = loss_of(x, y).item();
  // Variance of U(0.5, 2) amplitudes is 0.1875; ask for a 10x reduction below that.
  EXPECT_LT(after, 0.01875) << "before " << before;
}

}  // namespace
}  // namespace lensflow::nn
