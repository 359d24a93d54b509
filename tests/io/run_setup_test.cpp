// The run setup file round-trips (and is refused when foreign); the prior's on-disk fields keep
// their names and order.
#include "io/run_setup.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "io/h5file.hpp"
#include "io/prior_fields.hpp"
#include "tests/scratch_dir.hpp"

using namespace lensflow::io;
using lensflow::sim::PriorBox;

TEST(RunSetup, RoundTripsAndRefusesForeignFiles) {
  const lensflow::test::ScratchDir scratch("setup");
  const std::string dir = scratch.dir.string();
  RunSetup s;
  s.realization.prior.q_min = 1e-4;
  s.realization.snr_max = 100.0;
  s.seed = 42;
  s.split.test_fraction = 0.2;
  s.dataset = "/some/where";
  write_run_setup(dir + "/setup.h5", s);
  EXPECT_EQ(run_setup_path_for(dir + "/checkpoint.h5"), dir + "/setup.h5");
  const RunSetup r = read_run_setup(dir + "/setup.h5");
  EXPECT_EQ(r.realization.prior.q_min, 1e-4);
  EXPECT_EQ(r.realization.snr_max, 100.0);
  EXPECT_EQ(r.seed, 42u);
  EXPECT_EQ(r.split.test_fraction, 0.2);
  EXPECT_EQ(r.dataset, "/some/where");
  {
    H5Writer w(dir + "/foreign.h5");
    w.attr("/", "format", std::string("something-else"));
    w.commit();
  }
  try {
    read_run_setup(dir + "/foreign.h5");
    FAIL() << "foreign file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("foreign.h5"), std::string::npos) << e.what();
  }
}

TEST(PriorFields, EveryValueSitsUnderItsNameAndRoundTrips) {
  PriorBox p;  // distinct values, each field's own
  p.s_min = 0.3, p.s_max = 4.0, p.q_min = 1e-5, p.q_max = 0.9, p.alpha_min = 1.0, p.alpha_max = 359.0;
  p.u0_min = 0.01, p.u0_max = 1.9, p.t0_min = 2.0, p.t0_max = 70.0, p.tE_min = 1.5, p.tE_max = 90.0;
  p.log10_tE_mean = 1.2, p.log10_tE_sigma = 0.4, p.rho_min = 2e-4, p.rho_max = 5e-3, p.fs_min = 0.2;
  p.fs_max = 0.95;
  const std::map<std::string, double> by_name = {
      {"s_min", p.s_min},         {"s_max", p.s_max},       {"q_min", p.q_min},
      {"q_max", p.q_max},         {"alpha_min", p.alpha_min}, {"alpha_max", p.alpha_max},
      {"u0_min", p.u0_min},       {"u0_max", p.u0_max},     {"t0_min", p.t0_min},
      {"t0_max", p.t0_max},       {"tE_min", p.tE_min},     {"tE_max", p.tE_max},
      {"log10_tE_mean", p.log10_tE_mean}, {"log10_tE_sigma", p.log10_tE_sigma},
      {"rho_min", p.rho_min},     {"rho_max", p.rho_max},   {"fs_min", p.fs_min},
      {"fs_max", p.fs_max}};
  const std::vector<double> v = prior_to_attr(p);
  ASSERT_EQ(v.size(), kPriorFieldCount);
  std::stringstream names(prior_field_names());
  std::string name;
  std::size_t k = 0;
  for (; std::getline(names, name, ','); ++k) {
    ASSERT_LT(k, v.size());
    ASSERT_EQ(by_name.count(name), 1u) << name;
    EXPECT_EQ(v[k], by_name.at(name)) << name;
  }
  EXPECT_EQ(k, kPriorFieldCount);
  EXPECT_EQ(prior_to_attr(prior_from_attr(v)), v);
  EXPECT_THROW(prior_from_attr({1.0, 2.0}), std::runtime_error);
  std::vector<double> reversed = v;
  std::swap(reversed[0], reversed[1]);  // s_min > s_max
  EXPECT_THROW(prior_from_attr(reversed), std::invalid_argument);
}
