// CPU twin vs CUDA for every op, forward and backward (float32). Skipped without a GPU.
// Tolerances: |cuda - cpu| <= tol * (1 + |cpu|) with tol = 1e-5 for elementwise / shape ops and
// 1e-4 for GEMM-based ops, reductions over long axes, GRU and layer norm (summation order differs).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "autodiff/ops.hpp"
#include "kernels/device.hpp"
#include "kernels/layernorm.hpp"
#include "tests/gpu_required.hpp"

namespace lensflow::ad {
namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

#define SKIP_WITHOUT_CUDA() \
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_available()) << "no CUDA device (or built without CUDA): CPU/CUDA parity not checked"

void expect_close(const std::vector<float>& cpu, const std::vector<float>& gpu, double tol,
                  const std::string& what) {
  ASSERT_EQ(cpu.size(), gpu.size()) << what;
  for (size_t i = 0; i < cpu.size(); ++i)
    ASSERT_NEAR(gpu[i], cpu[i], tol * (1 + std::fabs(cpu[i]))) << what << " element " << i;
}

// Runs f on CPU and CUDA copies of the inputs (leaves with grad), compares the outputs and the
// gradients of sum(f ⊙ R) for a fixed random R.
void parity(const std::string& name, const Fn& f, const std::vector<Tensor>& cpu_inputs,
            double tol) {
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : cpu_inputs) {
    if (!t.defined()) {
      gpu_inputs.push_back(Tensor());
      continue;
    }
    Tensor g = t.detach().to(Device::CUDA);
    if (t.requires_grad()) g.set_requires_grad(true);
    gpu_inputs.push_back(g);
  }
  const Tensor yc = f(cpu_inputs), yg = f(gpu_inputs);
  ASSERT_EQ(yg.device(), Device::CUDA) << name;
  expect_close(yc.to_f32(), yg.to_f32(), tol, name + " forward");
  Generator gen(4242);
  const Tensor R = rand(yc.shape(), gen) + 0.5;
  backward(sum(yc * R));
  backward(sum(yg * R.to(Device::CUDA)));
  for (size_t k = 0; k < cpu_inputs.size(); ++k) {
    if (!cpu_inputs[k].defined() || !cpu_inputs[k].requires_grad()) continue;
    ASSERT_TRUE(gpu_inputs[k].grad().defined()) << name << " input " << k;
    expect_close(cpu_inputs[k].grad().to_f32(), gpu_inputs[k].grad().to_f32(), tol,
                 name + " grad of input " + std::to_string(k));
  }
}

Tensor leaf(const Shape& s, Generator& gen, double lo = -1, double hi = 1) {
  Tensor t = rand(s, gen) * (hi - lo) + lo;
  t = t.detach();
  t.set_requires_grad(true);
  return t;
}

TEST(CudaParity, Elementwise) {
  SKIP_WITHOUT_CUDA();
  Generator gen(1);
  const std::vector<std::pair<const char*, Tensor (*)(const Tensor&)>> unary = {
      {"neg", neg},   {"exp", exp},   {"square", square},   {"relu", relu},
      {"tanh", tanh}, {"sigmoid", sigmoid}, {"softplus", softplus}};
  for (const auto& [name, f] : unary) {
    auto fn = f;
    parity(name, [fn](const std::vector<Tensor>& v) { return fn(v[0]); },
           {leaf({37, 53}, gen, -3, 3)}, 1e-5);
  }
  parity("log", [](const std::vector<Tensor>& v) { return log(v[0]); }, {leaf({1000}, gen, 0.1, 3)},
         1e-5);
  parity("sqrt", [](const std::vector<Tensor>& v) { return sqrt(v[0]); },
         {leaf({1000}, gen, 0.1, 3)}, 1e-5);
  parity("clamp", [](const std::vector<Tensor>& v) { return clamp(v[0], -0.5, 0.5); },
         {leaf({1000}, gen)}, 1e-5);
  parity("scalars", [](const std::vector<Tensor>& v) { return (v[0] * 2.0 + 1.0) / 3.0 - 2.0 / v[0]; },
         {leaf({1000}, gen, 0.5, 2)}, 1e-5);
  for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{
           {{64, 33}, {64, 33}}, {{8, 64, 33}, {33}}, {{8, 1, 33}, {8, 64, 1}}}) {
    parity("add", [](const std::vector<Tensor>& v) { return v[0] + v[1]; },
           {leaf(sa, gen), leaf(sb, gen)}, 1e-4);
    parity("sub", [](const std::vector<Tensor>& v) { return v[0] - v[1]; },
           {leaf(sa, gen), leaf(sb, gen)}, 1e-4);
    parity("mul", [](const std::vector<Tensor>& v) { return v[0] * v[1]; },
           {leaf(sa, gen), leaf(sb, gen)}, 1e-4);
    parity("div", [](const std::vector<Tensor>& v) { return v[0] / v[1]; },
           {leaf(sa, gen), leaf(sb, gen, 0.5, 2)}, 1e-4);
  }
}

