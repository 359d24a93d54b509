// bench_point_source_bench: point-source binary-lens throughput of lensflow on the CPU, against
// VBMicrolensing (bench/lens/vbm_reference.py) timed on the same points in the same run.
//   1. random points (s ~ LogU(0.2, 5), q ~ LogU(1e-6, 1), |y1|, |y2| < 2): µs per call and
//      magnifications/s on 1 thread and on all threads;
//   2. points along 14,400-epoch light curves (priors of docs/conventions.md §Priors, t0 = 72 d,
//      0.01-d cadence, warm started): µs per epoch and light curves/s, 1 thread and all threads;
//   3. the ratio VBMicrolensing/lensflow per core (> 1: lensflow faster).
// Prints "RESULT name value unit" lines (collected by bench/run_cpu.sh). --no-vbm skips step 3.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/lens/prior_events.hpp"
#include "lens/lensflow_lens.hpp"

using namespace lensflow::lens;
using lensflow::bench_util::best_time;
using lensflow::bench_util::log_uniform;

namespace {

// Times VBMicrolensing on the given points; returns its per-call µs (or -1).
double vbm_time(const std::vector<double>& s, const std::vector<double>& q, const std::vector<double>& y1,
                const std::vector<double>& y2, const std::string& tag) {
  const std::string pts = "/tmp/lensflow_bench_points_" + tag + ".csv";
  const std::string out = "/tmp/lensflow_bench_vbm_" + tag + ".json";
  {
    std::ofstream f(pts);
    f.precision(17);
    f << "s,q,y1,y2\n";
    for (std::size_t i = 0; i < s.size(); ++i) f << s[i] << ',' << q[i] << ',' << y1[i] << ',' << y2[i] << '\n';
  }
  const std::string text = lensflow::bench_util::run_reference(
      "python3 '" + lensflow::bench_util::dir_of(__FILE__) + "/vbm_reference.py' point " + pts, out);
  std::remove(pts.c_str());
  if (text.empty()) return -1.0;
  std::printf("  VBMicrolensing (%s): %s", tag.c_str(), text.c_str());
  return lensflow::bench_util::json_field(text, "point_us");
}

}  // namespace

int main(int argc, char** argv) {
  const bool with_vbm = !(argc > 1 && std::string(argv[1]) == "--no-vbm");
  const int n_cores = default_thread_count();
  std::mt19937_64 rng(20261122);
  std::printf("lensflow point-source benchmark (CPU, %d hardware threads)\n", n_cores);

  // 1. Random points.
  const std::size_t n = 200000;
  std::vector<double> s(n), q(n), y1(n), y2(n), A(n);
  std::uniform_real_distribution<double> uy(-2.0, 2.0);
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = log_uniform(rng, 0.2, 5.0);
    q[i] = log_uniform(rng, 1e-6, 1.0);
    y1[i] = uy(rng);
    y2[i] = uy(rng);
  }
  const double t1 = best_time(3, [&] { point_mag_host(s.data(), q.data(), y1.data(), y2.data(), n, A.data(), 1); });
  const double tn = best_time(3, [&] { point_mag_host(s.data(), q.data(), y1.data(), y2.data(), n, A.data(), 0); });
  const double us_rand = t1 / n * 1e6;
  std::printf("random points: %.3f us/call on 1 thread (%.3g mag/s), %.3g mag/s on %d threads\n", us_rand, n / t1,
              n / tn, n_cores);
  std::printf("RESULT point_random_us_per_call_1thread %.4f us\n", us_rand);
  std::printf("RESULT point_random_mag_per_s_all_threads %.4g 1/s\n", n / tn);

  // 2. Light curves, priors of docs/conventions.md §Priors (point source), 14,400 epochs.
  const std::size_t n_ev = 24, n_t = 14400;
  std::vector<EventParams> ev(n_ev);
  lensflow::bench_util::SpecEvents draw(rng);
  for (auto& e : ev) e = draw.next();
  std::vector<double> t(n_t), Alc(n_ev * n_t);
  for (std::size_t i = 0; i < n_t; ++i) t[i] = 0.01 * i;
  const FiniteSourceOptions opt{};
  const double c1 = best_time(2, [&] {
    lightcurves_host(ev.data(), n_ev, t.data(), n_t, false, opt, Alc.data(), nullptr, 1);
  });
  const double cn = best_time(2, [&] {
    lightcurves_host(ev.data(), n_ev, t.data(), n_t, false, opt, Alc.data(), nullptr, 0);
  });
  const double us_lc = c1 / (n_ev * n_t) * 1e6;
  std::printf("light curves (14,400 epochs): %.3f us/epoch on 1 thread, %.2f curves/s on 1 thread, %.2f curves/s on "
              "%d threads\n",
              us_lc, n_ev / c1, n_ev / cn, n_cores);
  std::printf("RESULT point_lightcurve_us_per_epoch_1thread %.4f us\n", us_lc);
  std::printf("RESULT point_lightcurves_per_s_1thread %.4g 1/s\n", n_ev / c1);
  std::printf("RESULT point_lightcurves_per_s_all_threads %.4g 1/s\n", n_ev / cn);

  // 3. VBMicrolensing on a subset of the same points and on the epochs of two of the curves.
  if (with_vbm) {
    const std::size_t m = 20000;
    const double vbm_rand = vbm_time({s.begin(), s.begin() + m}, {q.begin(), q.begin() + m},
                                     {y1.begin(), y1.begin() + m}, {y2.begin(), y2.begin() + m}, "random");
    std::vector<double> cs, cq, cy1, cy2;
    for (std::size_t k = 0; k < 2; ++k) {
      const Trajectory tr = make_trajectory(ev[k]);
      for (std::size_t i = 0; i < n_t; ++i) {
        const cplx z = source_position(tr, t[i]);
        cs.push_back(ev[k].s);
        cq.push_back(ev[k].q);
        cy1.push_back(z.re);
        cy2.push_back(z.im);
      }
    }
    const double vbm_lc = vbm_time(cs, cq, cy1, cy2, "curves");
    if (vbm_rand > 0.0) {
      std::printf("RESULT vbm_point_random_us_per_call %.4f us\n", vbm_rand);
      std::printf("RESULT speedup_vs_vbm_random_per_core %.3f x\n", vbm_rand / us_rand);
    }
    if (vbm_lc > 0.0) {
      std::printf("RESULT vbm_point_lightcurve_us_per_epoch %.4f us\n", vbm_lc);
      std::printf("RESULT speedup_vs_vbm_lightcurve_per_core %.3f x\n", vbm_lc / us_lc);
    }
  }
  return 0;
}
