// lensflow-evaluate as a program: option errors, refusal of files without truths, and the metrics
// of a hand-made posterior file whose answer is known (samples = the truth ± tiny noise: every
// parameter constrained and correct).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "cli_util.hpp"
#include "io/h5file.hpp"
#include "lens/priors.hpp"
#include "pipeline/inference.hpp"

using namespace lensflow;
using namespace lensflow::testing;

namespace {
void write_posterior(const std::string& path, bool with_truth) {
  const lens::PriorBox prior;
  const int E = 20, S = 200, D = 8;
  std::vector<double> truth;
  std::vector<float> samples;
  std::mt19937_64 g(1);
  std::normal_distribution<double> n01;
  for (int e = 0; e < E; ++e) {
    double th[8];
    lens::theta_from_draw(lens::sample_event(prior, 9, e), th);
    truth.insert(truth.end(), th, th + D);
    const auto specs = pipeline::theta_marginals(prior);
    for (int k = 0; k < S; ++k)
      for (int d = 0; d < D; ++d)  // 0.2% of the prior width: sharply constrained around the truth
        samples.push_back(float(th[d] + 0.002 * (specs[d].hi - specs[d].lo) * n01(g)));
  }
  io::H5Writer w(path);
  w.write("samples", samples.data(), {E, S, D});
  if (with_truth) w.write("theta_true", truth.data(), {E, D});
  w.attr("/", "format", std::string("lensflow-posterior"));
  w.attr("/", "prior", pipeline::prior_to_attr(prior));
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
  write_posterior(dir + "/nt.h5", false);
  r = run_app("evaluate", "--posterior " + dir + "/nt.h5 --out " + dir + "/e");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("no truths"), std::string::npos) << r.output;
  std::system(("rm -rf " + dir).c_str());
}

TEST(EvaluateCli, SharpCorrectPosteriorsScoreFullMarks) {
  ASSERT_TRUE(app_exists("evaluate")) << app_path("evaluate") << " is not built";
  const std::string dir = scratch_dir("evaluate_ok");
  write_posterior(dir + "/p.h5", true);
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