TEST(CudaParity, Reductions) {
  SKIP_WITHOUT_CUDA();
  Generator gen(2);
  for (int axis : {0, 1, 2}) {
    parity("sum", [=](const std::vector<Tensor>& v) { return sum(v[0], axis); },
           {leaf({16, 40, 24}, gen)}, 1e-4);
    parity("mean keepdim", [=](const std::vector<Tensor>& v) { return mean(v[0], axis, true); },
           {leaf({16, 40, 24}, gen)}, 1e-4);
    parity("logsumexp", [=](const std::vector<Tensor>& v) { return logsumexp(v[0], axis); },
           {leaf({16, 40, 24}, gen, -3, 3)}, 1e-4);
    parity("softmax", [=](const std::vector<Tensor>& v) { return softmax(v[0], axis); },
           {leaf({16, 40, 24}, gen, -3, 3)}, 1e-4);
    parity("log_softmax", [=](const std::vector<Tensor>& v) { return log_softmax(v[0], axis); },
           {leaf({16, 40, 24}, gen, -3, 3)}, 1e-4);
  }
  // Long axis with few columns (the split-axis path: bias gradients) and a full sum.
  parity("sum long axis", [](const std::vector<Tensor>& v) { return sum(v[0], 0); },
         {leaf({200000, 3}, gen)}, 1e-4);
  parity("sum all", [](const std::vector<Tensor>& v) { return sum(v[0]); },
         {leaf({300001}, gen)}, 1e-4);
  parity("sum_squares", [](const std::vector<Tensor>& v) { return sum_squares(v[0]); },
         {leaf({300001}, gen)}, 1e-4);
  parity("sum_squares short", [](const std::vector<Tensor>& v) { return sum_squares(v[0]); },
         {leaf({1000}, gen)}, 1e-4);
}

