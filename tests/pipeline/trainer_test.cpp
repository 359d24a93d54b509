// The trainer on a tiny model and a tiny synthetic problem (tests/pipeline/synthetic_source.hpp):
// the loss decreases, the held-out NLL beats the prior's (known analytically), and a run
// interrupted twice — once in the middle of an epoch — and resumed from its checkpoints
// reproduces the uninterrupted loss trajectory exactly.
#include "pipeline/trainer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>

#include "core/thread_pool.hpp"
#include "io/checkpoint.hpp"
#include "kernels/device.hpp"
#include "synthetic_source.hpp"
#include "tests/gpu_required.hpp"

using namespace lensflow;
using namespace lensflow::pipeline;
using lensflow::testing::SyntheticSource;

namespace {

constexpr int64_t L = 16;

std::string fresh_dir(const std::string& name) {
  const std::string d = "/tmp/lensflow_trainer_" + std::to_string(getpid()) + "_" + name;
  std::system(("rm -rf " + d).c_str());
  return d;
}

TrainerOptions small_options(int64_t epochs) {
  TrainerOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.lr = 3e-3;
  o.clip = 5.0;
  o.seed = 11;
  o.eval_batch = 64;
  return o;
}

nn::PosteriorConfig tiny() { return nn::PosteriorConfig::tiny(L, 2); }

}  // namespace

TEST(Trainer, LossDecreasesAndBeatsThePriorOnHeldOutData) {
  SyntheticSource train(512, L, 1), val(256, L, 2);
  const std::string dir = fresh_dir("learn");
  Trainer t(tiny(), train, &val, small_options(8), dir);
  const double before = mean_nll(t.model(), val, 64);
  const TrainOutcome out = t.run();
  ASSERT_TRUE(out.completed);
  ASSERT_EQ(out.history.size(), 8u);
  EXPECT_EQ(out.skipped_steps, 0);
  EXPECT_LT(out.history.back().train_nll, out.history.front().train_nll);
  // Held-out NLL at the end below the prior's 2.485 nats by a clear margin (and below the start).
  EXPECT_LT(out.history.back().val_nll, SyntheticSource::prior_nll() - 0.5);
  EXPECT_LT(out.history.back().val_nll, before);
  EXPECT_NEAR(out.history.back().val_nll, mean_nll(t.model(), val, 64), 1e-5);
  // The cosine schedule ends at lr_min = 0.
  EXPECT_NEAR(out.history.back().lr, 0.0, 1e-12);
  // Files: checkpoint, best model, CSV log with a header and one row per epoch.
  std::ifstream log(dir + "/log.csv");
  std::string line;
  int rows = -1;
  while (std::getline(log, line)) ++rows;
  EXPECT_EQ(rows, 8);
  EXPECT_NO_THROW(io::read_checkpoint_config(dir + "/best.h5"));
  std::system(("rm -rf " + dir).c_str());
}

TEST(Trainer, ResumingReproducesTheUninterruptedTrajectoryExactly) {
  SyntheticSource train(160, L, 3), val(64, L, 4);  // 5 batches of 32 per epoch
  const std::string a = fresh_dir("whole"), b = fresh_dir("pieces");
  const TrainOutcome whole = Trainer(tiny(), train, &val, small_options(3), a).run();
  ASSERT_TRUE(whole.completed);
  ASSERT_EQ(whole.step_losses.size(), 15u);

  std::vector<double> losses;
  TrainerOptions o = small_options(3);
  o.max_steps = 3;  // stops in the middle of epoch 1
  TrainOutcome p1 = Trainer(tiny(), train, &val, o, b).run();
  EXPECT_FALSE(p1.completed);
  EXPECT_NE(p1.stop_reason.find("step budget"), std::string::npos);
  o.max_steps = 4;  // continues mid-epoch, stops in the middle of epoch 2
  TrainOutcome p2 = Trainer(tiny(), train, &val, o, b).run();
  EXPECT_TRUE(p2.resumed);
  EXPECT_EQ(p2.start_step, 3);
  o.max_steps = 0;
  TrainOutcome p3 = Trainer(tiny(), train, &val, o, b).run();
  EXPECT_TRUE(p3.completed);
  for (const auto* p : {&p1, &p2, &p3}) losses.insert(losses.end(), p->step_losses.begin(), p->step_losses.end());
  ASSERT_EQ(losses.size(), whole.step_losses.size());
  for (size_t i = 0; i < losses.size(); ++i) EXPECT_EQ(losses[i], whole.step_losses[i]) << "step " << i;
  ASSERT_EQ(p3.history.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(p3.history[e].train_nll, whole.history[e].train_nll) << "epoch " << e;
    EXPECT_EQ(p3.history[e].val_nll, whole.history[e].val_nll) << "epoch " << e;
  }
  // A finished run rerun does nothing more; other settings are refused with a clear message.
  const TrainOutcome again = Trainer(tiny(), train, &val, small_options(3), b).run();
  EXPECT_TRUE(again.completed);
  EXPECT_TRUE(again.step_losses.empty());
  try {
    Trainer(tiny(), train, &val, small_options(4), b).run();
    FAIL() << "different epochs accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("total steps"), std::string::npos) << e.what();
  }
  auto other = tiny();
  other.flow.hidden = 12;
  EXPECT_THROW(Trainer(other, train, &val, small_options(3), b).run(), std::runtime_error);
  std::system(("rm -rf " + a + " " + b).c_str());
}

