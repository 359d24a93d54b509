// bench/lens/prior_events.hpp — the lens benches' random events: the priors of
// docs/conventions.md §Priors (s, q log-uniform, α uniform, u0 ∈ [0, 2], log10 tE ~ N(1.15, 0.45)
// truncated to [0, 2], ρ log-uniform) with t0 = 72 d, drawn in one fixed order so a seed always
// gives the same events.
#pragma once

#include <cmath>
#include <random>

#include "lens/trajectory.hpp"

namespace lensflow::bench_util {

// exp of a uniform draw in [log lo, log hi).
inline double log_uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
}

// Successive events from `rng`; keeps the log10 tE distribution (it caches a second normal draw).
class SpecEvents {
 public:
  explicit SpecEvents(std::mt19937_64& rng) : rng_(rng) {}
  lens::EventParams next() {
    lens::EventParams e;
    e.s = log_uniform(rng_, 0.2, 5.0);
    e.q = log_uniform(rng_, 1e-6, 1.0);
    e.alpha_deg = std::uniform_real_distribution<double>(0.0, 360.0)(rng_);
    e.u0 = std::uniform_real_distribution<double>(0.0, 2.0)(rng_);
    e.t0 = 72.0;
    double l;
    do l = log_tE_(rng_);
    while (l < 0.0 || l > 2.0);
    e.tE = std::pow(10.0, l);
    e.rho = log_uniform(rng_, 1e-4, 1e-2);
    return e;
  }

 private:
  std::mt19937_64& rng_;
  std::normal_distribution<double> log_tE_{1.15, 0.45};
};

}  // namespace lensflow::bench_util