TEST(CudaParity, LinearAlgebra) {
  SKIP_WITHOUT_CUDA();
  Generator gen(3);
  parity("matmul", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
         {leaf({65, 130}, gen), leaf({130, 47}, gen)}, 1e-4);
  parity("matmul 3dx2d", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
         {leaf({3, 17, 33}, gen), leaf({33, 9}, gen)}, 1e-4);
  parity("matmul batched", [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
         {leaf({4, 17, 33}, gen), leaf({4, 33, 9}, gen)}, 1e-4);
  parity("linear", [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
         {leaf({8, 10, 256}, gen), leaf({128, 256}, gen), leaf({128}, gen)}, 1e-4);
  const Tensor mask = (rand({64, 32}, gen) + 0.5).detach();  // values in [0.5,1.5): use floor
  std::vector<float> m = mask.to_f32();
  for (float& x : m) x = x >= 1.0f ? 1.0f : 0.0f;
  const Tensor mc = Tensor::from_vector(m, {64, 32}), mg = mc.to(Device::CUDA);
  parity("masked_linear",
         [mc, mg](const std::vector<Tensor>& v) {
           return masked_linear(v[0], v[1], v[0].device() == Device::CUDA ? mg : mc, v[2]);
         },
         {leaf({16, 32}, gen), leaf({64, 32}, gen), leaf({64}, gen)}, 1e-4);
}

// Layer-norm parameter gradients over no rows are sums of nothing: zeros on both backends (the
// device outputs come from the pool, so stale contents would show), and C = 0 is a no-op.
TEST(CudaParity, LayerNormBackwardOverNoRowsIsZero) {
  SKIP_WITHOUT_CUDA();
  const int64_t C = 5;
  std::vector<float> gg(C, NAN), gb(C, NAN);
  kernels::layernorm_backward_cpu<float>(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                         gg.data(), gb.data(), 0, C);
  for (int64_t c = 0; c < C; ++c) ASSERT_TRUE(gg[size_t(c)] == 0.0f && gb[size_t(c)] == 0.0f) << c;
#if LENSFLOW_HAVE_CUDA
  void* d = kernels::device_alloc(2 * C * sizeof(float));
  const std::vector<float> nans(2 * C, NAN);
  kernels::copy_host_to_device(d, nans.data(), nans.size() * sizeof(float));
  float* dg = static_cast<float*>(d);
  kernels::layernorm_backward_cuda(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, dg,
                                   dg + C, 0, C);
  kernels::layernorm_backward_cuda(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                   nullptr, 3, 0);
  std::vector<float> back(2 * C, 1.0f);
  kernels::copy_device_to_host(back.data(), d, back.size() * sizeof(float));
  kernels::device_free(d);
  for (int64_t i = 0; i < 2 * C; ++i) EXPECT_EQ(back[size_t(i)], 0.0f) << i;
#endif
}

// index_select's gradient with heavily repeated indices (the flow's repeat_rows): the device
// sums each row's contributions in the CPU's order without atomics, so it equals the CPU's
// gradient bit for bit, run after run.
TEST(CudaParity, IndexSelectGradientIsTheCpuSumBitForBit) {
  SKIP_WITHOUT_CUDA();
  Generator gen(9);
  const Tensor a = leaf({50, 24}, gen);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < 50 * 40; ++i) idx.push_back((i * 37) % 50);  // each row 40 times, mixed
  const Tensor R = rand({int64_t(idx.size()), 24}, gen);
  backward(sum(index_select(a, 0, idx) * R));
  const std::vector<float> cpu = a.grad().to_f32();
  for (int rep = 0; rep < 2; ++rep) {
    Tensor ag = a.detach().to(Device::CUDA);
    ag.set_requires_grad(true);
    backward(sum(index_select(ag, 0, idx) * R.to(Device::CUDA)));
    EXPECT_EQ(ag.grad().to_f32(), cpu) << "run " << rep;
  }
}

TEST(CudaParity, Layers) {
  SKIP_WITHOUT_CUDA();
  Generator gen(4);
  parity("conv1d K=3", [](const std::vector<Tensor>& v) { return conv1d(v[0], v[1], v[2]); },
         {leaf({4, 300, 16}, gen), leaf({3, 16, 32}, gen), leaf({32}, gen)}, 1e-4);
  parity("conv1d Cin=1", [](const std::vector<Tensor>& v) { return conv1d(v[0], v[1], v[2]); },
         {leaf({4, 301, 1}, gen), leaf({3, 1, 32}, gen), leaf({32}, gen)}, 1e-4);
  parity("conv1d K=1", [](const std::vector<Tensor>& v) { return conv1d(v[0], v[1], Tensor()); },
         {leaf({4, 50, 16}, gen), leaf({1, 16, 32}, gen)}, 1e-4);
  parity("conv1d_ln",
         [](const std::vector<Tensor>& v) {
           return conv1d_ln(v[0], v[1], v[2], v[3], v[4], v[5], true);
         },
         {leaf({4, 300, 16}, gen), leaf({3, 16, 32}, gen), leaf({32}, gen),
          leaf({32}, gen, 0.5, 1.5), leaf({32}, gen), leaf({4, 300, 32}, gen)},
         1e-4);
  parity("conv1d_ln Cin=1 no residual",
         [](const std::vector<Tensor>& v) {
           return conv1d_ln(v[0], v[1], v[2], v[3], v[4], Tensor(), true);
         },
         {leaf({4, 301, 1}, gen), leaf({3, 1, 8}, gen), leaf({8}, gen), leaf({8}, gen, 0.5, 1.5),
          leaf({8}, gen)},
         1e-4);
  parity("conv1d_ln K=1 C=256 no norm",
         [](const std::vector<Tensor>& v) {
           return conv1d_ln(v[0], v[1], Tensor(), Tensor(), Tensor(), v[2], false);
         },
         {leaf({2, 56, 128}, gen), leaf({1, 128, 256}, gen), leaf({2, 56, 256}, gen)}, 1e-4);
  parity("layer_norm", [](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2]); },
         {leaf({4, 500, 64}, gen, -2, 2), leaf({64}, gen), leaf({64}, gen)}, 1e-4);
  parity("layer_norm C=256", [](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2]); },
         {leaf({2, 56, 256}, gen, -2, 2), leaf({256}, gen), leaf({256}, gen)}, 1e-4);
  parity("maxpool2", [](const std::vector<Tensor>& v) { return maxpool2(v[0]); },
         {leaf({4, 301, 16}, gen)}, 1e-5);
  const int64_t B = 8, T = 12, In = 24, H = 32;
  parity("gru",
         [](const std::vector<Tensor>& v) { return gru(v[0], v[1], v[2], v[3], v[4], v[5]); },
         {leaf({B, T, In}, gen), leaf({B, H}, gen), leaf({3 * H, In}, gen, -0.3, 0.3),
          leaf({3 * H, H}, gen, -0.3, 0.3), leaf({3 * H}, gen), leaf({3 * H}, gen)},
         1e-4);
  parity("gru no h0",
         [](const std::vector<Tensor>& v) { return gru(v[0], Tensor(), v[1], v[2], v[3], v[4]); },
         {leaf({B, T, In}, gen), leaf({3 * H, In}, gen, -0.3, 0.3),
          leaf({3 * H, H}, gen, -0.3, 0.3), leaf({3 * H}, gen), leaf({3 * H}, gen)},
         1e-4);
  parity("mog_logpdf",
         [](const std::vector<Tensor>& v) { return mog_logpdf(v[0], v[1], v[2], v[3]); },
         {leaf({64, 7}, gen, -2, 2), leaf({64, 7, 8}, gen, -2, 2), leaf({64, 7, 8}, gen, -2, 2),
          leaf({64, 7, 8}, gen, -1, 0.5)},
         1e-4);
}

