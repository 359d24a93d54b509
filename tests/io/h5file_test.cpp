// Round trips through io/h5file and the failure modes users hit: missing, foreign, truncated and
// sparse files, a full disk.
#include "io/h5file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace lensflow::io;
namespace fs = std::filesystem;

namespace {
std::string tmp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("lensflow_h5_" + std::to_string(::getpid()) + "_" + name)).string();
}
}  // namespace

TEST(H5File, RoundTripDatasetsRowsAndAttributes) {
  std::string p = tmp_path("rt.h5");
  {
    H5Writer w(p);
    std::vector<float> a{1, 2, 3, 4, 5, 6};
    std::vector<double> b{0.5, -1.25};
    std::vector<std::int64_t> c{7, 8, 9};
    w.write("grp/a", a.data(), {2, 3});
    w.write("b", b.data(), {2});
    w.write("grp/sub/c", c.data(), {3});
    w.create_f32("big", {4, 2}, 2);
    std::vector<float> rows{10, 11, 12, 13};
    w.write_rows("big", 2, 2, rows.data());
    w.write_rows("big", 0, 2, rows.data());
    w.attr("/", "version", std::int64_t{3});
    w.attr("/", "name", std::string("lensflow"));
    w.attr("grp/a", "scale", 2.5);
    w.attr("b", "range", std::vector<double>{1e-6, 1.0});
    EXPECT_FALSE(fs::exists(p)) << "the final name must not appear before commit()";
    w.commit();
  }
  ASSERT_TRUE(fs::exists(p));
  H5Reader r(p);
  EXPECT_EQ(r.shape("grp/a"), (Dims{2, 3}));
  EXPECT_EQ(r.read_f32("grp/a")[5], 6.0f);
  EXPECT_EQ(r.read_f64("grp/a")[1], 2.0);  // converted by HDF5
  EXPECT_EQ(r.read_f64("b")[1], -1.25);
  EXPECT_EQ(r.read_i64("grp/sub/c")[2], 9);
  auto rows = r.read_rows_f32("grp/a", 1, 1);
  EXPECT_EQ(rows, (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(r.read_f32("big"), (std::vector<float>{10, 11, 12, 13, 10, 11, 12, 13}));
  EXPECT_EQ(r.attr_i64("/", "version"), 3);
  EXPECT_EQ(r.attr_str("/", "name"), "lensflow");
  EXPECT_EQ(r.attr_f64("grp/a", "scale"), 2.5);
  EXPECT_EQ(r.attr_f64s("b", "range"), (std::vector<double>{1e-6, 1.0}));
  EXPECT_TRUE(r.has("grp/sub/c"));
  EXPECT_FALSE(r.has("grp/nothing/c"));
  EXPECT_FALSE(r.has_attr("/", "missing"));
  fs::remove(p);
}

TEST(H5File, WriterWithoutCommitLeavesNothingAndKeepsOldFile) {
  std::string p = tmp_path("keep.h5");
  {
    H5Writer w(p);
    double v = 1.0;
    w.write("x", &v, {1});
    w.commit();
  }
  {
    H5Writer w(p);
    double v = 2.0;
    w.write("x", &v, {1});
    // destroyed without commit: as if interrupted
  }
  H5Reader r(p);
  EXPECT_EQ(r.read_f64("x")[0], 1.0);
  for (auto& e : fs::directory_iterator(fs::path(p).parent_path()))
    EXPECT_EQ(e.path().string().find(p + ".tmp"), std::string::npos) << "temporary file left behind";
  fs::remove(p);
}

TEST(H5File, AWriterRefusesATargetThatIsNotARegularFile) {
  const std::string fifo = tmp_path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(H5Writer w(fifo), std::runtime_error);
  struct stat st;
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  fs::remove(fifo);
}

TEST(H5File, ClearErrorsForMissingForeignTruncatedAndBadNames) {
  EXPECT_THROW(H5Reader("/nonexistent/lensflow.h5"), H5Error);
  std::string foreign = tmp_path("foreign.h5");
  std::ofstream(foreign) << "s,q,y1,y2\n1,0.1,0,0\n";
  try {
    H5Reader r(foreign);
    FAIL() << "foreign file accepted";
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos) << e.what();
  }
  std::string p = tmp_path("trunc.h5");
  {
    H5Writer w(p);
    std::vector<float> big(100000, 1.0f);
    w.write("x", big.data(), {100000});
    w.commit();
  }
  fs::resize_file(p, fs::file_size(p) / 2);
  EXPECT_THROW(
      {
        H5Reader r(p);
        r.read_f32("x");
      },
      H5Error);
  std::string ok = tmp_path("ok.h5");
  {
    H5Writer w(ok);
    float v = 1;
    w.write("x", &v, {1});
    w.commit();
  }
  H5Reader r(ok);
  try {
    r.read_f32("model/W");
    FAIL();
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find("model/W"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.read_rows_f32("x", 0, 2), H5Error);
  EXPECT_THROW(r.attr_f64("/", "nope"), H5Error);
  fs::remove(foreign);
  fs::remove(p);
  fs::remove(ok);
}

TEST(H5File, ClaimedSizesMustBeStoredBeforeAnythingIsAllocated) {
  // A chunked dataset created but never written claims 40000 x 7200 floats (1.15 GB) in a file of
  // a few kB: reading it must fail on the claim, not allocate it.
  const std::string p = tmp_path("sparse.h5");
  {
    H5Writer w(p);
    w.create_f32("flux", {40000, 7200}, 1);
    std::vector<float> row(7200, 1.0f);
    w.write_rows("flux", 0, 1, row.data());
    w.commit();
  }
  ASSERT_LT(fs::file_size(p), 200000u);
  H5Reader r(p);
  try {
    r.read_f32("flux");
    FAIL() << "a sparse dataset was read";
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find("sparse"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.require_stored("flux"), H5Error);
  EXPECT_EQ(r.read_rows_f32("flux", 0, 1)[7199], 1.0f) << "the stored rows stay readable";
  fs::remove(p);
}

TEST(H5File, AFullDiskIsAnErrorAndTheProcessExitsCleanly) {
  // In a child process limited to 256 kB files (the same refusal as a full disk, without root):
  // the writer throws, leaves no temporary file, and the process then exits normally (HDF5 1.10
  // crashed at exit after a failed close).
  const std::string p = tmp_path("full.h5");
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{256 * 1024, 256 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 3;
    try {
      H5Writer w(p);
      std::vector<float> big(1 << 20, 1.0f);  // 4 MB
      w.create_f32("x", {1024, 1024}, 16);
      for (int r = 0; r < 1024; r += 64) w.write_rows("x", r, 64, big.data());
      w.commit();
      code = 2;  // the limit did not bite
    } catch (const H5Error& e) {
      code = std::string(e.what()).find(p + ": cannot write") == 0 ? 0 : 4;
      if (code) std::fprintf(stderr, "unexpected message: %s\n", e.what());
    }
    std::exit(code);  // runs HDF5's exit handlers
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st)) << "the child died of signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_FALSE(fs::exists(p));
  for (auto& e : fs::directory_iterator(fs::path(p).parent_path()))
    EXPECT_EQ(e.path().string().find(p + ".tmp"), std::string::npos) << "temporary file left behind";
}
