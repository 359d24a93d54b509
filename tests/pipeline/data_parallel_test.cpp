// Data-parallel training (pipeline/trainer.hpp, docs/mpi.md) under `mpirun -n 2` on a tiny model:
// the loss trajectory and the final parameters match one process training on the same global
// batches (within float reassociation), every process holds the same parameters bit for bit, an
// interrupted run resumed with the same number of processes reproduces the uninterrupted one
// exactly, and resuming with another number is refused with the reason. Also: the batch loader's
// parts of a batch are the whole batch's samples, in order, whoever realizes them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "dist/comm.hpp"
#include "pipeline/trainer.hpp"
#include "synthetic_source.hpp"
#include "tests/mpi_env.hpp"

using namespace lensflow;
using namespace lensflow::pipeline;
using lensflow::testing::SyntheticSource;

namespace {

constexpr int64_t L = 16;

TrainerOptions options(const dist::Comm& comm) {
  TrainerOptions o;
  o.epochs = 3;
  o.batch_size = 31;  // odd: the two parts differ in size, so the weighting by share matters
  o.lr = 3e-3;
  o.clip = 0.5;       // small enough to clip, so the norm must be the whole batch's
  o.seed = 5;
  o.eval_batch = 40;
  o.comm = &comm;
  return o;
}

// A directory name all ranks agree on (rank 0's pid), emptied by rank 0 before anyone uses it.
std::string shared_dir(const std::string& tag) {
  const dist::Comm& c = dist::world();
  std::string d = "/tmp/lensflow_dp_" + std::to_string(getpid()) + "_" + tag;
  std::vector<char> b(d.begin(), d.end());
  c.broadcast(b, 0);
  d.assign(b.begin(), b.end());
  if (c.is_root()) std::system(("rm -rf " + d).c_str());
  c.barrier();
  return d;
}

std::vector<float> all_parameters(const nn::PosteriorModel& m) {
  std::vector<float> v;
  for (const auto& p : m.parameters()) {
    const auto x = p.to_f32();
    v.insert(v.end(), x.begin(), x.end());
  }
  return v;
}

}  // namespace

TEST(BatchParts, PartsOfABatchAreTheWholeBatchInOrder) {
  SyntheticSource src(100, L, 3);
  const int64_t B = 31;
  BatchLoader whole(src, B, 9, 2);
  whole.start_epoch(1);
  std::vector<Batch> ref;
  for (Batch b; whole.next(b);) ref.push_back(b);
  for (int parts : {2, 3}) {
    std::vector<std::vector<Batch>> got(static_cast<size_t>(parts));
    for (int p = 0; p < parts; ++p) {
      BatchLoader l(src, B, 9, 2, p, parts);
      EXPECT_EQ(l.part_offset(), dist::share(B, p, parts).lo);
      l.start_epoch(1);
      for (Batch b; l.next(b);) got[size_t(p)].push_back(b);
      ASSERT_EQ(got[size_t(p)].size(), ref.size());
    }
    for (size_t k = 0; k < ref.size(); ++k) {
      std::vector<float> x, th;
      for (int p = 0; p < parts; ++p) {
        x.insert(x.end(), got[size_t(p)][k].x.begin(), got[size_t(p)][k].x.end());
        th.insert(th.end(), got[size_t(p)][k].theta.begin(), got[size_t(p)][k].theta.end());
      }
      EXPECT_EQ(x, ref[k].x) << "batch " << k;
      EXPECT_EQ(th, ref[k].theta) << "batch " << k;
    }
  }
  EXPECT_THROW(BatchLoader(src, 2, 9, 2, 2, 3), std::invalid_argument);  // 2 samples: part 2 of 3 is empty
}

// Two processes or more, one thread each, a tiny model and problem.
class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    LENSFLOW_REQUIRE_RANKS();
    core::set_num_threads(1);
  }
  const dist::Comm& world = dist::world();
  SyntheticSource train{124, L, 1}, val{80, L, 2};
  const nn::PosteriorConfig cfg = nn::PosteriorConfig::tiny(L, 2);
};

TEST_F(DataParallel, MatchesOneProcessOnTheSameGlobalBatches) {
  const std::string dir = shared_dir("match");

  Trainer parallel(cfg, train, &val, options(world), dir + "/parallel");
  const TrainOutcome p = parallel.run();
  ASSERT_TRUE(p.completed);
  Trainer single(cfg, train, &val, options(dist::self()), dir + "/single_" + std::to_string(world.rank()));
  const TrainOutcome s = single.run();
  ASSERT_TRUE(s.completed);

  ASSERT_EQ(p.step_losses.size(), s.step_losses.size());
  ASSERT_EQ(p.step_losses.size(), 12u);  // 4 batches of 31 per epoch
  for (size_t k = 0; k < s.step_losses.size(); ++k)
    EXPECT_NEAR(p.step_losses[k], s.step_losses[k], 1e-4 * std::fabs(s.step_losses[k])) << "step " << k;
  for (size_t e = 0; e < s.history.size(); ++e)
    EXPECT_NEAR(p.history[e].val_nll, s.history[e].val_nll, 1e-4 * std::fabs(s.history[e].val_nll));
  const auto wp = all_parameters(parallel.model()), ws = all_parameters(single.model());
  double diff = 0.0, norm = 0.0;
  for (size_t k = 0; k < wp.size(); ++k) {
    diff = std::max(diff, double(std::fabs(wp[k] - ws[k])));
    norm = std::max(norm, double(std::fabs(ws[k])));
  }
  EXPECT_LT(diff, 1e-4 * norm);
  // Every process took the same steps: its parameters are rank 0's bit for bit.
  std::vector<char> b(reinterpret_cast<const char*>(wp.data()), reinterpret_cast<const char*>(wp.data() + wp.size()));
  world.broadcast(b, 0);
  EXPECT_EQ(0, std::memcmp(b.data(), wp.data(), b.size()));
  world.barrier();
  if (world.is_root()) std::system(("rm -rf " + dir).c_str());
}

TEST_F(DataParallel, ResumesExactlyWithTheSameProcessCountAndRefusesAnother) {
  const std::string dir = shared_dir("resume");
  const TrainOutcome full = Trainer(cfg, train, &val, options(world), dir + "/full").run();
  ASSERT_TRUE(full.completed);
  TrainerOptions o = options(world);
  o.max_steps = 6;  // stops in the middle of epoch 2
  const TrainOutcome first = Trainer(cfg, train, &val, o, dir + "/split").run();
  ASSERT_FALSE(first.completed);
  o.max_steps = 0;
  const TrainOutcome rest = Trainer(cfg, train, &val, o, dir + "/split").run();
  ASSERT_TRUE(rest.completed);
  EXPECT_TRUE(rest.resumed);
  std::vector<double> joined = first.step_losses;
  joined.insert(joined.end(), rest.step_losses.begin(), rest.step_losses.end());
  EXPECT_EQ(joined, full.step_losses);
  world.barrier();
  if (world.is_root()) {
    try {
      Trainer(cfg, train, &val, options(dist::self()), dir + "/split").run();
      ADD_FAILURE() << "a 2-process checkpoint resumed in 1 process";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("trained by 2 process(es), this run has 1"), std::string::npos) << e.what();
    }
    std::system(("rm -rf " + dir).c_str());
  }
  world.barrier();
}