TEST(CudaParity, AdamUpdate) {
  SKIP_WITHOUT_CUDA();
  Generator gen(11);
  const Tensor p = randn({5000}, gen), g = randn({5000}, gen), m = randn({5000}, gen) * 0.1,
               v = rand({5000}, gen) * 0.01;
  std::vector<Tensor> cpu = {p.to(DType::F64).to(DType::F32), m.to(DType::F64).to(DType::F32),
                             v.to(DType::F64).to(DType::F32)};
  std::vector<Tensor> gpu = {p.to(Device::CUDA), m.to(Device::CUDA), v.to(Device::CUDA)};
  adam_update(cpu[0], g, cpu[1], cpu[2], 0.9, 0.999, 1e-8, 0.01, 1e-3, 1.2);
  adam_update(gpu[0], g.to(Device::CUDA), gpu[1], gpu[2], 0.9, 0.999, 1e-8, 0.01, 1e-3, 1.2);
  for (int k = 0; k < 3; ++k) expect_close(cpu[k].to_f32(), gpu[k].to_f32(), 1e-6, "adam_update");
  // With a clipping factor applied in the pass.
  adam_update(cpu[0], g, cpu[1], cpu[2], 0.9, 0.999, 1e-8, 0.01, 1e-3, 1.2, 0.37);
  adam_update(gpu[0], g.to(Device::CUDA), gpu[1], gpu[2], 0.9, 0.999, 1e-8, 0.01, 1e-3, 1.2, 0.37);
  for (int k = 0; k < 3; ++k) expect_close(cpu[k].to_f32(), gpu[k].to_f32(), 1e-6, "adam_update scaled");
}

TEST(CudaParity, ShapeOps) {
  SKIP_WITHOUT_CUDA();
  Generator gen(5);
  parity("slice", [](const std::vector<Tensor>& v) { return slice(v[0], 1, 3, 40); },
         {leaf({5, 50, 7}, gen)}, 1e-5);
  parity("concat", [](const std::vector<Tensor>& v) { return concat({v[0], v[1]}, 2); },
         {leaf({5, 6, 7}, gen), leaf({5, 6, 3}, gen)}, 1e-5);
  parity("index_select", [](const std::vector<Tensor>& v) { return index_select(v[0], 1, {4, 0, 0, 3, 2}); },
         {leaf({5, 6, 7}, gen)}, 1e-5);
  parity("transpose", [](const std::vector<Tensor>& v) { return transpose(v[0], 0, 2); },
         {leaf({5, 6, 7}, gen)}, 1e-5);
  parity("reshape", [](const std::vector<Tensor>& v) { return v[0].reshape({30, 7}) * 2.0; },
         {leaf({5, 6, 7}, gen)}, 1e-5);
}

TEST(CudaParity, RandomStreamsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  Generator c(9), g(9);
  EXPECT_EQ(rand({10000}, c).to_f32(), rand({10000}, g, Device::CUDA).to_f32());
  expect_close(randn({10000}, c).to_f32(), randn({10000}, g, Device::CUDA).to_f32(), 1e-6,
               "randn");
  Generator g2(9);
  rand({10000}, g2, Device::CUDA);
  EXPECT_EQ(randn({100}, g2, Device::CUDA).to_f32(), [] {
    Generator g3(9);
    rand({10000}, g3, Device::CUDA);
    return randn({100}, g3, Device::CUDA).to_f32();
  }());
}

TEST(CudaParity, PoolReusesMemory) {
  SKIP_WITHOUT_CUDA();
  { Tensor a = Tensor::zeros({1 << 20}, DType::F32, Device::CUDA); }
  const auto before = kernels::device_pool_stats();
  { Tensor a = Tensor::zeros({1 << 20}, DType::F32, Device::CUDA); }
  const auto after = kernels::device_pool_stats();
  EXPECT_EQ(after.cached, before.cached);  // the cached block was reused, nothing new allocated
  EXPECT_GE(after.cached, size_t(4) << 20);
}

}  // namespace
}  // namespace lensflow::ad
