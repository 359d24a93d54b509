// The realized training data: a sample depends only on (position, epoch) — not on the batch it is
// realized in —, epochs differ, θ comes back standardized with the prior's moments.
#include "pipeline/training_data.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "io/h5file.hpp"
#include "kernels/device.hpp"
#include "tests/apps/cli_util.hpp"
#include "tests/gpu_required.hpp"

using namespace lensflow;
using namespace lensflow::pipeline;

TEST(RealizedDataset, SamplesDependOnlyOnPositionAndEpoch) {
  const std::string dir = lensflow::testing::scratch_dir("realized");
  lensflow::testing::write_tiny_dataset(dir, 6, 2);
  const io::DatasetReader data(dir);
  RealizedDataset src(data, {0, 1, 2, 3, 4, 5}, realization_for(data), 7, 2);
  ASSERT_EQ(src.length(), 7200);
  ASSERT_EQ(src.dim(), 8);
  const int64_t pair[2] = {3, 1}, one[1] = {1};
  std::vector<float> x2(2 * 7200), t2(16), x1(7200), t1(8), x1e(7200), t1e(8);
  std::vector<double> phys(8);
  src.realize(pair, 2, 0, x2.data(), t2.data());
  src.realize_full(one, 1, 0, x1.data(), t1.data(), phys.data(), nullptr);
  for (int j = 0; j < 7200; ++j) ASSERT_EQ(x1[j], x2[7200 + j]) << j;
  for (int d = 0; d < 8; ++d) EXPECT_EQ(t1[d], t2[8 + d]);
  // Standardized θ = (θ − mean)/std with the prior's analytic moments; s and q are the event's.
  const auto st = sim::theta_standardization(sim::PriorBox{});
  for (int d = 0; d < 8; ++d) EXPECT_NEAR(t1[d], (phys[d] - st.mean[d]) / st.std[d], 1e-5) << d;
  EXPECT_NEAR(phys[0], std::log10(data.theta_raw(1)[0]), 1e-12);
  EXPECT_NEAR(phys[1], std::log10(data.theta_raw(1)[1]), 1e-12);
  // Another epoch: another window / noise.
  src.realize(one, 1, 1, x1e.data(), t1e.data());
  EXPECT_NE(x1e, x1);
  std::system(("rm -rf " + dir).c_str());
}

// The GPU realization of a resident dataset (what the trainer uses with the model on the GPU)
// gives the host's samples for the same positions and epoch, repeated positions included.
TEST(RealizedDataset, DeviceRealizationMatchesHost) {
  LENSFLOW_SKIP_WITHOUT_GPU(kernels::cuda_device_available())
      << "no CUDA build or no GPU: device realization not checked";
  const std::string dir = lensflow::testing::scratch_dir("realized_device");
  lensflow::testing::write_tiny_dataset(dir, 6, 2);
  const io::DatasetReader data(dir);
  RealizedDataset src(data, {5, 0, 2, 3}, realization_for(data), 7, 2);
  ASSERT_TRUE(src.prepare_device());
  const int64_t pos[5] = {3, 1, 3, 0, 2};
  const int64_t n = 5, W = src.length(), D = src.dim();
  std::vector<float> xh(n * W), th(n * D), xd(n * W), td(n * D);
  for (uint64_t epoch : {0u, 4u}) {
    src.realize(pos, n, epoch, xh.data(), th.data());
    void* d_pos = kernels::device_alloc(sizeof(pos));
    void* d_x = kernels::device_alloc(xd.size() * sizeof(float));
    void* d_t = kernels::device_alloc(td.size() * sizeof(float));
    kernels::copy_host_to_device(d_pos, pos, sizeof(pos));
    src.realize_on_device(static_cast<const int64_t*>(d_pos), n, epoch, static_cast<float*>(d_x),
                          static_cast<float*>(d_t));
    kernels::copy_device_to_host(xd.data(), d_x, xd.size() * sizeof(float));
    kernels::copy_device_to_host(td.data(), d_t, td.size() * sizeof(float));
    for (void* p : {d_pos, d_x, d_t}) kernels::device_free(p);
    // Same code on both sides; libm ulp differences may move the last float bits.
    for (size_t i = 0; i < xh.size(); ++i) ASSERT_NEAR(xd[i], xh[i], 1e-5) << "epoch " << epoch << " " << i;
    for (size_t i = 0; i < th.size(); ++i) EXPECT_NEAR(td[i], th[i], 1e-6) << "epoch " << epoch << " " << i;
  }
  std::system(("rm -rf " + dir).c_str());
}
