// Finite-difference gradient checks (float64, CPU) for elementwise, broadcasting, reductions and
// shape ops.
#include "tests/autodiff/gradcheck.hpp"

namespace lensflow::ad {
namespace {

using testing::gradcheck;
using testing::rand_leaf;

TEST(GradcheckElementwise, UnaryOps) {
  Generator gen(1);
  struct Case {
    const char* name;
    Tensor (*f)(const Tensor&);
    double lo, hi;
  };
  const Case cases[] = {{"neg", neg, -2, 2},         {"exp", exp, -2, 2},
                        {"log", log, 0.2, 3},        {"sqrt", sqrt, 0.2, 3},
                        {"square", square, -2, 2},   {"tanh", tanh, -2, 2},
                        {"sigmoid", sigmoid, -4, 4}, {"softplus", softplus, -4, 4}};
  for (const Case& c : cases) {
    auto fn = c.f;
    gradcheck(c.name, [fn](const std::vector<Tensor>& v) { return fn(v[0]); },
              {rand_leaf({3, 4}, gen, c.lo, c.hi)});
  }
  // relu and clamp away from their kinks
  Tensor x = Tensor::from_vector(std::vector<double>{-1.5, -0.3, 0.2, 0.7, 1.9, -2.2}, {2, 3});
  x.set_requires_grad(true);
  gradcheck("relu", [](const std::vector<Tensor>& v) { return relu(v[0]); }, {x});
  gradcheck("clamp", [](const std::vector<Tensor>& v) { return clamp(v[0], -1.0, 1.0); }, {x});
}

TEST(GradcheckElementwise, ClampGradientIsZeroOutside) {
  Tensor x = Tensor::from_vector(std::vector<double>{-3.0, -0.5, 0.5, 3.0}, {4});
  x.set_requires_grad(true);
  backward(sum(clamp(x, -1.0, 1.0)));
  EXPECT_EQ(x.grad().to_f64(), (std::vector<double>{0, 1, 1, 0}));
}

TEST(GradcheckElementwise, BroadcastingBinaries) {
  Generator gen(2);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {3, 1}}, {{4}, {2, 1, 4}}, {{2, 3}, {1}}, {{1, 3}, {2, 1}}};
  for (const auto& [sa, sb] : shapes) {
    const std::string tag = to_string(sa) + "x" + to_string(sb);
    gradcheck("add" + tag, [](const std::vector<Tensor>& v) { return v[0] + v[1]; },
              {rand_leaf(sa, gen), rand_leaf(sb, gen)});
    gradcheck("sub" + tag, [](const std::vector<Tensor>& v) { return v[0] - v[1]; },
              {rand_leaf(sa, gen), rand_leaf(sb, gen)});
    gradcheck("mul" + tag, [](const std::vector<Tensor>& v) { return v[0] * v[1]; },
              {rand_leaf(sa, gen), rand_leaf(sb, gen)});
    gradcheck("div" + tag, [](const std::vector<Tensor>& v) { return v[0] / v[1]; },
              {rand_leaf(sa, gen), rand_leaf(sb, gen, 0.5, 2.0)});
  }
}

TEST(GradcheckElementwise, BroadcastShapesAndValues) {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor b = Tensor::from_vector(std::vector<double>{10, 20}, {2, 1});
  Tensor c = a + b;
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_EQ(c.to_f64(), (std::vector<double>{11, 12, 13, 21, 22, 23}));
}

TEST(GradcheckElementwise, ScalarForms) {
  Generator gen(3);
  gradcheck("scalar ops",
            [](const std::vector<Tensor>& v) {
              return ((v[0] * 2.5 + 1.0) - 0.5) / 3.0 + (2.0 - v[0]) + 1.5 / v[0];
            },
            {rand_leaf({5}, gen, 0.5, 2)});
}

TEST(GradcheckReduce, SumMeanLogsumexpSoftmax) {
  Generator gen(4);
  for (int axis : {0, 1, -1}) {
    for (bool keep : {false, true}) {
      gradcheck("sum", [=](const std::vector<Tensor>& v) { return sum(v[0], axis, keep); },
                {rand_leaf({3, 4, 5}, gen)});
      gradcheck("mean", [=](const std::vector<Tensor>& v) { return mean(v[0], axis, keep); },
                {rand_leaf({3, 4, 5}, gen)});
      gradcheck("logsumexp",
                [=](const std::vector<Tensor>& v) { return logsumexp(v[0], axis, keep); },
                {rand_leaf({3, 4, 5}, gen, -3, 3)});
    }
    gradcheck("softmax", [=](const std::vector<Tensor>& v) { return softmax(v[0], axis); },
              {rand_leaf({3, 4, 5}, gen, -3, 3)});
    gradcheck("log_softmax", [=](const std::vector<Tensor>& v) { return log_softmax(v[0], axis); },
              {rand_leaf({3, 4, 5}, gen, -3, 3)});
  }
  gradcheck("sum all", [](const std::vector<Tensor>& v) { return sum(v[0]); },
            {rand_leaf({3, 4}, gen)});
  gradcheck("mean all", [](const std::vector<Tensor>& v) { return mean(v[0]); },
            {rand_leaf({3, 4}, gen)});
  gradcheck("sum_squares", [](const std::vector<Tensor>& v) { return sum_squares(v[0]); },
            {rand_leaf({3, 4}, gen)});
}

