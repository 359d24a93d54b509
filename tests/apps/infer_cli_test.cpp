// lensflow-infer as a program: option errors, and a tiny model inferring a test set and a .npy
// file, with the documented output layout; outputs that are inputs, CSV headers and BOMs,
// non-positive flux, size claims of .npy/.h5 files, --n-samples beyond the limit, non-finite
// checkpoints and outputs committed together.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "cli_util.hpp"
#include "io/h5file.hpp"

using namespace lensflow;
using namespace lensflow::testing;

class InferCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = scratch_dir("infer");
    if (!app_exists("train") || !app_exists("infer")) return;
    write_tiny_dataset(dir_ + "/data", 24, 5);
    run_app("train", "--data " + dir_ + "/data --out " + dir_ + "/run --epochs 1 --batch 8 --threads 2 "
            "--test-fraction 0.3 --quiet");
  }
  static void TearDownTestSuite() { std::system(("rm -rf " + dir_).c_str()); }
  void SetUp() override {
    if (!app_exists("infer")) GTEST_FAIL() << app_path("infer") << " is not built";
  }
  static inline std::string dir_;
};

TEST_F(InferCli, BadOptionsFailWithAMessage) {
  auto r = run_app("infer", "--model m.h5 --out o.h5");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--test-set"), std::string::npos) << r.output;
  r = run_app("infer", "--model m.h5 --out o.h5 --test-set a --input b.npy");
  EXPECT_NE(r.status, 0);
  r = run_app("infer", "--model /nonexistent.h5 --out /tmp/o.h5 --input x.npy");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
  r = run_app("infer", "--model m.h5 --out o.h5 --input x.npy --refine magic");
  EXPECT_NE(r.status, 0);
}

