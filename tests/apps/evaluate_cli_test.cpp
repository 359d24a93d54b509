// lensflow-evaluate as a program: option errors, refusal of files without truths or with datasets
// of mismatched shapes, and the metrics of a hand-made posterior file whose answer is known
// (samples = the truth ± tiny noise: every parameter constrained and correct), also when some
// events have no valid sample; outputs that are the input and outputs committed together.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "cli_util.hpp"
#include "io/h5file.hpp"
#include "io/prior_fields.hpp"
#include "pipeline/inference.hpp"
#include "sim/priors.hpp"

using namespace lensflow;
using namespace lensflow::testing;

namespace {
// E = 20 events of 200 samples; `truth_rows` rows of theta_true (0: none); the events listed in
// `empty` have only NaN samples and n_valid = 0 (every draw fell outside the prior).
void write_posterior(const std::string& path, int truth_rows, const std::vector<int>& empty = {}) {
  const sim::PriorBox prior;
  const int E = 20, S = 200, D = 8;
  std::vector<double> truth;
  std::vector<float> samples;
  std::mt19937_64 g(1);
  std::normal_distribution<double> n01;
  for (int e = 0; e < E; ++e) {
    double th[8];
    sim::theta_from_draw(sim::sample_event(prior, 9, e), th);
    truth.insert(truth.end(), th, th + D);
    const auto specs = pipeline::theta_marginals(prior);
    for (int k = 0; k < S; ++k)
      for (int d = 0; d < D; ++d)  // 0.2% of the prior width: sharply constrained around the truth
        samples.push_back(float(th[d] + 0.002 * (specs[d].hi - specs[d].lo) * n01(g)));
  }
  std::vector<int64_t> n_valid(E, S);
  for (int e : empty) {
    n_valid[e] = 0;
    std::fill(samples.begin() + e * S * D, samples.begin() + (e + 1) * S * D, NAN);
  }
  io::H5Writer w(path);
  w.write("samples", samples.data(), {E, S, D});
  w.write("n_valid", n_valid.data(), {E});
  if (truth_rows > 0) w.write("theta_true", truth.data(), {uint64_t(truth_rows), D});
  w.attr("/", "format", std::string("lensflow-posterior"));
  w.attr("/", "prior", io::prior_to_attr(prior));
  w.commit();
}
}  // namespace

TEST(EvaluateCli, OptionsAndFilesWithoutTruths) {
  ASSERT_TRUE(app_exists("evaluate")) << app_path("evaluate") << " is not built";
  auto r = run_app("evaluate", "--out /tmp/x");
  EXPECT_NE(r.status, 0);
  const std::string dir = scratch_dir("evaluate");
  r = run_app("evaluate", "--posterior " + dir + "/missing.h5 --out " + dir + "/e");
  EXPECT_EQ(r.status, 1);
  write_posterior(dir + "/nt.h5", 0);
  r = run_app("evaluate", "--posterior " + dir + "/nt.h5 --out " + dir + "/e");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("no truths"), std::string::npos) << r.output;
  std::system(("rm -rf " + dir).c_str());
}

TEST(EvaluateCli, SharpCorrectPosteriorsScoreFullMarks) {
  ASSERT_TRUE(app_exists("evaluate")) << app_path("evaluate") << " is not built";
  const std::string dir = scratch_dir("evaluate_ok");
  write_posterior(dir + "/p.h5", 20);
  auto r = run_app("evaluate", "--posterior " + dir + "/p.h5 --out " + dir + "/e");
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream csv(dir + "/e/metrics.csv");
  std::string line;
  std::getline(csv, line);
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    // parameter,n_events,constrained_pct,correct_pct,...
    std::stringstream ss(line);
    std::string name, n, cons, corr;
    std::getline(ss, name, ',');
    std::getline(ss, n, ',');
    std::getline(ss, cons, ',');
    std::getline(ss, corr, ',');
    EXPECT_EQ(n, "20") << line;
    EXPECT_DOUBLE_EQ(std::stod(cons), 100.0) << line;
    EXPECT_DOUBLE_EQ(std::stod(corr), 100.0) << line;
  }
  EXPECT_EQ(rows, 8);
  EXPECT_TRUE(std::ifstream(dir + "/e/metrics.json").good());
  io::H5Reader pe(dir + "/e/per_event.h5");
  EXPECT_EQ(pe.shape("pit"), (io::Dims{20, 8}));
  std::system(("rm -rf " + dir).c_str());
}

