// lensflow-simulate end to end: files readable by the reader and h5py, the same events whatever
// the sharding, resume after an interruption (killed run, leftover temporary file, truncated
// shard) redoes only what is missing, bad input exits non-zero and writes nothing, a directory
// holding another shard set is refused, dead runs' temporary files are removed, and a full disk
// ends the run with an error and complete shards.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli_util.hpp"
#include "io/dataset.hpp"
#include "sim/priors.hpp"
#include "sim/realization.hpp"

namespace fs = std::filesystem;
using namespace lensflow::io;

namespace {

const std::string kExe = std::string(LENSFLOW_BINARY_DIR) + "/apps/lensflow-simulate";
// Point source on a 0.05-d grid: fast, and exercises everything but the finite-source kernel.
const std::string kFast = " --point-source --n-t 2880 --dt 0.05 --seed 7 --threads 2 --quiet";

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(LENSFLOW_BINARY_DIR) / "test_tmp" / ("simulate_cli_" + name);
  fs::remove_all(d);
  return d;
}

struct CliResult {
  int rc;
  std::string out;
};

CliResult run(const std::string& args) {
  const std::string cmd = kExe + " " + args + " 2>&1";
  CliResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) r.out += buf;
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class SimulateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kExe)) GTEST_FAIL() << kExe << " not built (build the lensflow-simulate target)";
  }
};

}  // namespace

TEST_F(SimulateCli, WritesShardsReadableByReaderAndH5py) {
  const auto dir = fresh_dir("basic");
  const CliResult r = run("--out " + dir.string() + " --n-events 45 --events-per-shard 20" + kFast);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("accepted"), std::string::npos) << r.out;
  DatasetReader ds(dir.string());
  EXPECT_EQ(ds.settings().num_shards, 3u);
  EXPECT_EQ(ds.n_drawn(), 45u);
  EXPECT_EQ(ds.all_chi2_dof().size(), 45u);
  std::size_t kept = 0;
  for (double c : ds.all_chi2_dof()) kept += c >= 1.0;
  EXPECT_EQ(kept, ds.size());
  ASSERT_GT(ds.size(), 0u);
  for (std::size_t i = 0; i < ds.size(); ++i) {
    EXPECT_DOUBLE_EQ(ds.theta_raw(i)[4], 72.0);
    EXPECT_EQ(ds.chi2_dof(i), ds.all_chi2_dof()[std::size_t(ds.event_index(i))]);
  }
  const std::string py = "python3 -c \"import h5py,glob,sys; fs=[h5py.File(p,'r') for p in sorted(glob.glob('" +
                         dir.string() +
                         "/shard_*.h5'))]; n=sum(f['mag'].shape[0] for f in fs); "
                         "ok = n==" + std::to_string(ds.size()) +
                         " and all(f['mag'].shape[1]==2880 and f.attrs['seed']==7 and f.attrs['cut_mode']=='paper' "
                         "and f['theta_raw'].shape[1]==7 for f in fs) and (fs[0]['mag'][:]>0).all(); "
                         "sys.exit(0 if ok else 1)\"";
  EXPECT_EQ(std::system(py.c_str()), 0) << py;
}