TEST_F(InferCli, TestSetAndNpyInputGiveTheDocumentedLayout) {
  const std::string model = dir_ + "/run/checkpoint.h5";
  ASSERT_TRUE(std::ifstream(model).good()) << "training in SetUpTestSuite failed";
  auto r = run_app("infer", "--model " + model + " --test-set " + dir_ + "/data --out " + dir_ +
                   "/post.h5 --n-samples 64 --threads 2 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  io::H5Reader h(dir_ + "/post.h5");
  const auto sh = h.shape("samples");
  ASSERT_EQ(sh.size(), 3u);
  EXPECT_EQ(sh[1], 64u);
  EXPECT_EQ(sh[2], 8u);
  EXPECT_EQ(h.shape("theta_true"), (io::Dims{sh[0], 8}));
  EXPECT_EQ(h.shape("log_q"), (io::Dims{sh[0], 64}));
  // Every kept sample lies in the prior support: e.g. u0 in [0, 2], f_s in [0.1, 1].
  const auto s = h.read_f32("samples");
  for (size_t i = 0; i < s.size(); i += 8)
    if (!std::isnan(s[i])) {
      ASSERT_GE(s[i + 3], 0.0f);
      ASSERT_LE(s[i + 3], 2.0f);
      ASSERT_GE(s[i + 7], 0.1f - 1e-6f);
      ASSERT_LE(s[i + 7], 1.0f + 1e-6f);
    }
  for (double a : h.read_f64("acceptance")) EXPECT_GT(a, 0.0);
  std::ifstream csv(dir_ + "/post_summary.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("event,parameter,median,p16,p84,n_modes", 0), 0u) << header;

  // The same model on a NumPy file of 2 light curves (tests/data/observed).
  r = run_app("infer", "--model " + model + " --input " + std::string(LENSFLOW_TEST_DATA) +
                       "/observed/flux_f4_2x7200.npy --out " + dir_ + "/obs.h5 --n-samples 32 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  io::H5Reader o(dir_ + "/obs.h5");
  EXPECT_EQ(o.shape("samples"), (io::Dims{2, 32, 8}));
  EXPECT_TRUE(o.has("t_start"));
  EXPECT_FALSE(o.has("theta_true"));
  // A wrong-length file is refused with the shape in the message.
  r = run_app("infer", "--model " + model + " --input " + std::string(LENSFLOW_TEST_DATA) +
                       "/observed/flux_f8_2x10.npy --out " + dir_ + "/bad.h5 --quiet");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("[2, 10]"), std::string::npos) << r.output;
}

// --split all infers every event of a set simulated apart (here: the training set itself, 24
// events, against a test split of about 30%); snr_base is the S/N its flux was realized with: no
// point lies more than 6σ below the baseline flux F = snr² (a magnification is never below 1).
TEST_F(InferCli, SplitAllInfersEveryEventWithItsSnr) {
  const std::string model = dir_ + "/run/checkpoint.h5";
  ASSERT_TRUE(std::ifstream(model).good()) << "training in SetUpTestSuite failed";
  auto r = run_app("infer", "--model " + model + " --test-set " + dir_ + "/data --split all --out " + dir_ +
                   "/all.h5 --n-samples 16 --store-flux 24 --threads 2 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  io::H5Reader h(dir_ + "/all.h5");
  EXPECT_EQ(h.shape("samples")[0], 24u);
  const auto snr = h.read_f64("snr_base");
  const auto flux = h.read_f32("flux");
  ASSERT_EQ(snr.size(), 24u);
  ASSERT_EQ(flux.size(), 24u * 7200u);
  for (size_t e = 0; e < snr.size(); ++e) {
    EXPECT_GE(snr[e], 23.0);
    EXPECT_LE(snr[e], 230.0);
    float lo = flux[e * 7200];
    for (size_t j = 0; j < 7200; ++j) lo = std::min(lo, flux[e * 7200 + j]);
    EXPECT_GE(lo, snr[e] * snr[e] - 6.0 * snr[e]) << "event " << e;
  }
  r = run_app("infer", "--model " + model + " --input x.npy --split all --out " + dir_ + "/x.h5 --quiet");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--split"), std::string::npos) << r.output;
}

// --model DIR takes the run's best.h5 (else its checkpoint.h5): the same samples as naming the file.
TEST_F(InferCli, ModelDirectoryMeansItsBestCheckpoint) {
  ASSERT_TRUE(std::ifstream(dir_ + "/run/best.h5").good()) << "training in SetUpTestSuite failed";
  const std::string rest = " --input " + std::string(LENSFLOW_TEST_DATA) +
                           "/observed/flux_f4_2x7200.npy --n-samples 16 --threads 2 --quiet --out " + dir_;
  auto r = run_app("infer", "--model " + dir_ + "/run" + rest + "/by_dir.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_app("infer", "--model " + dir_ + "/run/best.h5" + rest + "/by_file.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(io::H5Reader(dir_ + "/by_dir.h5").read_f32("samples"), io::H5Reader(dir_ + "/by_file.h5").read_f32("samples"));
  std::system(("mkdir -p " + dir_ + "/empty_model").c_str());
  r = run_app("infer", "--model " + dir_ + "/empty_model" + rest + "/none.h5");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("neither best.h5 nor checkpoint.h5"), std::string::npos) << r.output;
}

namespace {

// Light curves of the test fixtures' form: flux[e, j] = 1000 + 10 e + 0.5 j.
std::string curve_row(int e) {
  std::string row;
  for (int j = 0; j < 7200; ++j) row += (j ? "," : "") + std::to_string(1000 + 10 * e + 0.5 * j);
  return row;
}

}  // namespace

// Each test process trains the tiny model once (SetUpTestSuite): the checks share two tests.

TEST_F(InferCli, BadInputsAreRefusedBeforeAnyWork) {
  {  // An output that is (or resolves to) an input.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good()) << "training in SetUpTestSuite failed";
    const std::string ckpt = read_file(model), setup = read_file(dir_ + "/run/setup.h5");
    std::system(("mkdir -p " + dir_ + "/sub && ln -sf " + model + " " + dir_ + "/link.h5").c_str());
    const std::string npy = std::string(LENSFLOW_TEST_DATA) + "/observed/flux_f4_2x7200.npy";
    std::system(("cp " + npy + " " + dir_ + "/in.npy").c_str());
    struct Case {
      std::string args, role;
    };
    const std::vector<Case> cases = {
        {"--input " + dir_ + "/in.npy --out " + model, "--model"},
        {"--input " + dir_ + "/in.npy --out " + dir_ + "/run/setup.h5", "setup"},
        {"--input " + dir_ + "/in.npy --out " + dir_ + "/sub/../in.npy", "--input"},
        {"--input " + dir_ + "/in.npy --out " + dir_ + "/link.h5", "--model"},
        {"--test-set " + dir_ + "/data --out " + dir_ + "/data/shard_00000_of_00001.h5", "--test-set shard"},
    };
    for (const auto& c : cases) {
      const auto r = run_app("infer", "--model " + model + " " + c.args + " --n-samples 8 --quiet");
      EXPECT_EQ(r.status, 1) << c.args;
      EXPECT_NE(r.output.find("is the same file as"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(c.role), std::string::npos) << r.output;
    }
    EXPECT_EQ(read_file(model), ckpt) << "the checkpoint was replaced";
    EXPECT_EQ(read_file(dir_ + "/run/setup.h5"), setup);
    EXPECT_EQ(read_file(dir_ + "/in.npy"), read_file(npy));
    EXPECT_TRUE(temp_files_in(dir_ + "/run").empty());
  }
  {  // Size claims of .npy / .h5 files and --n-samples.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good());
    // A 57 kB .npy whose header claims (37283, 7200) float64 (2.1 GB).
    auto npy = [&](const std::string& name, const std::string& dict, std::size_t data_bytes) {
      std::string h = dict;
      while ((10 + h.size() + 1) % 64) h += ' ';
      h += '\n';
      std::ofstream f(dir_ + "/" + name, std::ios::binary);
      f << "\x93NUMPY" << char(1) << char(0) << char(h.size() & 0xff) << char(h.size() >> 8) << h
        << std::string(data_bytes, '\0');
    };
    npy("claim.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (37283, 7200), }", 57000);
    const std::string out = dir_ + "/log.txt";
    auto m = run_measured(app_path("infer") + " --model " + model + " --input " + dir_ + "/claim.npy --out " + dir_ +
                              "/claim.h5 --n-samples 8 --quiet",
                          out);
    EXPECT_EQ(m.status, 1);
    EXPECT_NE(m.output.find("claims shape (37283, 7200)"), std::string::npos) << m.output;
    EXPECT_LT(m.max_rss_kb, 400 * 1024) << "memory sized by the claim";
    // Bogus headers get messages about the file.
    npy("bogus.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (abc, 7200), }", 64);
    auto r = run_app("infer", "--model " + model + " --input " + dir_ + "/bogus.npy --out " + dir_ + "/b.h5 --quiet");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("shape entry 'abc' is not a dimension"), std::string::npos) << r.output;
    npy("huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999999, 7200), }", 64);
    r = run_app("infer", "--model " + model + " --input " + dir_ + "/huge.npy --out " + dir_ + "/b.h5 --quiet");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("truncated .npy data"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("stoull"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("max_size"), std::string::npos) << r.output;
    // A few-kB .h5 whose chunked 'flux' claims (40000, 7200) with one row written.
    {
      io::H5Writer w(dir_ + "/sparse.h5");
      w.create_f32("flux", {40000, 7200}, 1);
      std::vector<float> row(7200, 1000.0f);
      w.write_rows("flux", 0, 1, row.data());
      w.commit();
    }
    m = run_measured(app_path("infer") + " --model " + model + " --input " + dir_ + "/sparse.h5 --out " + dir_ +
                         "/sparse_post.h5 --n-samples 8 --quiet",
                     out);
    EXPECT_EQ(m.status, 1);
    EXPECT_NE(m.output.find("sparse or unwritten dataset"), std::string::npos) << m.output;
    EXPECT_LT(m.max_rss_kb, 400 * 1024);
    // More samples per event than can be drawn at once: refused naming the limit, at once.
    m = run_measured(app_path("infer") + " --model " + model + " --input " + std::string(LENSFLOW_TEST_DATA) +
                         "/observed/flux_f4_2x7200.npy --out " + dir_ + "/many.h5 --n-samples 100000000 --quiet",
                     out);
    EXPECT_EQ(m.status, 1);
    EXPECT_NE(m.output.find("limit of 100000 samples per event"), std::string::npos) << m.output;
    EXPECT_LT(m.max_rss_kb, 400 * 1024);
  }
  {  // A checkpoint with NaN weights.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good());
    std::system(("rm -rf " + dir_ + "/nanrun && cp -r " + dir_ + "/run " + dir_ + "/nanrun").c_str());
    const std::string tensor = poison_first_dataset(dir_ + "/nanrun/checkpoint.h5", "params");
    ASSERT_FALSE(tensor.empty());
    const auto r = run_app("infer", "--model " + dir_ + "/nanrun/checkpoint.h5 --input " +
                                        std::string(LENSFLOW_TEST_DATA) + "/observed/flux_f4_2x7200.npy --out " + dir_ +
                                        "/nan_post.h5 --n-samples 8 --quiet");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("'" + tensor + "' holds a non-finite value"), std::string::npos) << r.output;
    EXPECT_FALSE(std::ifstream(dir_ + "/nan_post.h5").good());
  }
}

TEST_F(InferCli, InputFormatsAndOutputsCommittedTogether) {
  {  // CSV headers, typos and byte-order marks.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good());
    // A typo in the first data row is an error naming it, not a header that drops the event.
    std::string typo = curve_row(0);
    typo.replace(typo.find(",1001"), 5, ",1O01");
    std::ofstream(dir_ + "/typo.csv") << typo << "\n" << curve_row(1) << "\n";
    auto r = run_app("infer", "--model " + model + " --input " + dir_ + "/typo.csv --out " + dir_ +
                     "/typo.h5 --n-samples 8 --quiet");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("line 1 has a non-numeric field '1O01"), std::string::npos) << r.output;
    // A byte-order mark before a numeric first row: still 2 events.
    std::ofstream(dir_ + "/bom.csv") << "\xEF\xBB\xBF" << curve_row(0) << "\n" << curve_row(1) << "\n";
    r = run_app("infer", "--model " + model + " --input " + dir_ + "/bom.csv --out " + dir_ +
                "/bom.h5 --n-samples 8 --quiet");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(io::H5Reader(dir_ + "/bom.h5").shape("samples")[0], 2u);
    // A real header is skipped.
    std::string header = "f0";
    for (int j = 1; j < 7200; ++j) header += ",f" + std::to_string(j);
    std::ofstream(dir_ + "/hdr.csv") << header << "\n" << curve_row(0) << "\n" << curve_row(1) << "\n";
    r = run_app("infer", "--model " + model + " --input " + dir_ + "/hdr.csv --out " + dir_ +
                "/hdr.h5 --n-samples 8 --quiet");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(io::H5Reader(dir_ + "/hdr.h5").shape("samples")[0], 2u);
  }
  {  // Non-positive flux.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good());
    std::string row;
    for (int j = 0; j < 7200; ++j) row += (j ? "," : "") + std::string(j % 2 ? "-5" : "1000");
    std::ofstream(dir_ + "/neg.csv") << row << "\n";
    auto r = run_app("infer", "--model " + model + " --input " + dir_ + "/neg.csv --out " + dir_ +
                     "/neg.h5 --n-samples 8 --quiet");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("3600 non-positive flux points (first at point 1: -5)"), std::string::npos) << r.output;
    r = run_app("infer", "--model " + model + " --input " + dir_ + "/neg.csv --out " + dir_ +
                "/neg.h5 --n-samples 8 --quiet --nan interpolate");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(io::H5Reader(dir_ + "/neg.h5").read_i64("n_missing"), std::vector<int64_t>{3600});
    EXPECT_NE(r.output.find("missing (NaN or non-positive) flux points"), std::string::npos) << r.output;
  }
  {  // Both outputs or neither.
    const std::string model = dir_ + "/run/checkpoint.h5";
    ASSERT_TRUE(std::ifstream(model).good());
    const std::string args = "--model " + model + " --input " + std::string(LENSFLOW_TEST_DATA) +
                             "/observed/flux_f4_2x7200.npy --n-samples 8 --quiet --out " + dir_ + "/both.h5";
    ASSERT_EQ(run_app("infer", args).status, 0);
    const std::string before = read_file(dir_ + "/both.h5");
    // The summary CSV's path is a directory: the run fails and OUT.h5 stays the previous one.
    std::system(("rm -f " + dir_ + "/both_summary.csv && mkdir " + dir_ + "/both_summary.csv").c_str());
    const auto r = run_app("infer", args + " --seed 5");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("both_summary.csv: is a directory"), std::string::npos) << r.output;
    EXPECT_EQ(read_file(dir_ + "/both.h5"), before) << "OUT.h5 replaced although the run failed";
    EXPECT_TRUE(temp_files_in(dir_).empty());
    // An HDF5 output must be a regular file: a device is refused, never replaced.
    const auto d = run_app("infer", "--model " + model + " --input " + std::string(LENSFLOW_TEST_DATA) +
                                        "/observed/flux_f4_2x7200.npy --n-samples 8 --quiet --out /dev/null");
    EXPECT_EQ(d.status, 1);
    EXPECT_NE(d.output.find("not a regular file"), std::string::npos) << d.output;
  }
}
