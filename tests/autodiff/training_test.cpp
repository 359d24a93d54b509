// End-to-end: small networks built from the ops learn toy tasks with plain SGD.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"

namespace lensflow::ad {
namespace {

Tensor param(const Shape& shape, double scale, Generator& gen) {
  Tensor p = Tensor::from_vector((randn(shape, gen) * scale).to_f32(), shape);
  p.set_requires_grad(true);
  return p;
}

void sgd_step(std::vector<Tensor>& params, double lr) {
  NoGradGuard ng;
  for (Tensor& p : params) {
    p.copy_(p - p.grad() * lr);
    p.zero_grad();
  }
}

TEST(Training, MlpFitsASine) {
  Generator gen(21);
  const int64_t N = 128;
  std::vector<float> xs(N), ys(N);
  for (int64_t i = 0; i < N; ++i) {
    xs[size_t(i)] = -1.0f + 2.0f * float(i) / float(N - 1);
    ys[size_t(i)] = std::sin(3.0f * xs[size_t(i)]);
  }
  const Tensor x = Tensor::from_vector(xs, {N, 1}), y = Tensor::from_vector(ys, {N, 1});
  std::vector<Tensor> p = {param({32, 1}, 1.0, gen),  param({32}, 0.1, gen),
                           param({32, 32}, 0.2, gen), param({32}, 0.1, gen),
                           param({1, 32}, 0.2, gen),  param({1}, 0.1, gen)};
  auto loss_fn = [&] {
    const Tensor h1 = tanh(linear(x, p[0], p[1]));
    const Tensor h2 = tanh(linear(h1, p[2], p[3]));
    return mean(square(linear(h2, p[4], p[5]) - y));
  };
  double first = 0, last = 0;
  for (int step = 0; step < 600; ++step) {
    const Tensor loss = loss_fn();
    if (step == 0) first = loss.item();
    last = loss.item();
    backward(loss);
    sgd_step(p, 0.05);
  }
  EXPECT_LT(last, first / 50) << "first " << first << " last " << last;
}

TEST(Training, ConvNetClassifiesBumpsFromDips) {
  // Class 0: a positive bump at a random position; class 1: a negative dip; plus noise.
  Generator gen(22);
  const int64_t B = 32, L = 32, C = 8;
  std::vector<float> xs(size_t(B * L)), onehot(size_t(B * 2), 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    const int cls = int(b % 2);
    const int64_t pos = 4 + int64_t(gen.uniform() * double(L - 8));
    for (int64_t l = 0; l < L; ++l) {
      const double d = double(l - pos);
      xs[size_t(b * L + l)] =
          float((cls == 0 ? 1.0 : -1.0) * std::exp(-d * d / 4.0) + 0.1 * (gen.uniform() - 0.5));
    }
    onehot[size_t(b * 2 + cls)] = 1.0f;
  }
  const Tensor x = Tensor::from_vector(xs, {B, L, 1}), target = Tensor::from_vector(onehot, {B, 2});
  std::vector<Tensor> p = {param({3, 1, C}, 0.5, gen), param({C}, 0.0, gen),
                           Tensor::full({C}, 1.0).set_requires_grad(true),
                           Tensor::zeros({C}).set_requires_grad(true),
                           param({3, C, C}, 0.3, gen), param({C}, 0.0, gen),
                           param({2, C}, 0.3, gen),    param({2}, 0.0, gen)};
  auto loss_fn = [&] {
    Tensor h = relu(layer_norm(conv1d(x, p[0], p[1]), p[2], p[3]));
    h = maxpool2(h);
    h = relu(conv1d(h, p[4], p[5]));
    const Tensor logits = linear(mean(h, 1), p[6], p[7]);
    return neg(mean(sum(log_softmax(logits, 1) * target, 1)));
  };
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    const Tensor loss = loss_fn();
    if (step == 0) first = loss.item();
    last = loss.item();
    backward(loss);
    sgd_step(p, 0.3);
  }
  EXPECT_LT(last, first / 10) << "first " << first << " last " << last;
}

}  // namespace
}  // namespace lensflow::ad