// The CPU kernels split work by shape, never by thread count: one thread and three give the same
// trajectory bit for bit.
TEST(Trainer, TrajectoryIsTheSameForAnyThreadCount) {
  SyntheticSource train(96, L, 3), val(32, L, 4);
  const std::string a = fresh_dir("threads1"), b = fresh_dir("threads3");
  const int threads = core::num_threads();
  core::set_num_threads(1);
  const TrainOutcome one = Trainer(tiny(), train, &val, small_options(2), a).run();
  core::set_num_threads(3);
  const TrainOutcome three = Trainer(tiny(), train, &val, small_options(2), b).run();
  core::set_num_threads(threads);
  ASSERT_EQ(one.step_losses.size(), three.step_losses.size());
  for (size_t i = 0; i < one.step_losses.size(); ++i) EXPECT_EQ(one.step_losses[i], three.step_losses[i]) << i;
  EXPECT_EQ(one.history.back().val_nll, three.history.back().val_nll);
  std::system(("rm -rf " + a + " " + b).c_str());
}

TEST(Trainer, RefusesSourcesThatDoNotFitTheModel) {
  SyntheticSource wrong(64, L + 1, 5);
  EXPECT_THROW(Trainer(tiny(), wrong, nullptr, small_options(1), fresh_dir("bad")),
               std::invalid_argument);
}

TEST(Trainer, RefusesANanClippingBound) {
  SyntheticSource train(64, L, 5);
  TrainerOptions o = small_options(1);
  o.clip = std::nan("");
  EXPECT_THROW(Trainer(tiny(), train, nullptr, o, fresh_dir("nanclip")), std::invalid_argument);
}

// CUDA twin: the same run on the GPU follows the CPU loss trajectory (float32 round-off only; the
// first steps agree closely, later ones drift slowly as Adam amplifies rounding).
TEST(Trainer, CudaFollowsTheCpuTrajectory) {
  LENSFLOW_SKIP_WITHOUT_GPU(ad::cuda_available()) << "built without CUDA or no CUDA device visible";
  SyntheticSource train(160, L, 3), val(64, L, 4);
  const std::string a = fresh_dir("cpu"), b = fresh_dir("cuda");
  TrainerOptions o = small_options(1);
  const TrainOutcome cpu = Trainer(tiny(), train, &val, o, a).run();
  o.device = ad::Device::CUDA;
  const TrainOutcome gpu = Trainer(tiny(), train, &val, o, b).run();
  ASSERT_EQ(cpu.step_losses.size(), gpu.step_losses.size());
  for (size_t i = 0; i < cpu.step_losses.size(); ++i)
    EXPECT_NEAR(gpu.step_losses[i], cpu.step_losses[i], 1e-3 * (1.0 + std::fabs(cpu.step_losses[i]))) << i;
  EXPECT_NEAR(gpu.history[0].val_nll, cpu.history[0].val_nll, 1e-2);
  std::system(("rm -rf " + a + " " + b).c_str());
}

// A source that realizes "on the device" by reading the device positions back and uploading the
// host realization: the same samples, through the trainer's device path (positions uploaded per
// step, batch tensors written in place). Counts the device batches.
class DeviceSyntheticSource : public SyntheticSource {
 public:
  using SyntheticSource::SyntheticSource;
  bool prepare_device() const override { return true; }
  void realize_on_device(const int64_t* pos_dev, int64_t n, uint64_t epoch, float* x_dev,
                         float* theta_dev) const override {
    std::vector<int64_t> pos(size_t(n), -1);
    kernels::copy_device_to_host(pos.data(), pos_dev, pos.size() * sizeof(int64_t));
    std::vector<float> x(size_t(n * length())), th(size_t(n * dim()));
    realize(pos.data(), n, epoch, x.data(), th.data());
    kernels::copy_host_to_device(x_dev, x.data(), x.size() * sizeof(float));
    kernels::copy_host_to_device(theta_dev, th.data(), th.size() * sizeof(float));
    ++calls;
  }
  mutable int calls = 0;
};

// With a source that realizes on the device, the GPU run takes the device path for training and
// validation batches and still follows the CPU trajectory (same batches, same order).
TEST(Trainer, CudaDeviceRealizationFollowsTheCpuTrajectory) {
  LENSFLOW_SKIP_WITHOUT_GPU(ad::cuda_available()) << "built without CUDA or no CUDA device visible";
  SyntheticSource train(160, L, 3), val(64, L, 4);
  DeviceSyntheticSource dtrain(160, L, 3), dval(64, L, 4);
  const std::string a = fresh_dir("cpu_dr"), b = fresh_dir("cuda_dr");
  TrainerOptions o = small_options(1);
  const TrainOutcome cpu = Trainer(tiny(), train, &val, o, a).run();
  o.device = ad::Device::CUDA;
  const TrainOutcome gpu = Trainer(tiny(), dtrain, &dval, o, b).run();
  EXPECT_EQ(int64_t(dtrain.calls), gpu.end_step - gpu.start_step);
  EXPECT_GT(dval.calls, 0);
  ASSERT_EQ(cpu.step_losses.size(), gpu.step_losses.size());
  for (size_t i = 0; i < cpu.step_losses.size(); ++i)
    EXPECT_NEAR(gpu.step_losses[i], cpu.step_losses[i], 1e-3 * (1.0 + std::fabs(cpu.step_losses[i]))) << i;
  EXPECT_NEAR(gpu.history[0].val_nll, cpu.history[0].val_nll, 1e-2);
  std::system(("rm -rf " + a + " " + b).c_str());
}
