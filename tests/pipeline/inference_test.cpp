// Batched posterior sampling: a tiny model trained on the synthetic problem
// (tests/pipeline/synthetic_source.hpp) must give each event a posterior around its own truth
// (events never mixed), results independent of how events are batched, bounded redraws with an
// honest acceptance when a support rejects draws, and log_q consistent with the model's density.
#include "pipeline/inference.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "core/thread_pool.hpp"
#include "io/checkpoint.hpp"
#include "pipeline/trainer.hpp"
#include "synthetic_source.hpp"
#include "tests/gpu_required.hpp"

using namespace lensflow;
using namespace lensflow::pipeline;
using lensflow::testing::SyntheticSource;

namespace {

constexpr int64_t L = 16;

class TrainedTiny : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = "/tmp/lensflow_inference_" + std::to_string(getpid());
    std::system(("rm -rf " + dir_).c_str());
    SyntheticSource train(512, L, 1), val(128, L, 2);
    TrainerOptions o;
    o.epochs = 8;
    o.batch_size = 32;
    o.lr = 3e-3;
    o.seed = 5;
    trainer_ = new Trainer(nn::PosteriorConfig::tiny(L, 2), train, &val, o, dir_);
    trainer_->run();
  }
  static void TearDownTestSuite() {
    delete trainer_;
    std::system(("rm -rf " + dir_).c_str());
  }
  static const nn::PosteriorModel& model() { return trainer_->model(); }
  // Standardized = physical here.
  static ThetaTransform identity() { return {{0.0, 0.0}, {1.0, 1.0}}; }

  static inline Trainer* trainer_ = nullptr;
  static inline std::string dir_;
};

// Three held-out events realized at epoch 0: x [3, L, 1], truths [3, 2].
void three_events(std::vector<float>& x, std::vector<float>& th) {
  SyntheticSource src(64, L, 9);
  const int64_t pos[3] = {0, 1, 2};
  x.resize(3 * L);
  th.resize(6);
  src.realize(pos, 3, 0, x.data(), th.data());
}

}  // namespace

TEST_F(TrainedTiny, EachEventGetsItsOwnPosterior) {
  std::vector<float> x, th;
  three_events(x, th);
  SamplingOptions o;
  o.n_samples = 400;
  const auto s = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  ASSERT_EQ(s.theta.size(), 3u * 400 * 2);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(s.n_valid[e], 400);
    EXPECT_EQ(s.acceptance[e], 1.0);
    for (int d = 0; d < 2; ++d) {
      double m = 0, v = 0;
      for (int k = 0; k < 400; ++k) m += s.theta[(e * 400 + k) * 2 + d];
      m /= 400;
      for (int k = 0; k < 400; ++k) v += std::pow(s.theta[(e * 400 + k) * 2 + d] - m, 2);
      const double sd = std::sqrt(v / 399);
      // The data pin θ to ~0.1/√8 per dimension; a tiny, briefly trained model is much wider,
      // but its posterior must sit on this event's truth, not on the others' (prior sd = 1).
      EXPECT_LT(std::fabs(m - th[e * 2 + d]), 3.0 * sd) << "event " << e << " dim " << d;
      EXPECT_LT(sd, 0.7) << "event " << e << " dim " << d;
      for (int o = 0; o < 3; ++o)  // the other events' truths, when far, are far from this posterior
        if (std::fabs(th[o * 2 + d] - th[e * 2 + d]) > 1.5)
          EXPECT_GT(std::fabs(m - th[o * 2 + d]), std::fabs(m - th[e * 2 + d])) << e << " vs " << o;
    }
  }
}

TEST_F(TrainedTiny, SamplesDoNotDependOnBatching) {
  std::vector<float> x, th;
  three_events(x, th);
  SamplingOptions o;
  o.n_samples = 50;
  o.batch_obs = 3;
  const auto all = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  o.batch_obs = 1;
  const auto one = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  // Event 2 alone, told its global index.
  const auto last = sample_posterior(model(), x.data() + 2 * L, 1, identity(), {}, o, 2);
  // On the CPU each event is computed in the same shapes whatever its batch: the same bits.
  EXPECT_EQ(all.theta, one.theta);
  EXPECT_EQ(all.log_q, one.log_q);
  for (size_t i = 0; i < last.theta.size(); ++i) ASSERT_EQ(last.theta[i], all.theta[2 * 50 * 2 + i]) << i;
  // And whatever the thread count.
  const int threads = core::num_threads();
  core::set_num_threads(threads == 1 ? 3 : 1);
  const auto other_threads = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  core::set_num_threads(threads);
  EXPECT_EQ(other_threads.theta, all.theta);
  EXPECT_EQ(other_threads.log_q, all.log_q);
  // Another seed: other samples.
  o.seed = 1;
  EXPECT_NE(sample_posterior(model(), x.data(), 3, identity(), {}, o).theta[0], one.theta[0]);
}

