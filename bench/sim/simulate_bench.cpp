// bench_simulate_bench: training-set simulation throughput (prior draws → 14,400-point
// finite-source sequences → 1L1S cut) and the cut's acceptance in both modes.
//
//   bench_simulate_bench [--speed-events N] [--acc-events 2000] [--acc-finite-source] [--threads 0]
//                        [--device cpu|cuda]
// Defaults fit bench/run_cpu.sh and run_device.sh (no arguments): the device is cuda when one is
// usable, else cpu; speed on 16 events (cpu) or 4096 (cuda); acceptance on 2,000 point-source
// draws. The figures in bench/RESULTS.md used --acc-events 10000 (point source) and 1000 (finite).
// Speed: events/s end to end through simulate_events (finite source, tol 1e-3, paper cut) and the
// projected time for 10^6 events, against the paper's forward model (~1 light curve per second per
// CPU core; reference quoted, not rerun). Acceptance: the same sequences cut in `paper` and `fit`
// mode, with binomial errors, and the accepted fraction per log10 q and u0 bin (the paper's Fig. 2
// trend). The acceptance run uses point-source sequences unless --acc-finite-source (CPU time; the
// finite source changes few decisions). Prints "RESULT name value unit" lines for the summaries.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "lens/lensflow_lens.hpp"
#include "sim/pspl_cut.hpp"
#include "sim/simulator.hpp"

