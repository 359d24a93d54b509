// bench_finite_stress_bench: the differential stress run of finite-source light curves
// (tests/sim/finite_stress.hpp) at scale: N events from the training priors on the 14,400-epoch
// grid, every epoch computed walked (lightcurves_host) and cold (finite_mag_host), disagreements
// and a sample of near-caustic epochs settled by brute-force disk integration.
// Options: --events N (10000) --seed S (1) --threads T (0 = all) --tol-rel R (1e-3) --tol-abs A (1e-4)
//          --near K (300: near-caustic epochs checked against brute force) --a1 A1 (0)
//          --first-event F (0: the draws F … F+N−1 of the seed).
// Prints a summary, every settled epoch that breaks the bar, and "RESULT name value unit" lines;
// exits 1 when the bar is broken.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.hpp"
#include "tests/sim/finite_stress.hpp"

using namespace lensflow::lens;

int main(int argc, char** argv) {
  test::StressOptions o;
  o.n_events = 10000;
  o.n_near_samples = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&] { return lensflow::bench_util::option_value(argc, argv, i); };
    if (k == "--events") o.n_events = std::strtoull(val(), nullptr, 10);
    else if (k == "--seed") o.seed = std::strtoull(val(), nullptr, 10);
    else if (k == "--threads") o.threads = std::atoi(val());
    else if (k == "--tol-rel") o.fs.tol_rel = std::atof(val());
    else if (k == "--tol-abs") o.fs.tol_abs = std::atof(val());
    else if (k == "--near") o.n_near_samples = std::strtoull(val(), nullptr, 10);
    else if (k == "--a1") o.fs.a1 = std::atof(val());
    else if (k == "--first-event") o.first_event = std::strtoull(val(), nullptr, 10);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const test::StressReport r = test::run_finite_stress(o, [&](std::size_t done, std::size_t settled) {
    if (settled > 0)
      std::fprintf(stderr, "\rnear-caustic epochs settled by brute force: %zu / %zu, %.0f s", settled,
                   o.n_near_samples, lensflow::bench_util::seconds_since(t0));
    else if (done % 320 == 0 || done == o.n_events)
      std::fprintf(stderr, "\r%zu / %zu events, %.0f s\n", done, o.n_events, lensflow::bench_util::seconds_since(t0));
  });
  std::fprintf(stderr, "\n");
  std::size_t bad_walked = 0, bad_cold = 0;
  double worst_w_err = 0, worst_w_tol = 0, worst_c_err = 0, worst_c_tol = 0;
  auto scan = [&](const std::vector<test::Settled>& v, const char* what) {
    for (const auto& x : v) {
      worst_w_err = std::max(worst_w_err, x.walked_vs_err());
      worst_w_tol = std::max(worst_w_tol, x.walked_vs_tol());
      worst_c_err = std::max(worst_c_err, x.cold_vs_err());
      worst_c_tol = std::max(worst_c_tol, x.cold_vs_tol());
      bad_walked += !x.walked_ok();
      bad_cold += !x.cold_ok();
      if (!x.walked_ok() || !x.cold_ok())
        std::printf("%s: event %llu epoch %ld: walked %.8g ± %.2g, cold %.8g ± %.2g, brute force %.8g ± %.2g (tol %.2g)\n",
                    what, (unsigned long long)x.event, x.epoch, x.walked, x.walked_err, x.cold, x.cold_err, x.brute,
                    x.brute_err, x.tol);
    }
  };
  scan(r.disagreements, "disagreement");
  scan(r.near_samples, "near-caustic sample");
  std::printf("%zu events, %zu epochs (tol_abs %g, tol_rel %g, a1 %g, seed %llu)\n", r.n_events, r.n_epochs,
              o.fs.tol_abs, o.fs.tol_rel, o.fs.a1, (unsigned long long)o.seed);
  std::printf("walked %.1f s (%.1f curves/s), cold %.1f s (%.1f curves/s)\n", r.walked_seconds,
              r.n_events / r.walked_seconds, r.cold_seconds, r.n_events / r.cold_seconds);
  std::printf("walked vs cold beyond their summed error estimates: %zu epochs (max |diff|/(err_w+err_c) %.3g)\n",
              r.n_disagree, r.max_diff_over_errs);
  std::printf("settled by brute force: %zu disagreements + %zu near-caustic samples; off the bar: walked %zu, cold %zu\n",
              r.disagreements.size(), r.near_samples.size(), bad_walked, bad_cold);
  std::printf("worst settled actual error / reported error: walked %.3g, cold %.3g; / tolerance: walked %.3g, cold %.3g\n",
              worst_w_err, worst_c_err, worst_w_tol, worst_c_tol);
  std::printf("largest reported error / tolerance: walked %.3g, cold %.3g\n", r.max_walked_err_over_tol,
              r.max_cold_err_over_tol);
  std::printf("RESULT stress_events %zu\nRESULT stress_disagreements %zu\nRESULT stress_off_bar_walked %zu\n"
              "RESULT stress_off_bar_cold %zu\nRESULT stress_worst_err_ratio_walked %.4g\n"
              "RESULT stress_worst_err_ratio_cold %.4g\nRESULT stress_walked_curves_per_s %.4g\n",
              r.n_events, r.n_disagree, bad_walked, bad_cold, worst_w_err, worst_c_err,
              r.n_events / r.walked_seconds);
  return bad_walked + bad_cold > 0 ? 1 : 0;
}