TEST_F(TrainedTiny, SupportRejectionIsBoundedAndReportsAcceptance) {
  std::vector<float> x, th;
  three_events(x, th);
  SamplingOptions o;
  o.n_samples = 200;
  o.max_redraws = 3;
  // Nothing is ever accepted: exactly (1 + max_redraws) rounds, NaN rows, acceptance 0.
  const auto none = sample_posterior(model(), x.data(), 3, identity(), [](const double*) { return false; }, o);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(none.n_drawn[e], 4 * 200);
    EXPECT_EQ(none.n_valid[e], 0);
    EXPECT_EQ(none.acceptance[e], 0.0);
  }
  EXPECT_TRUE(std::isnan(none.theta[0]));
  // A half-plane support θ0 > m_e(event-dependent): the acceptance equals the in-support share of
  // an unrestricted draw with the same random numbers (round 0), and kept samples obey it.
  const auto free_draw = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  const double cut = free_draw.theta[0];  // some value inside event 0's posterior
  const auto half = sample_posterior(model(), x.data(), 3, identity(),
                                     [cut](const double* t) { return t[0] > cut; }, o);
  int64_t above = 0;
  for (int k = 0; k < 200; ++k) above += free_draw.theta[k * 2] > cut;
  EXPECT_GE(half.n_drawn[0], 200);
  EXPECT_LE(half.n_drawn[0], 800);
  EXPECT_EQ(half.n_drawn[0] % 200, 0);
  if (half.n_drawn[0] == 200) EXPECT_EQ(half.acceptance[0], above / 200.0);
  for (int k = 0; k < half.n_valid[0]; ++k) EXPECT_GT(half.theta[k * 2], cut);
  EXPECT_NEAR(half.acceptance[0], above / 200.0, 0.15);
}

TEST_F(TrainedTiny, LogQMatchesTheModelDensityOfEachSample) {
  std::vector<float> x, th;
  three_events(x, th);
  SamplingOptions o;
  o.n_samples = 5;
  ThetaTransform tf{{0.5, -1.0}, {2.0, 0.5}};  // a non-trivial transform: log q shifts by −Σ log std
  const auto s = sample_posterior(model(), x.data(), 3, tf, {}, o);
  for (int e = 0; e < 3; ++e)
    for (int k = 0; k < 5; ++k) {
      const double t[2] = {s.theta[(e * 5 + k) * 2], s.theta[(e * 5 + k) * 2 + 1]};
      const double lq = log_q_at(model(), x.data() + e * L, 1, t, tf)[0];
      EXPECT_NEAR(lq, s.log_q[e * 5 + k], 2e-3) << e << "," << k;
    }
}

TEST(ThetaMarginals, PriorDensitiesIntegrateToOne) {
  const auto specs = theta_marginals(sim::PriorBox{});
  ASSERT_EQ(specs.size(), 8u);
  for (const auto& s : specs) {
    double sum = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) sum += s.prior_pdf(s.lo + (i + 0.5) * (s.hi - s.lo) / n);
    EXPECT_NEAR(sum * (s.hi - s.lo) / n, 1.0, 1e-6) << s.name;
  }
}

// CUDA twin: the same checkpoint on the GPU draws the same samples (same counters; normals agree to
// the rounding of the device's log/cos, amplified a little by the flow's inverse).
TEST_F(TrainedTiny, CudaSamplesMatchCpu) {
  LENSFLOW_SKIP_WITHOUT_GPU(ad::cuda_available()) << "built without CUDA or no CUDA device visible";
  nn::PosteriorModel gpu(model().config());
  io::load_checkpoint(trainer_->checkpoint_path(), gpu);
  gpu.to(ad::Device::CUDA);
  std::vector<float> x, th;
  three_events(x, th);
  SamplingOptions o;
  o.n_samples = 100;
  const auto c = sample_posterior(model(), x.data(), 3, identity(), {}, o);
  const auto g = sample_posterior(gpu, x.data(), 3, identity(), {}, o);
  for (size_t i = 0; i < c.theta.size(); ++i) ASSERT_NEAR(g.theta[i], c.theta[i], 5e-3) << i;
  for (size_t i = 0; i < c.log_q.size(); ++i) ASSERT_NEAR(g.log_q[i], c.log_q[i], 5e-3) << i;
}