TEST(EvaluateCli, DatasetsOfOtherShapesAreRefused) {
  ASSERT_TRUE(app_exists("evaluate"));
  const std::string dir = scratch_dir("evaluate_shapes");
  write_posterior(dir + "/short.h5", 15);  // theta_true has 15 rows, samples 20
  const auto r = run_app("evaluate", "--posterior " + dir + "/short.h5 --out " + dir + "/e");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("dataset 'theta_true' has shape [15, 8], expected [20, 8]"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(dir + "/e/metrics.csv").good());
  std::system(("rm -rf " + dir).c_str());
}

TEST(EvaluateCli, EventsWithoutAValidSampleAreSkippedAndReported) {
  ASSERT_TRUE(app_exists("evaluate"));
  const std::string dir = scratch_dir("evaluate_skip");
  write_posterior(dir + "/p.h5", 20, {3, 11});
  const auto r = run_app("evaluate", "--posterior " + dir + "/p.h5 --out " + dir + "/e");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("skipped 2 of 20 event(s) without a valid sample (n_valid = 0): 3, 11"), std::string::npos)
      << r.output;
  std::ifstream csv(dir + "/e/metrics.csv");
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    std::stringstream ss(line);
    std::string name, n, cons, corr;
    std::getline(ss, name, ',');
    std::getline(ss, n, ',');
    std::getline(ss, cons, ',');
    std::getline(ss, corr, ',');
    EXPECT_EQ(n, "18") << line;
    EXPECT_DOUBLE_EQ(std::stod(corr), 100.0) << line;  // the others are still all correct
  }
  io::H5Reader pe(dir + "/e/per_event.h5");
  const auto ev = pe.read_i64("evaluated");
  ASSERT_EQ(ev.size(), 20u);
  for (int e = 0; e < 20; ++e) EXPECT_EQ(ev[e], (e == 3 || e == 11) ? 0 : 1) << e;
  EXPECT_TRUE(std::isnan(pe.read_f64("pit")[3 * 8]));
  std::system(("rm -rf " + dir).c_str());
}

TEST(EvaluateCli, OutputsThatAreTheInputAreRefusedAndOutputsAreCommittedTogether) {
  ASSERT_TRUE(app_exists("evaluate"));
  const std::string dir = scratch_dir("evaluate_outputs");
  std::system(("mkdir -p " + dir + "/e").c_str());
  write_posterior(dir + "/e/per_event.h5", 20);  // the posterior sits where an output would go
  const std::string post = read_file(dir + "/e/per_event.h5");
  auto r = run_app("evaluate", "--posterior " + dir + "/e/per_event.h5 --out " + dir + "/e/../e");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is the same file as --posterior"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(dir + "/e/per_event.h5"), post);
  // metrics.json is a directory: nothing is replaced (metrics.csv keeps its old content).
  write_posterior(dir + "/p.h5", 20);
  std::system(("mkdir -p " + dir + "/f/metrics.json && echo old > " + dir + "/f/metrics.csv").c_str());
  r = run_app("evaluate", "--posterior " + dir + "/p.h5 --out " + dir + "/f");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("metrics.json: is a directory"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(dir + "/f/metrics.csv"), "old\n");
  EXPECT_FALSE(std::ifstream(dir + "/f/per_event.h5").good());
  EXPECT_TRUE(temp_files_in(dir + "/f").empty());
  std::system(("rm -rf " + dir).c_str());
}
