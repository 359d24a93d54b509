// The programs under `mpirun` (docs/mpi.md): lensflow-simulate with 2 processes writes the shards a
// single process writes, and a run interrupted (some shards done) is completed by 3 processes to
// the same dataset; lensflow-train with 2 processes follows the single process's loss trajectory,
// resumes with 2 and refuses 1 with the reason; lensflow-infer with 2 processes writes the single
// process's output (everything but the timing attribute) and summary, for a test set (refined by
// importance sampling) and for a file of light curves; an error ends every process
// (no hang). Skipped, with the reason, in a build without MPI.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.hpp"

using namespace lensflow::testing;

namespace {

#ifdef LENSFLOW_MPIRUN
constexpr bool kHaveMpi = true;
// `timeout`: a hang fails the test instead of the whole suite's time limit.
std::string mpirun(int n) {
  return std::string("timeout 300 ") + LENSFLOW_MPIRUN + " " + LENSFLOW_MPI_NP + " " + std::to_string(n) + " ";
}
#else
constexpr bool kHaveMpi = false;
std::string mpirun(int) { return ""; }
#endif

RunResult app(int ranks, const std::string& name, const std::string& args) {
  return run_command((ranks > 0 ? mpirun(ranks) : std::string()) + app_path(name) + " " + args);
}

// h5diff: 0 when the files hold the same objects, values and attributes.
RunResult h5diff(const std::string& a, const std::string& b) { return run_command("h5diff '" + a + "' '" + b + "'"); }

std::vector<double> column(const std::string& csv, int col) {
  std::vector<double> v;
  std::istringstream in(read_file(csv));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int c = 0; c <= col; ++c) std::getline(row, cell, ',');
    v.push_back(std::stod(cell));
  }
  return v;
}

class MpiCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kHaveMpi) GTEST_SKIP() << "built without MPI (LENSFLOW_ENABLE_MPI, libopenmpi-dev): no multi-process runs";
    for (const char* a : {"simulate", "train", "infer"})
      if (!app_exists(a)) GTEST_FAIL() << app_path(a) << " is not built";
  }
};

const std::string kSim = " --n-events 60 --events-per-shard 10 --point-source --n-t 2880 --dt 0.05 --seed 7 "
                         "--threads 1 --quiet";

}  // namespace

TEST_F(MpiCli, SimulateSharesShardsAndResumesWithAnyProcessCount) {
  const std::string dir = scratch_dir("mpi_sim");
  auto r = app(0, "simulate", "--out " + dir + "/one" + kSim);
  ASSERT_EQ(r.status, 0) << r.output;
  r = app(2, "simulate", "--out " + dir + "/two" + kSim);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 rank(s)"), std::string::npos) << r.output;
  // An interrupted run: shards 1 and 4 done; 3 processes complete it.
  for (const char* s : {"1", "4"}) ASSERT_EQ(app(0, "simulate", "--out " + dir + "/three --shard " + s + kSim).status, 0);
  r = app(3, "simulate", "--out " + dir + "/three" + kSim);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 shard(s) already complete"), std::string::npos) << r.output;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "/shard_0000" + std::to_string(i) + "_of_00006.h5";
    for (const char* other : {"/two", "/three"}) {
      const auto d = h5diff(dir + "/one" + name, dir + other + name);
      EXPECT_EQ(d.status, 0) << other << name << "\n" << d.output;
    }
  }
  EXPECT_TRUE(temp_files_in(dir + "/two").empty());
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(MpiCli, TrainFollowsOneProcessAndResumesOnlyWithTheSameCount) {
  const std::string dir = scratch_dir("mpi_train");
  write_tiny_dataset(dir + "/data", 40, 3);
  const std::string args = "--data " + dir + "/data --epochs 3 --batch 9 --threads 1 --test-fraction 0.2 "
                           "--val-fraction 0.2 --quiet --out ";
  auto r = app(0, "train", args + dir + "/one");
  ASSERT_EQ(r.status, 0) << r.output;
  r = app(2, "train", args + dir + "/two");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("in 2 processes"), std::string::npos) << r.output;
  const auto a = column(dir + "/one/log.csv", 1), b = column(dir + "/two/log.csv", 1);
  const auto va = column(dir + "/one/log.csv", 2), vb = column(dir + "/two/log.csv", 2);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t e = 0; e < a.size(); ++e) {
    EXPECT_NEAR(a[e], b[e], 1e-4 * std::fabs(a[e])) << "epoch " << e + 1;
    EXPECT_NEAR(va[e], vb[e], 1e-4 * std::fabs(va[e])) << "epoch " << e + 1;
  }
  r = app(0, "train", args + dir + "/two");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("was trained by 2 process(es), this run has 1"), std::string::npos) << r.output;
  r = app(2, "train", args + dir + "/two");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from step"), std::string::npos) << r.output;

  // Inference of the test split in 2 processes: the single process's file and summary.
  const std::string inf = "--model " + dir + "/one/checkpoint.h5 --test-set " + dir +
                          "/data --n-samples 60 --batch 3 --threads 1 --store-flux 5 --refine is --quiet --out ";
  r = app(0, "infer", inf + dir + "/one.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  r = app(2, "infer", inf + dir + "/two.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto d = h5diff(dir + "/one.h5", dir + "/two.h5");
  // The only difference h5diff may report is the timing attribute.
  EXPECT_NE(d.output.find("attribute: <seconds of </>>"), std::string::npos) << d.output;
  EXPECT_NE(d.output.find("1 differences found"), std::string::npos) << d.output;
  EXPECT_EQ(read_file(dir + "/one_summary.csv"), read_file(dir + "/two_summary.csv"));
  // Observed light curves (a file of 2; one block each): the same.
  const std::string obs = "--model " + dir + "/one/checkpoint.h5 --input " + std::string(LENSFLOW_TEST_DATA) +
                          "/observed/flux_f4_2x7200.npy --n-samples 40 --batch 1 --threads 1 --quiet --out ";
  ASSERT_EQ(app(0, "infer", obs + dir + "/obs1.h5").status, 0);
  r = app(2, "infer", obs + dir + "/obs2.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto od = h5diff(dir + "/obs1.h5", dir + "/obs2.h5");
  EXPECT_NE(od.output.find("attribute: <seconds of </>>"), std::string::npos) << od.output;
  EXPECT_NE(od.output.find("1 differences found"), std::string::npos) << od.output;
  EXPECT_TRUE(temp_files_in(dir).empty());
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(MpiCli, AnErrorEndsEveryProcess) {
  const auto r = app(2, "infer", "--model /nonexistent_lensflow/checkpoint.h5 --test-set /nonexistent_lensflow "
                                 "--out /tmp/lensflow_never.h5 --quiet");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.status, 124) << "timed out: a process was left waiting";
  EXPECT_NE(r.output.find("lensflow-infer: error (rank"), std::string::npos) << r.output;
}
