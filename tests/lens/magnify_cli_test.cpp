// Tests of the lensflow-magnify program (apps/magnify.cpp), run as a subprocess: good CSVs give
// the library's values with pass-through columns kept; malformed rows give an error naming the line
// and field, and leave no (partial) output behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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
    EXPECT_FALSE(fs::exists(dir / "old.csv.tmp"));
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
