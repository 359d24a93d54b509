// lensflow-infer as a program: option errors, and a tiny model inferring a test set and a .npy
// file, with the documented output layout.
#include <gtest/gtest.h>

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