TEST(GradcheckReduce, SumSquaresIsSumOfSquareBitForBit) {
  // The fused pass squares and sums in the composed ops' order: the same bits on the CPU, on the
  // short, the split long-axis (n >= 4096) and ragged-tail paths.
  Generator gen(9);
  for (int64_t n : {1, 7, 4095, 4096, 100003})
    for (DType dt : {DType::F32, DType::F64}) {
      const Tensor x = randn({n}, gen, Device::CPU, dt);
      EXPECT_EQ(sum_squares(x).item(), sum(square(x)).item()) << n;
      EXPECT_EQ(sum_squares(x.reshape({1, n})).item(), sum(square(x)).item()) << n;
    }
  EXPECT_EQ(sum_squares(Tensor::zeros({0})).item(), 0.0);
}

TEST(GradcheckReduce, ValuesAgainstDirectFormulas) {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(a, 0).to_f64(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(a, 1).to_f64(), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum(a, 1, true).shape(), (Shape{2, 1}));
  EXPECT_DOUBLE_EQ(sum(a).item(), 21);
  EXPECT_DOUBLE_EQ(mean(a).item(), 3.5);
  const auto l = logsumexp(a, 1).to_f64();
  EXPECT_NEAR(l[0], std::log(std::exp(1) + std::exp(2) + std::exp(3)), 1e-14);
  // Stable for large values where exp overflows.
  Tensor big = Tensor::from_vector(std::vector<double>{1000, 1000}, {2});
  EXPECT_NEAR(logsumexp(big, 0).item(), 1000 + std::log(2.0), 1e-12);
  const auto s = softmax(a, 1).to_f64();
  EXPECT_NEAR(s[0] + s[1] + s[2], 1.0, 1e-15);
}

TEST(GradcheckShape, SliceConcatIndexTransposeReshape) {
  Generator gen(5);
  gradcheck("slice", [](const std::vector<Tensor>& v) { return slice(v[0], 1, 1, 3); },
            {rand_leaf({2, 4, 3}, gen)});
  gradcheck("concat",
            [](const std::vector<Tensor>& v) { return concat({v[0], v[1], v[0]}, -1); },
            {rand_leaf({2, 3, 2}, gen), rand_leaf({2, 3, 4}, gen)});
  gradcheck("index_select (repeats)",
            [](const std::vector<Tensor>& v) { return index_select(v[0], 1, {3, 0, 0, 2}); },
            {rand_leaf({2, 4, 3}, gen)});
  gradcheck("transpose", [](const std::vector<Tensor>& v) { return transpose(v[0], 0, 2); },
            {rand_leaf({2, 4, 3}, gen)});
  gradcheck("reshape", [](const std::vector<Tensor>& v) { return v[0].reshape({4, -1}) * v[1]; },
            {rand_leaf({2, 4, 3}, gen), rand_leaf({4, 6}, gen)});
  gradcheck("flatten/unsqueeze/squeeze",
            [](const std::vector<Tensor>& v) { return squeeze(unsqueeze(flatten(v[0]), 0), 0); },
            {rand_leaf({2, 4, 3}, gen)});
}

TEST(GradcheckShape, Values) {
  Tensor a = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(transpose(a, 0, 1).to_f64(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(slice(a, 1, 1, 3).to_f64(), (std::vector<double>{1, 2, 4, 5}));
  EXPECT_EQ(index_select(a, 1, {2, 0}).to_f64(), (std::vector<double>{2, 0, 5, 3}));
  EXPECT_EQ(concat({a, a}, 0).shape(), (Shape{4, 3}));
  EXPECT_EQ(concat({a, slice(a, 1, 0, 1)}, 1).to_f64(),
            (std::vector<double>{0, 1, 2, 0, 3, 4, 5, 3}));
}

}  // namespace
}  // namespace lensflow::ad