TEST_F(SimulateCli, ReaderFeedsTheRealizationLikeTheTrainingLoader) {
  const auto dir = fresh_dir("loader");
  ASSERT_EQ(run("--out " + dir.string() + " --n-events 40 --events-per-shard 40" + kFast).rc, 0);
  DatasetReader ds(dir.string());
  ASSERT_GT(ds.size(), 1u);
  lensflow::sim::RealizationConfig cfg;
  cfg.n_seq = ds.n_t();
  cfg.n_win = ds.n_t() / 2;
  cfg.dt = ds.settings().dt;
  const std::size_t B = ds.size();
  std::vector<std::size_t> rows(B);
  std::vector<lensflow::lens::EventParams> ev(B);
  std::vector<std::uint64_t> ids(B);
  for (std::size_t i = 0; i < B; ++i) {
    rows[i] = i;
    const double* r = ds.theta_raw(i);
    ev[i] = {r[0], r[1], r[2], r[3], r[4], r[5], r[6]};
    ids[i] = std::uint64_t(ds.event_index(i));
  }
  std::vector<float> mag(B * ds.n_t()), x(B * cfg.n_win), th(B * lensflow::sim::kThetaDim);
  std::vector<double> raw(B * lensflow::sim::kThetaDim);
  ds.read_mag_rows(rows.data(), B, mag.data());
  lensflow::sim::realize_batch_host(cfg, mag.data(), ev.data(), ids.data(), B, 1, 0, x.data(), th.data(), raw.data());
  for (float v : x) ASSERT_TRUE(std::isfinite(v));
  for (std::size_t i = 0; i < B; ++i) {
    EXPECT_TRUE(lensflow::sim::in_support(cfg.prior, &raw[i * lensflow::sim::kThetaDim])) << i;
    // The stored parameters are prior draw event_index of the seed.
    const auto d = lensflow::sim::sample_event(cfg.prior, 7, ids[i]);
    EXPECT_EQ(ev[i].q, d.q);
    EXPECT_EQ(ev[i].tE, d.tE);
  }
}

TEST_F(SimulateCli, IndependentShardJobsGiveTheSameDataset) {
  const auto a = fresh_dir("whole"), b = fresh_dir("jobs");
  ASSERT_EQ(run("--out " + a.string() + " --n-events 30 --num-shards 3" + kFast).rc, 0);
  for (int i : {2, 0, 1}) ASSERT_EQ(run("--out " + b.string() + " --n-events 30 --num-shards 3 --shard " + std::to_string(i) + kFast).rc, 0);
  DatasetReader ra(a.string()), rb(b.string());
  ASSERT_EQ(ra.size(), rb.size());
  std::vector<float> ma(ra.n_t()), mb(rb.n_t());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra.event_index(i), rb.event_index(i));
    ra.read_mag(i, ma.data());
    rb.read_mag(i, mb.data());
    EXPECT_EQ(ma, mb);
  }
}