using namespace lensflow::lens;
using namespace lensflow::sim;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void print_rate(const char* what, std::size_t kept, std::size_t n) {
  const double f = double(kept) / double(n), e = std::sqrt(f * (1 - f) / double(n));
  std::printf("  %-6s %6zu / %zu accepted = %5.2f%% +- %.2f%%\n", what, kept, n, 100 * f, 100 * e);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t speed_events = 0, acc_events = 2000;
  bool acc_point = true, speed_set = false;
  int threads = 0;
  std::string device = cuda_device_available() ? "cuda" : "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return lensflow::bench_util::option_value(argc, argv, i); };
    if (a == "--speed-events") speed_events = std::strtoull(next(), nullptr, 10), speed_set = true;
    else if (a == "--acc-events") acc_events = std::strtoull(next(), nullptr, 10);
    else if (a == "--acc-finite-source") acc_point = false;
    else if (a == "--threads") threads = std::atoi(next());
    else if (a == "--device") device = next();
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int nthr = threads > 0 ? threads : default_thread_count();
  const SimDevice dev = device == "cuda" ? SimDevice::cuda : SimDevice::cpu;
  if (speed_events == 0 && !speed_set) speed_events = dev == SimDevice::cuda ? 4096 : 16;

  // 1. End-to-end speed, full size.
  SimulationConfig cfg;
  cfg.seed = 20261122;
  if (speed_events > 0) {
    const double t0 = now_s();
    const SimulationBatch b = simulate_events(cfg, 0, speed_events, dev, nthr);
    const double dt = now_s() - t0;
    const double rate = double(speed_events) / dt;
    std::printf("simulate (finite source, tol 1e-3, 14,400 epochs, paper cut), device %s, %d threads:\n",
                device.c_str(), nthr);
    std::printf("  %zu events in %.2f s = %.2f events/s (%.2f per thread); %zu accepted\n", speed_events, dt, rate,
                rate / nthr, b.n_accepted());
    std::printf("  projected 10^6 events: %.1f h; paper's forward model ~1 curve/s/core: ratio %.2fx per core\n",
                1e6 / rate / 3600.0, rate / nthr / 1.0);
    std::printf("RESULT simulate_%s_events_per_s %.3f events/s\n", device.c_str(), rate);
    std::printf("RESULT simulate_%s_1e6_events_hours %.2f h\n", device.c_str(), 1e6 / rate / 3600.0);
  }

  // 2. Acceptance in both modes on the same sequences.
  if (acc_events == 0) return 0;
  SimulationConfig acfg = cfg;
  acfg.finite_source = !acc_point;
  const std::vector<double> t = simulation_times(acfg);
  CutOptions paper, fit;
  fit.mode = CutMode::fit;
  const int nbin = 6;
  std::size_t kept_p = 0, kept_f = 0;
  std::vector<std::size_t> q_all(nbin), q_p(nbin), q_f(nbin), u_all(nbin), u_p(nbin), u_f(nbin);
  const std::size_t chunk = 64;
  std::vector<EventParams> ev(chunk);
  std::vector<double> A(chunk * acfg.n_t), cp(chunk), cf(chunk);
  const double ta = now_s();
  double t_mag = 0, t_paper = 0, t_fit = 0;
  for (std::size_t done = 0; done < acc_events; done += chunk) {
    const std::size_t m = std::min(chunk, acc_events - done);
    for (std::size_t k = 0; k < m; ++k) ev[k] = simulated_event(acfg.prior, acfg.seed, done + k, acfg.t0_sim);
    double s = now_s();
    lightcurves_host(ev.data(), m, t.data(), acfg.n_t, acfg.finite_source, acfg.fs, A.data(), nullptr, nthr);
    t_mag += now_s() - s;
    s = now_s();
    pspl_cut_host(ev.data(), m, t.data(), acfg.n_t, A.data(), paper, cp.data(), nthr);
    t_paper += now_s() - s;
    s = now_s();
    pspl_cut_host(ev.data(), m, t.data(), acfg.n_t, A.data(), fit, cf.data(), nthr);
    t_fit += now_s() - s;
    for (std::size_t k = 0; k < m; ++k) {
      const int qb = std::min(nbin - 1, int(-std::log10(ev[k].q)));   // bins of log10 q: [-1,0], [-2,-1], ...
      const int ub = std::min(nbin - 1, int(ev[k].u0 / (2.0 / nbin)));  // u0 bins of width 1/3
      q_all[qb]++;
      u_all[ub]++;
      if (cp[k] >= 1.0) ++kept_p, q_p[qb]++, u_p[ub]++;
      if (cf[k] >= 1.0) ++kept_f, q_f[qb]++, u_f[ub]++;
    }
    if ((done / chunk) % 16 == 15) std::fprintf(stderr, "  acceptance run: %zu / %zu\n", done + m, acc_events);
  }
  const double total = now_s() - ta;
  std::printf("acceptance on %zu prior draws (%s sequences, 14,400 epochs), %.1f s (magnification %.1f s, paper cut "
              "%.2f s, fit cut %.1f s):\n",
              acc_events, acc_point ? "point-source" : "finite-source", total, t_mag, t_paper, t_fit);
  print_rate("paper", kept_p, acc_events);
  print_rate("fit", kept_f, acc_events);
  std::printf("RESULT cut_acceptance_paper %.2f %%\nRESULT cut_acceptance_fit %.2f %%\n",
              100.0 * kept_p / acc_events, 100.0 * kept_f / acc_events);
  std::printf("  accepted fraction by log10 q bin (paper / fit):\n");
  for (int b = 0; b < nbin; ++b)
    std::printf("    log10 q in [%d, %d)%s: %5.1f%% / %5.1f%%  (n = %zu)\n", -b - 1, -b, b == nbin - 1 ? "" : " ",
                q_all[b] ? 100.0 * q_p[b] / q_all[b] : 0.0, q_all[b] ? 100.0 * q_f[b] / q_all[b] : 0.0, q_all[b]);
  std::printf("  accepted fraction by u0 bin (paper / fit):\n");
  for (int b = 0; b < nbin; ++b)
    std::printf("    u0 in [%.2f, %.2f): %5.1f%% / %5.1f%%  (n = %zu)\n", b * 2.0 / nbin, (b + 1) * 2.0 / nbin,
                u_all[b] ? 100.0 * u_p[b] / u_all[b] : 0.0, u_all[b] ? 100.0 * u_f[b] / u_all[b] : 0.0, u_all[b]);
  return 0;
}
