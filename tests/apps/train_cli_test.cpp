// lensflow-train as a program: bad options fail with a clear message; a real (tiny) run writes
// its checkpoint, setup and log, and rerunning the same command continues instead of restarting.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_util.hpp"

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
