// Tests of the lensflow-magnify program (apps/magnify.cpp), run as a subprocess: good CSVs give
// the library's values with pass-through columns kept; malformed rows, values outside the
// supported domain and bad options give an error naming the line, field or option, and leave no
// (partial) output behind; outputs that are inputs are refused, special files are never replaced,
// concurrent runs never mix their outputs, and long curves are streamed in bounded memory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "lens/lensflow_lens.hpp"
#include "tests/lens/reference_csv.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kBinary = std::string(LENSFLOW_BINARY_DIR) + "/apps/lensflow-magnify";

class MagnifyCli : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    if (!fs::exists(kBinary)) GTEST_SKIP() << kBinary << " not built (LENSFLOW_BUILD_APPS=OFF?)";
    dir = fs::temp_directory_path() / ("lensflow_magnify_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override {
    if (!dir.empty()) fs::remove_all(dir);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
  // Names in the scratch directory (to see that no temporary file is left).
  std::vector<std::string> names() {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Runs the program with `args`; returns its exit status, stderr in `err`.
  int run(const std::string& args, std::string& err) {
    const std::string cmd = "cd '" + dir.string() + "' && '" + kBinary + "' " + args + " 2> stderr.txt > /dev/null";
    const int rc = std::system(cmd.c_str());
    err = read("stderr.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
};

}  // namespace

TEST_F(MagnifyCli, PointsKeepPassThroughColumnsAndMatchTheLibrary) {
  write("in.csv", "name,s,q,y1,y2\nfirst,1.0,0.1,0.2,0.05\nsecond,0.6,1e-5,-0.3,0.4\nthird,2.5,0.9,1.0,-1.0\n");
  std::string err;
  ASSERT_EQ(run("points -i in.csv -o out.csv --threads 2", err), 0) << err;
  std::ifstream in(dir / "out.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "name,s,q,y1,y2,A");
  const std::vector<double> s = {1.0, 0.6, 2.5}, q = {0.1, 1e-5, 0.9}, y1 = {0.2, -0.3, 1.0}, y2 = {0.05, 0.4, -1.0};
  std::vector<double> A(3);
  lensflow::lens::point_mag_host(s.data(), q.data(), y1.data(), y2.data(), 3, A.data());
  const char* names[3] = {"first", "second", "third"};
  for (int r = 0; r < 3; ++r) {
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.substr(0, line.find(',')), names[r]);
    EXPECT_NEAR(std::stod(line.substr(line.rfind(',') + 1)), A[r], 1e-15 * A[r]);
  }
}

TEST_F(MagnifyCli, FiniteSourceRowsGetAErr) {
  write("in.csv", "s,q,y1,y2,rho,a1\n1.0,0.1,0.2,0.05,0.01,0\n1.0,0.1,0.2,0.05,0.01,0.5\n");
  std::string err;
  ASSERT_EQ(run("points -i in.csv -o out.csv --tol 1e-4", err), 0) << err;
  const auto out = lensflow::test::read_csv((dir / "out.csv").string());
  ASSERT_EQ(out.rows, 2u);
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_GE(out["A"][r], 1.0);
    EXPECT_GE(out["A_err"][r], 0.0);
  }
  lensflow::lens::FiniteSourceOptions opt{};
  opt.tol_abs = opt.tol_rel = 1e-4;
  double s = 1.0, q = 0.1, y1 = 0.2, y2 = 0.05, rho = 0.01, A = 0.0;
  lensflow::lens::finite_mag_host(&s, &q, &y1, &y2, &rho, 1, opt, &A, nullptr);
  EXPECT_NEAR(out["A"][0], A, 1e-12 * A);
}

TEST_F(MagnifyCli, MalformedRowsNameLineAndFieldAndWriteNothing) {
  write("old.csv", "previous content\n");
  struct Case {
    std::string csv, expect;
  };
  const std::vector<Case> cases = {
      {"s,q,y1,y2\n1.0,0.1,0.2,0.0\n1.0,abc,0.2,0.0\n", "line 3, field 'q' = 'abc': not a number"},
      {"s,q,y1,y2\n1.0,-0.1,0.2,0.0\n", "line 2, field 'q' = '-0.1': q must be > 0"},
      {"s,q,y1,y2\n1.0,0.1,nan,0.0\n", "line 2, field 'y1'"},
      {"s,q,y1,y2\n1.0,0.1,0.2\n", "line 2 has 3 fields, the header has 4"},
      {"s,q,y1\n1.0,0.1,0.2\n", "missing required column 'y2'"},
      {"s,q,y1,y2,rho\n1.0,0.1,0.2,0.0,-1\n", "field 'rho' = '-1': rho must be >= 0"},
  };
  for (const auto& c : cases) {
    write("bad.csv", c.csv);
    std::string err;
    EXPECT_EQ(run("points -i bad.csv -o old.csv", err), 1) << c.csv;
    EXPECT_NE(err.find(c.expect), std::string::npos) << "stderr: " << err << " expected: " << c.expect;
    EXPECT_EQ(read("old.csv"), "previous content\n") << "output overwritten on error";
    EXPECT_EQ(names(), (std::vector<std::string>{"bad.csv", "old.csv", "stderr.txt"})) << "leftover file";
  }
}

TEST_F(MagnifyCli, CurvesOnATimeGrid) {
  write("ev.csv", "curve_id,s,q,alpha,u0,t0,tE,rho\nA7,1.1,0.01,30,0.1,5,10,0.001\nB2,0.7,0.3,200,0.4,2,3,0.002\n");
  std::string err;
  ASSERT_EQ(run("curves -i ev.csv -o lc.csv --t0 0 --t1 10 --dt 0.5 --point", err), 0) << err;
  std::ifstream in(dir / "lc.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "curve_id,t,A");
  const lensflow::lens::EventParams ev[2] = {{1.1, 0.01, 30, 0.1, 5, 10, 0.001}, {0.7, 0.3, 200, 0.4, 2, 3, 0.002}};
  std::vector<double> t(21), A(42);
  for (int i = 0; i < 21; ++i) t[i] = 0.5 * i;
  lensflow::lens::lightcurves_host(ev, 2, t.data(), 21, false, lensflow::lens::FiniteSourceOptions{}, A.data(),
                                   nullptr);
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 21; ++i) {
      ASSERT_TRUE(std::getline(in, line));
      EXPECT_EQ(line.substr(0, 3), k == 0 ? "A7," : "B2,");
      EXPECT_NEAR(std::stod(line.substr(line.rfind(',') + 1)), A[k * 21 + i], 1e-15 * A[k * 21 + i]);
    }
  EXPECT_FALSE(std::getline(in, line));

  write("times.txt", "1.0\n2.5\noops\n");
  EXPECT_EQ(run("curves -i ev.csv -o lc2.csv --times times.txt", err), 1);
  EXPECT_NE(err.find("line 3: 'oops' is not a finite time"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "lc2.csv"));
  write("ev_bad.csv", "s,q,alpha,u0,t0,tE,rho\n1.1,0.01,30,0.1,5,0,0.001\n");
  EXPECT_EQ(run("curves -i ev_bad.csv -o lc3.csv", err), 1);
  EXPECT_NE(err.find("line 2, field 'tE' = '0': tE must be > 0"), std::string::npos) << err;
}

TEST_F(MagnifyCli, ValuesOutsideTheSupportedDomainAreRefusedByName) {
  struct Case {
    std::string cmd, csv, expect;
  };
  const std::vector<Case> cases = {
      {"points", "s,q,y1,y2\n1,0.1,0.2,0\n1e20,0.1,0.3,0.1\n",
       "line 3, field 's' = '1e20': s must be in [0.001, 1000]"},
      {"points", "s,q,y1,y2\n1,1e-300,0.3,0.1\n", "field 'q' = '1e-300': q must be in [1e-09, 1e+09]"},
      {"points", "s,q,y1,y2,rho\n1,0.1,1e60,0.1,0.01\n", "field 'y1' = '1e60': |y| must be <= 1e+08"},
      {"points", "s,q,y1,y2,rho\n1,0.1,0.1,0.1,50\n", "field 'rho' = '50': rho must be in [0, 10]"},
      {"curves --point", "s,q,alpha,u0,t0,tE\n1,0.1,30,0.1,5,1e-300\n", "field 'tE' = '1e-300': the source is"},
  };
  for (const auto& c : cases) {
    write("in.csv", c.csv);
    std::string err;
    EXPECT_EQ(run(c.cmd + " -i in.csv -o out.csv", err), 1) << c.csv;
    EXPECT_NE(err.find(c.expect), std::string::npos) << "stderr: " << err << " expected: " << c.expect;
    EXPECT_FALSE(fs::exists(dir / "out.csv"));
  }
  // Inside the domain the far-source and tiny-q limits hold: A -> 1 far away (A - 1 ~ 2/|y|^4 is
  // below round-off at |y| = 1e4) and the single lens (Paczynski, of the primary) for q = 1e-9,
  // up to the planet's genuine perturbation (~6q here; a miscounted image would be O(1)).
  write("in.csv", "s,q,y1,y2\n1,0.1,1e4,0\n1,1e-9,0.3,0.1\n1000,0.5,0.2,0.1\n");
  std::string err;
  ASSERT_EQ(run("points -i in.csv -o out.csv", err), 0) << err;
  const auto out = lensflow::test::read_csv((dir / "out.csv").string());
  EXPECT_NEAR(out["A"][0], 1.0, 1e-15);
  const double u = std::hypot(0.3 + 1e-9 / (1 + 1e-9), 0.1) * std::sqrt(1 + 1e-9);
  const double pacz = (u * u + 2) / (u * std::sqrt(u * u + 4));
  EXPECT_NEAR(out["A"][1], pacz, 1e-7 * pacz);
  // s = 1000, source near the centre of mass: both lenses are hundreds of Einstein radii away.
  EXPECT_NEAR(out["A"][2], 1.0, 1e-9);
}

TEST_F(MagnifyCli, BadTolerancesAndTimeGridsAreRefusedNotReplaced) {
  write("in.csv", "s,q,y1,y2,rho\n1,0.1,0.2,0.05,0.01\n");
  for (const std::string opt : {"--tol 0", "--tol -1", "--tol nan", "--tol-abs -1", "--tol-rel nan",
                                "--tol-abs 0 --tol-rel 0"}) {
    std::string err;
    EXPECT_EQ(run("points -i in.csv -o out.csv " + opt, err), 1) << opt;
    EXPECT_NE(err.find("--tol"), std::string::npos) << opt << ": " << err;
  }
  write("ev.csv", "s,q,alpha,u0,t0,tE,rho\n1.1,0.01,30,0.1,5,10,0.001\n");
  std::string err;
  EXPECT_EQ(run("curves -i ev.csv -o lc.csv --dt 1e-300", err), 1);
  EXPECT_NE(err.find("more than the limit of 1e8 per curve"), std::string::npos) << err;
  EXPECT_EQ(run("curves -i ev.csv -o lc.csv --t0 1e16 --t1 1.00000000000001e16 --dt 1", err), 1);
  EXPECT_NE(err.find("below the resolution"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "out.csv"));
  EXPECT_FALSE(fs::exists(dir / "lc.csv"));
}

TEST_F(MagnifyCli, ByteOrderMarksAreStrippedAndOnlyAHeaderIsAHeader) {
  write("bom.csv", "\xEF\xBB\xBFs,q,y1,y2\n1.0,0.1,0.2,0.05\n");
  std::string err;
  ASSERT_EQ(run("points -i bom.csv -o out.csv", err), 0) << err;
  EXPECT_EQ(read("out.csv").substr(0, 11), "s,q,y1,y2,A");
  write("noheader.csv", "1.0,0.1,0.2,0.05\n");
  EXPECT_EQ(run("points -i noheader.csv -o out2.csv", err), 1);
  EXPECT_NE(err.find("line 1 is not a header"), std::string::npos) << err;
}

TEST_F(MagnifyCli, AnOutputThatIsTheInputIsRefusedBeforeAnyWork) {
  const std::string csv = "s,q,y1,y2\n1.0,0.1,0.2,0.05\n";
  write("in.csv", csv);
  fs::create_directories(dir / "sub");
  fs::create_symlink(dir / "in.csv", dir / "link.csv");
  for (const std::string out : {"in.csv", "sub/../in.csv", "link.csv", "./in.csv"}) {
    std::string err;
    EXPECT_EQ(run("points -i in.csv -o " + out, err), 1) << out;
    EXPECT_NE(err.find("is the same file as --input"), std::string::npos) << err;
    EXPECT_EQ(read("in.csv"), csv) << "the input was overwritten through " << out;
  }
  write("times.txt", "1\n2\n");
  write("ev.csv", "s,q,alpha,u0,t0,tE\n1.1,0.01,30,0.1,5,10\n");
  std::string err;
  EXPECT_EQ(run("curves --point -i ev.csv --times times.txt -o times.txt", err), 1);
  EXPECT_EQ(read("times.txt"), "1\n2\n");
}

TEST_F(MagnifyCli, SpecialFilesAreWrittenInPlaceNeverReplaced) {
  write("in.csv", "s,q,y1,y2\n1.0,0.1,0.2,0.05\n");
  // A FIFO with a reader: the rows go through it and it stays a FIFO.
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  std::string err;
  const std::string d = "'" + dir.string() + "/";
  ASSERT_EQ(run("points -i in.csv -o pipe & cat " + d + "pipe' > " + d + "got.csv'; wait $!", err), 0) << err;
  EXPECT_EQ(read("got.csv").substr(0, 11), "s,q,y1,y2,A");
  struct stat st;
  ASSERT_EQ(::stat((dir / "pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  // A character device (as root: a private null device in the scratch directory).
  if (::geteuid() == 0 && ::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    ASSERT_EQ(run("points -i in.csv -o null", err), 0) << err;
    ASSERT_EQ(::stat((dir / "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced by a regular file";
  }
}

TEST_F(MagnifyCli, ConcurrentRunsOnOneOutputNeverMixTheirRows) {
  std::string a = "s,q,y1,y2\n", b = "s,q,y1,y2\n";
  for (int i = 0; i < 3000; ++i) {
    a += "1.0,0.1,0." + std::to_string(100 + i % 800) + ",0.05\n";
    b += "0.7,0.01,-0." + std::to_string(100 + i % 800) + ",0.3\n";
  }
  write("a.csv", a);
  write("b.csv", b);
  std::string err;
  ASSERT_EQ(run("points -i a.csv -o ref_a.csv --threads 1", err), 0) << err;
  ASSERT_EQ(run("points -i b.csv -o ref_b.csv --threads 1", err), 0) << err;
  const std::string ref_a = read("ref_a.csv"), ref_b = read("ref_b.csv");
  for (int trial = 0; trial < 6; ++trial) {
    // run() prefixes "cd DIR &&" to the first command only: the second runs in the test's cwd.
    const std::string d = "'" + dir.string() + "/";
    ASSERT_EQ(run("points -i a.csv -o out.csv --threads 1 & p=$!; '" + kBinary + "' points -i " + d + "b.csv' -o " +
                      d + "out.csv' --threads 1; r=$?; wait $p && exit $r",
                  err),
              0)
        << err;
    const std::string got = read("out.csv");
    EXPECT_TRUE(got == ref_a || got == ref_b) << "trial " << trial << ": the output mixes both runs";
  }
  for (const auto& n : names()) EXPECT_EQ(n.find(".tmp-"), std::string::npos) << "leftover " << n;
}

TEST_F(MagnifyCli, LongCurvesAreStreamedInBoundedMemory) {
  // 800,000 epochs: holding t, A and A_err whole would take 19 MB; blocks of 2^18 epochs take 6.
  write("ev.csv", "s,q,alpha,u0,t0,tE\n1.1,0.01,30,0.1,5,10\n");
  const auto m = lensflow::testing::run_measured(
      "'" + kBinary + "' curves -i '" + (dir / "ev.csv").string() + "' -o /dev/null --point --threads 2 --t0 0 " +
          "--t1 7999.99 --dt 0.01",
      (dir / "log.txt").string());
  ASSERT_EQ(m.status, 0) << m.output;
  EXPECT_NE(m.output.find("800000 epochs"), std::string::npos) << m.output;
  EXPECT_LT(m.max_rss_kb, 16 * 1024) << "peak memory grows with the request";
  struct stat st;
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}