TEST_F(SimulateCli, ResumeRedoesOnlyMissingOrBrokenShards) {
  const auto dir = fresh_dir("resume");
  const std::string args = "--out " + dir.string() + " --n-events 40 --events-per-shard 10" + kFast;
  ASSERT_EQ(run(args).rc, 0);
  const auto p0 = dir / shard_file_name(0, 4), p1 = dir / shard_file_name(1, 4), p2 = dir / shard_file_name(2, 4);
  const auto t0 = fs::last_write_time(p0);
  // An interrupted run: shard 1 gone with its temporary file left over, shard 2 truncated.
  fs::remove(p1);
  std::ofstream(p1.string() + ".tmp-999999") << "partial";
  fs::resize_file(p2, fs::file_size(p2) / 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const CliResult r = run(args);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("2 shard(s) already complete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("simulated 2 shard(s), 20 events"), std::string::npos) << r.out;
  EXPECT_EQ(fs::last_write_time(p0), t0);  // untouched
  DatasetReader ds(dir.string());
  EXPECT_EQ(ds.n_drawn(), 40u);
  EXPECT_TRUE(ds.missing_shards().empty());
  // Nothing left to do on a third run.
  const CliResult again = run(args);
  EXPECT_NE(again.out.find("4 shard(s) already complete in"), std::string::npos) << again.out;
}

TEST_F(SimulateCli, KilledRunResumesToTheSameDataset) {
  const auto ref = fresh_dir("killed_ref"), dir = fresh_dir("killed");
  const std::string tail = " --n-events 400 --events-per-shard 25" + kFast;
  ASSERT_EQ(run("--out " + ref.string() + tail).rc, 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = "exec " + kExe + " --out " + dir.string() + tail + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const CliResult r = run("--out " + dir.string() + tail);
  ASSERT_EQ(r.rc, 0) << r.out;
  DatasetReader a(ref.string()), b(dir.string());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.event_index(i), b.event_index(i));
  EXPECT_EQ(a.all_chi2_dof(), b.all_chi2_dof());
}

TEST_F(SimulateCli, BadInputExitsNonZeroAndKeepsEarlierFiles) {
  const auto dir = fresh_dir("bad");
  ASSERT_EQ(run("--out " + dir.string() + " --n-events 10 --events-per-shard 5" + kFast).rc, 0);
  const auto before = fs::last_write_time(dir / shard_file_name(0, 2));
  const std::string base = "--out " + dir.string() + " --n-events 10 --events-per-shard 5";
  struct Case {
    std::string args, expect;
  } cases[] = {
      {base + " --s-range 5,0.2" + kFast, "s range"},
      {base + " --q-range -1,1" + kFast, "q range"},
      {base + " --s-range 1e-4,5" + kFast, "--s-range 0.0001,5 leaves the supported domain [0.001, 1000]"},
      {base + " --s-range 0.2" + kFast, "--s-range"},
      {base + " --shard 2" + kFast, "out of range"},
      {base + " --cut best" + kFast, "best"},
      {base + " --bogus" + kFast, "bogus"},
      {base + " --seed 8 --point-source --n-t 2880 --dt 0.05 --quiet", "seed differs"},
      {"--out /proc/lensflow_no_such_dir --n-events 10" + kFast, "/proc/lensflow_no_such_dir"},
      {"--out " + dir.string() + " --n-events 0" + kFast, "n-events"},
  };
  for (const Case& c : cases) {
    const CliResult r = run(c.args);
    EXPECT_NE(r.rc, 0) << c.args;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_EQ(fs::last_write_time(dir / shard_file_name(0, 2)), before);
  DatasetReader ds(dir.string());
  EXPECT_EQ(ds.n_drawn(), 10u);
}

TEST_F(SimulateCli, ADirectoryHoldingAnotherShardSetIsRefused) {
  const auto dir = fresh_dir("mixed");
  ASSERT_EQ(run("--out " + dir.string() + " --n-events 20 --events-per-shard 10" + kFast).rc, 0);
  // Another --n-events and seed: other file names (shard_*_of_00003), same directory.
  const CliResult r = run("--out " + dir.string() + " --n-events 30 --events-per-shard 10 --seed 8 --point-source "
                          "--n-t 2880 --dt 0.05 --quiet");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find(shard_file_name(0, 2) + ": seed differs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("another dataset"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / shard_file_name(0, 3)));
  EXPECT_EQ(DatasetReader(dir.string()).n_drawn(), 20u);
}

TEST_F(SimulateCli, TemporaryFilesOfDeadRunsAreRemoved) {
  const auto dir = fresh_dir("stale");
  fs::create_directories(dir);
  const std::string stale = lensflow::testing::stale_temp_name(shard_file_name(0, 2), lensflow::testing::dead_pid());
  std::ofstream(dir / stale) << "partial";
  ASSERT_EQ(run("--out " + dir.string() + " --n-events 20 --events-per-shard 10" + kFast).rc, 0);
  EXPECT_FALSE(fs::exists(dir / stale));
  EXPECT_EQ(DatasetReader(dir.string()).n_drawn(), 20u);
}

TEST_F(SimulateCli, AFullDiskStopsWithAnErrorAndKeepsTheCompleteShards) {
  const std::string disk = (fs::path(LENSFLOW_BINARY_DIR) / "test_tmp" / "simulate_full_disk").string();
  if (!lensflow::testing::mount_small_disk(disk, "1m")) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const CliResult r = run("--out " + disk + "/d --n-events 2000 --events-per-shard 100" + kFast);
  EXPECT_EQ(r.rc, 1) << r.out;  // not 139 (SIGSEGV at exit) nor 0
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  std::size_t complete = 0;
  for (const auto& e : fs::directory_iterator(disk + "/d")) {
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << "leftover " << e.path();
    ++complete;
  }
  EXPECT_GT(complete, 0u);
  EXPECT_EQ(DatasetReader(disk + "/d").n_drawn(), 100 * complete);  // every file present is complete
  lensflow::testing::unmount_small_disk(disk);
}
