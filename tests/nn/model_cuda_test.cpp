// CUDA twin of the posterior model: a tiny model copied to the device must give the CPU's
// log-densities, gradients, Adam updates and (for the same generator) samples (checkpoints moving
// between devices: tests/io/checkpoint_test.cpp). Skipped without a CUDA build or device.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/ops.hpp"
#include "nn/adam.hpp"
#include "nn/posterior_model.hpp"
#include "tests/gpu_required.hpp"

namespace lensflow::nn {
namespace {

void expect_close(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                  double atol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], atol + rtol * std::fabs(a[i])) << what << " [" << i << "]";
}

TEST(ModelCuda, MatchesCpuTwin) {
  LENSFLOW_SKIP_WITHOUT_GPU(ad::cuda_available()) << "no CUDA build or no CUDA device: CPU/CUDA parity not checked";
  const PosteriorConfig cfg = PosteriorConfig::tiny(32, 4);
  PosteriorModel cpu(cfg), gpu(cfg);
  gpu.to(ad::Device::CUDA);
  ad::Generator gen(1);
  ad::Tensor x = ad::randn({6, 32, 1}, gen), th = ad::randn({6, 4}, gen);
  ad::Tensor xg = x.to(ad::Device::CUDA), thg = th.to(ad::Device::CUDA);

  // Tolerances: float32 with different summation orders (cuBLAS vs OpenBLAS).
  expect_close(cpu.log_prob(x, th).to_f32(), gpu.log_prob(xg, thg).to_f32(), 1e-4, 1e-4, "log_prob");
  Adam ac(cpu.parameters()), ag(gpu.parameters());
  for (int step = 0; step < 2; ++step) {
    ac.zero_grad();
    ag.zero_grad();
    ad::backward(cpu.loss(x, th));
    ad::backward(gpu.loss(xg, thg));
    const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
    for (size_t i = 0; i < pc.size(); ++i)
      expect_close(pc[i].second.grad().to_f32(), pg[i].second.grad().to_f32(), 1e-3, 1e-5,
                   "grad " + pc[i].first);
    ac.step();
    ag.step();
  }
  const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  for (size_t i = 0; i < pc.size(); ++i)
    expect_close(pc[i].second.to_f32(), pg[i].second.to_f32(), 1e-4, 1e-5, "param " + pc[i].first);

  ad::Generator sc(7), sg(7);
  expect_close(cpu.sample(x, 16, sc).to_f32(), gpu.sample(xg, 16, sg).to_f32(), 1e-3, 1e-3, "samples");
  EXPECT_EQ(sc.offset(), sg.offset());
}

}  // namespace
}  // namespace lensflow::nn
