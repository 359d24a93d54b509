// tests/sim/finite_stress.hpp — the differential stress check of finite-source light curves,
// shared by tests/sim/finite_stress_test.cpp (a few events) and bench/sim/finite_stress_bench.cpp
// (10^4 events and more).
//
// Each event is drawn from the training priors (sim/simulator.hpp, t0 = 72 d) on the simulator's
// 14,400-epoch grid. Two independent paths compute every epoch:
//   walked — lightcurves_host: blocks of epochs in order, warm-started roots, caustic distance bounded
//            from the lens's caustic outline;
//   cold   — finite_mag_host on the epoch's source position alone: cold roots, caustic distance
//            estimated from the roots.
// Where they differ by more than the sum of their error estimates, the brute-force disk integral
// (tests/lens/brute_force_disk.hpp) settles which is right. A sample of epochs near a caustic is also
// checked against brute force whether or not the paths agree. The bar: no value off by more than
// kErrFactor × its reported error, none off by more than kErrFactor × the tolerance.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "lens/caustic_outline.hpp"
#include "lens/lensflow_lens.hpp"
#include "sim/simulator.hpp"
#include "tests/lens/brute_force_disk.hpp"

namespace lensflow::lens::test {

constexpr double kErrFactor = 10.0;

struct StressOptions {
  std::uint64_t seed = 1;
  std::uint64_t first_event = 0;
  std::size_t n_events = 100;
  FiniteSourceOptions fs;  // the simulator's default tolerances (1e-4 absolute, 1e-3 relative)
  int threads = 0;
  std::size_t n_near_samples = 0;  // near-caustic epochs checked against brute force regardless
  double brute_rel_tol = 1e-5;     // well below the tolerances checked (1e-3)
};

// One brute-force check of one value.
struct Settled {
  std::uint64_t event;
  long epoch;
  double walked, walked_err, cold, cold_err, brute, brute_err, tol;
  // Actual error over max(reported error, brute-force error) and over the tolerance.
  double walked_vs_err() const { return std::fabs(walked - brute) / std::max(walked_err, brute_err); }
  double cold_vs_err() const { return std::fabs(cold - brute) / std::max(cold_err, brute_err); }
  double walked_vs_tol() const { return std::fabs(walked - brute) / tol; }
  double cold_vs_tol() const { return std::fabs(cold - brute) / tol; }
  bool walked_ok() const { return walked_vs_err() <= kErrFactor && walked_vs_tol() <= kErrFactor; }
  bool cold_ok() const { return cold_vs_err() <= kErrFactor && cold_vs_tol() <= kErrFactor; }
};

struct StressReport {
  std::size_t n_events = 0, n_epochs = 0, n_disagree = 0;
  double walked_seconds = 0, cold_seconds = 0;
  double max_diff_over_errs = 0;   // max |walked − cold| / (walked_err + cold_err)
  double max_walked_err_over_tol = 0, max_cold_err_over_tol = 0;  // reported errors over tolerance
  std::vector<Settled> disagreements, near_samples;
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline Settled settle(const EventParams& ev, std::uint64_t event, long epoch, double t, double walked,
                      double walked_err, double cold, double cold_err, const StressOptions& o) {
  const BinaryLens L = make_binary_lens(ev.s, ev.q);
  const cplx zeta = source_position(make_trajectory(ev), t);
  const QuadResult b = brute_force_disk_mag(L, zeta, ev.rho, o.fs.a1, o.brute_rel_tol);
  const double tol = std::max(o.fs.tol_abs, o.fs.tol_rel * b.value);
  // The brute-force error estimate is floored at its requested accuracy.
  return {event, epoch, walked, walked_err, cold, cold_err, b.value, std::max(b.err, o.brute_rel_tol * b.value), tol};
}

// progress(events done, near-caustic epochs settled) is called after each chunk and each settled
// near-caustic epoch.
template <class Progress>
StressReport run_finite_stress(const StressOptions& o, const Progress& progress) {
  sim::SimulationConfig cfg;  // the simulator's grid: t_i = i·dt, t0 = t0_sim
  const std::vector<double> t = sim::simulation_times(cfg);
  const std::size_t n_t = t.size();
  const std::size_t chunk = 32;
  StressReport rep;
  std::mt19937_64 pick(o.seed ^ 0x5eedull);
  std::vector<EventParams> ev(chunk);
  std::vector<double> Aw(chunk * n_t), Ew(chunk * n_t), Ac(chunk * n_t), Ec(chunk * n_t);
  std::vector<double> s(chunk * n_t), q(chunk * n_t), y1(chunk * n_t), y2(chunk * n_t), rho(chunk * n_t);
  std::vector<std::pair<std::uint64_t, long>> near;  // reservoir of near-caustic epochs
  std::size_t near_seen = 0;
  auto outline = std::make_unique<CausticOutline>();
  for (std::size_t done = 0; done < o.n_events;) {
    const std::size_t m = std::min(chunk, o.n_events - done);
    for (std::size_t k = 0; k < m; ++k)
      ev[k] = sim::simulated_event(cfg.prior, o.seed, o.first_event + done + k, cfg.t0_sim);
    auto t0 = std::chrono::steady_clock::now();
    lightcurves_host(ev.data(), m, t.data(), n_t, true, o.fs, Aw.data(), Ew.data(), o.threads);
    rep.walked_seconds += seconds_since(t0);
    for (std::size_t k = 0; k < m; ++k) {
      const Trajectory tr = make_trajectory(ev[k]);
      for (std::size_t i = 0; i < n_t; ++i) {
        const cplx z = source_position(tr, t[i]);
        const std::size_t j = k * n_t + i;
        s[j] = ev[k].s, q[j] = ev[k].q, y1[j] = z.re, y2[j] = z.im, rho[j] = ev[k].rho;
      }
    }
    t0 = std::chrono::steady_clock::now();
    finite_mag_host(s.data(), q.data(), y1.data(), y2.data(), rho.data(), m * n_t, o.fs, Ac.data(), Ec.data(),
                    o.threads);
    rep.cold_seconds += seconds_since(t0);
    for (std::size_t k = 0; k < m; ++k) {
      const std::uint64_t id = o.first_event + done + k;
      if (o.n_near_samples > 0) build_caustic_outline(make_binary_lens(ev[k].s, ev[k].q), outline.get());
      const Trajectory tr = make_trajectory(ev[k]);
      for (std::size_t i = 0; i < n_t; ++i) {
        const std::size_t j = k * n_t + i;
        const double tol = std::max(o.fs.tol_abs, o.fs.tol_rel * Ac[j]);
        rep.max_walked_err_over_tol = std::max(rep.max_walked_err_over_tol, Ew[j] / tol);
        rep.max_cold_err_over_tol = std::max(rep.max_cold_err_over_tol, Ec[j] / tol);
        const double diff = std::fabs(Aw[j] - Ac[j]), errs = Ew[j] + Ec[j] + 1e-12 * Ac[j];
        rep.max_diff_over_errs = std::max(rep.max_diff_over_errs, diff / errs);
        if (diff > errs) {
          ++rep.n_disagree;
          rep.disagreements.push_back(settle(ev[k], id, long(i), t[i], Aw[j], Ew[j], Ac[j], Ec[j], o));
        }
        if (o.n_near_samples > 0 &&
            caustic_distance_bound(*outline, source_position(tr, t[i]), 3.0 * ev[k].rho) < 3.0 * ev[k].rho) {
          // Reservoir sampling: every near-caustic epoch is equally likely to be checked.
          ++near_seen;
          if (near.size() < o.n_near_samples) {
            near.emplace_back(id, long(i));
          } else {
            const std::size_t r = std::uniform_int_distribution<std::size_t>(0, near_seen - 1)(pick);
            if (r < near.size()) near[r] = {id, long(i)};
          }
        }
      }
    }
    done += m;
    rep.n_events = done;
    rep.n_epochs += m * n_t;
    progress(done, std::size_t(0));
  }
  // The near-caustic sample: recompute both paths for the chosen epochs (cheap) and settle each.
  for (const auto& [id, i] : near) {
    const EventParams e = sim::simulated_event(cfg.prior, o.seed, id, cfg.t0_sim);
    std::vector<double> a(n_t), err(n_t);
    lightcurves_host(&e, 1, t.data(), n_t, true, o.fs, a.data(), err.data(), o.threads);
    const cplx z = source_position(make_trajectory(e), t[i]);
    double ac, ec;
    finite_mag_host(&e.s, &e.q, &z.re, &z.im, &e.rho, 1, o.fs, &ac, &ec, 1);
    rep.near_samples.push_back(settle(e, id, i, t[i], a[i], err[i], ac, ec, o));
    progress(rep.n_events, rep.near_samples.size());
  }
  return rep;
}

}  // namespace lensflow::lens::test
