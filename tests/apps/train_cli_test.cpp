// lensflow-train as a program: bad options fail with a clear message; a real (tiny) run writes
// its checkpoint, setup and log, and rerunning the same command continues instead of restarting;
// a run directory that is the data, non-finite checkpoints, dead runs' temporary files, a log path
// in the way and a full disk; best.h5's history after an interrupted run.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_util.hpp"
#include "io/checkpoint.hpp"
#include "io/run_setup.hpp"
#include "tests/pipeline/synthetic_source.hpp"

using namespace lensflow::testing;

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!app_exists("train")) GTEST_FAIL() << app_path("train") << " is not built";
  }
};

TEST_F(TrainCli, BadOptionsFailWithAMessage) {
  auto r = run_app("train", "--out /tmp/x");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--data"), std::string::npos) << r.output;
  r = run_app("train", "--data /nonexistent_dir_lensflow --out /tmp/lensflow_never");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
  r = run_app("train", "--data . --out /tmp/x --config huge");
  EXPECT_NE(r.status, 0);
  r = run_app("train", "--data . --out /tmp/x --epochs 0");
  EXPECT_NE(r.status, 0);
}

TEST_F(TrainCli, TinyRunWritesFilesAndResumes) {
  const std::string dir = scratch_dir("train");
  write_tiny_dataset(dir + "/data", 24, 3);
  const std::string args = "--data " + dir + "/data --out " + dir + "/run --epochs 2 --batch 8 --threads 2 "
                           "--test-fraction 0.2 --val-fraction 0.2 --quiet --max-minutes 0";
  auto r = run_app("train", args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("final: train NLL"), std::string::npos) << r.output;
  for (const char* f : {"checkpoint.h5", "best.h5", "setup.h5", "log.csv"})
    EXPECT_TRUE(std::ifstream(dir + "/run/" + f).good()) << f;
  std::ifstream log(dir + "/run/log.csv");
  std::string header, row;
  std::getline(log, header);
  EXPECT_EQ(header, "epoch,train_nll,val_nll,lr,seconds");
  int rows = 0;
  while (std::getline(log, row)) ++rows;
  EXPECT_EQ(rows, 2);
  // The same command again: already finished, nothing retrained.
  r = run_app("train", args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from step"), std::string::npos) << r.output;
  // Other epochs on the same run directory are refused (the schedule would change).
  r = run_app("train", "--data " + dir + "/data --out " + dir + "/run --epochs 3 --batch 8 --quiet "
              "--test-fraction 0.2 --val-fraction 0.2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("total steps"), std::string::npos) << r.output;
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(TrainCli, ARunDirectoryThatIsTheDataIsRefused) {
  const std::string dir = scratch_dir("train_overlap");
  write_tiny_dataset(dir + "/data", 24, 3);
  const auto r = run_app("train", "--data " + dir + "/data --out " + dir + "/data/../data --epochs 1 --quiet");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is the --data directory"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(dir + "/data/setup.h5").good());
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(TrainCli, ResumeRefusesNonFiniteWeightsAndCleansDeadRunsTemporaries) {
  const std::string dir = scratch_dir("train_nan");
  write_tiny_dataset(dir + "/data", 24, 3);
  const std::string args = "--data " + dir + "/data --out " + dir + "/run --batch 8 --threads 2 "
                           "--test-fraction 0.2 --val-fraction 0.2 --quiet";
  ASSERT_EQ(run_app("train", args + " --epochs 1").status, 0);
  // Temporary files of a run killed while writing (SIGKILL) are removed by the next run.
  const std::string stale = dir + "/run/" + stale_temp_name("best.h5", dead_pid());
  std::ofstream(stale) << "partial";
  std::system(("cp " + dir + "/run/checkpoint.h5 " + dir + "/good.h5").c_str());
  // A diverged checkpoint (NaN weights): resuming is refused, naming the tensor.
  const std::string tensor = poison_first_dataset(dir + "/run/checkpoint.h5", "params");
  ASSERT_FALSE(tensor.empty());
  auto r = run_app("train", args + " --epochs 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("'" + tensor + "' holds a non-finite value"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(stale).good()) << "stale temporary file kept";
  // log.csv in the way (a directory): the run fails before any checkpoint is written.
  std::system(("rm -rf " + dir + "/run2 && mkdir -p " + dir + "/run2/log.csv").c_str());
  r = run_app("train", "--data " + dir + "/data --out " + dir + "/run2 --batch 8 --threads 2 --test-fraction 0.2 "
                       "--val-fraction 0.2 --quiet --epochs 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("log.csv: is a directory"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(dir + "/run2/checkpoint.h5").good()) << "checkpoint written without its log";
  EXPECT_TRUE(temp_files_in(dir + "/run2").empty());
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(TrainCli, AFullDiskStopsWithAnErrorAndAnIntactRunDirectory) {
  const std::string disk = std::string(LENSFLOW_BINARY_DIR) + "/test_tmp/train_full_disk";
  if (!mount_small_disk(disk, "1m")) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const std::string dir = scratch_dir("train_full");
  write_tiny_dataset(dir + "/data", 24, 3);
  // The checkpoint of the small model takes 1.1 MB: it cannot fit.
  const auto r = run_app("train", "--data " + dir + "/data --out " + disk + "/run --epochs 1 --batch 8 --threads 2 "
                                  "--test-fraction 0.2 --val-fraction 0.2 --quiet");
  EXPECT_EQ(r.status, 1) << r.output;  // not 139 (SIGSEGV at exit)
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_TRUE(temp_files_in(disk + "/run").empty());
  EXPECT_NO_THROW(lensflow::io::read_run_setup(disk + "/run/setup.h5"));  // complete
  EXPECT_FALSE(std::ifstream(disk + "/run/checkpoint.h5").good());
  unmount_small_disk(disk);
  std::system(("rm -rf " + dir).c_str());
}

TEST(TrainerFiles, BestModelHistoryEndsAtItsEpochAfterAnInterruption) {
  // 2 batches per epoch; the first run stops after 3 steps (in the middle of epoch 2), the second
  // finishes. best.h5 must hold the history up to its own epoch, not the one of the last save.
  lensflow::testing::SyntheticSource train(64, 16, 1), val(64, 16, 2);
  const std::string dir = scratch_dir("best_history");
  lensflow::pipeline::TrainerOptions o;
  o.epochs = 4;
  o.batch_size = 32;
  o.lr = 3e-3;
  o.seed = 11;
  o.max_steps = 3;
  const auto cfg = lensflow::nn::PosteriorConfig::tiny(16, 2);
  ASSERT_FALSE(lensflow::pipeline::Trainer(cfg, train, &val, o, dir).run().completed);
  o.max_steps = 0;
  const auto out = lensflow::pipeline::Trainer(cfg, train, &val, o, dir).run();
  ASSERT_TRUE(out.completed);
  lensflow::nn::PosteriorModel m(cfg);
  lensflow::io::TrainState best;
  lensflow::io::load_checkpoint(dir + "/best.h5", m, nullptr, &best);
  ASSERT_GE(best.epoch, 1);
  std::vector<double> want;
  for (int64_t e = 0; e < best.epoch; ++e) {
    const auto& r = out.history[size_t(e)];
    want.insert(want.end(), {double(r.epoch), r.train_nll, r.val_nll, r.lr, r.seconds});
  }
  want.insert(want.end(), {0.0, 0.0, 0.0, 0.0});  // no epoch in progress
  ASSERT_EQ(best.history.size(), want.size());
  EXPECT_EQ(best.history, want);
  EXPECT_EQ(best.best_val_loss, out.history[size_t(best.epoch - 1)].val_nll);
  std::system(("rm -rf " + dir).c_str());
}
