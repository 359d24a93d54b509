// sim/simulator.hpp — the training-set simulator (docs/conventions.md §Training set): prior draws →
// finite-source magnification sequences → 1L1S cut, for a contiguous range of global draw indices.
//
// Draw number i (global, 0-based) is sample_event(prior, seed, i) with t0 replaced by t0_sim (the
// 144-day sequence has the event's t0 at day 72; the training window later makes t0 uniform).
// Because each draw depends only on (seed, i), simulating [0, N) in any split into ranges, on any
// number of threads or on the GPU, gives the same events; the magnifications agree within the
// finite-source tolerance between CPU and GPU (and the cut's χ² to round-off on the same A).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "lens/finite_source.hpp"
#include "lens/trajectory.hpp"
#include "sim/priors.hpp"
#include "sim/pspl_cut.hpp"

namespace lensflow::sim {

struct SimulationConfig {
  PriorBox prior;
  std::uint64_t seed = 1;
  // Time grid t_i = i·dt, i < n_t (default 0.00 … 143.99 d); every event has t0 = t0_sim.
  std::size_t n_t = 14400;
  double dt = 0.01;
  double t0_sim = 72.0;
  bool finite_source = true;
  lens::FiniteSourceOptions fs;  // finite-source accuracy (tol_rel 1e-3 by default)
  CutOptions cut;
};

// Throws std::invalid_argument naming the problem (bad prior range, n_t < 4, dt <= 0, ...).
void validate_simulation_config(const SimulationConfig& cfg);

// The time grid of the sequences.
std::vector<double> simulation_times(const SimulationConfig& cfg);

// Draw number `index` as the simulator uses it (t0 = t0_sim). HD so that a kernel can draw too.
LENSFLOW_HD lens::EventParams simulated_event(const PriorBox& prior, std::uint64_t seed, std::uint64_t index,
                                        double t0_sim) {
  const PriorDraw d = sample_event(prior, seed, index);
  return lens::EventParams{d.s, d.q, d.alpha_deg, d.u0, t0_sim, d.tE, d.rho};
}

enum class SimDevice { cpu, cuda };

// Result for draws [first_index, first_index + n_drawn).
struct SimulationBatch {
  std::uint64_t first_index = 0;
  std::size_t n_drawn = 0;
  std::vector<double> all_chi2_dof;            // n_drawn: the cut statistic of every draw
  std::vector<std::uint64_t> accepted_index;   // global draw indices of the kept events
  std::vector<lens::EventParams> accepted_events;    // their parameters (t0 = t0_sim)
  std::vector<double> accepted_chi2_dof;
  std::vector<float> accepted_mag;             // n_accepted × n_t, row-major, float32
  std::size_t n_accepted() const { return accepted_index.size(); }
};

// Called after each processed chunk with the number of draws done so far in this call.
using SimulationProgress = std::function<void(std::size_t done)>;

// Simulates draws [first_index, first_index + n). CPU: chunks of events through lens::lightcurves_host and
// pspl_cut_host on n_threads threads (0 = all cores). CUDA: chunks of `device_batch` events through
// lens::lightcurves_device and pspl_cut_device; only accepted rows come back to the host. Throws
// std::invalid_argument on a bad config, std::runtime_error when CUDA is asked for but unusable.
SimulationBatch simulate_events(const SimulationConfig& cfg, std::uint64_t first_index, std::size_t n,
                                SimDevice device = SimDevice::cpu, int n_threads = 0,
                                const SimulationProgress& progress = {}, std::size_t device_batch = 1024);

namespace detail {
// CUDA executor behind simulate_events (sim/simulator_cuda.cu; throws without CUDA).
void simulate_events_cuda(const SimulationConfig& cfg, std::uint64_t first_index, std::size_t n,
                          std::size_t device_batch, const SimulationProgress& progress, SimulationBatch& out);
}  // namespace detail

}  // namespace lensflow::sim
