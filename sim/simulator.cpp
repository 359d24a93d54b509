// sim/simulator.cpp — CPU executor of the training-set simulator and the config checks.
#include "sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>

#include "lens/lensflow_lens.hpp"

namespace lensflow::sim {

void validate_simulation_config(const SimulationConfig& cfg) {
  validate_prior(cfg.prior);
  if (cfg.n_t < 4) throw std::invalid_argument("simulation: n_t must be >= 4 (got " + std::to_string(cfg.n_t) + ")");
  if (!(std::isfinite(cfg.dt) && cfg.dt > 0.0)) throw std::invalid_argument("simulation: dt must be finite and > 0");
  if (!std::isfinite(cfg.t0_sim)) throw std::invalid_argument("simulation: t0_sim must be finite");
  if (!(cfg.fs.tol_rel >= 0.0 && cfg.fs.tol_abs >= 0.0 && cfg.fs.tol_rel + cfg.fs.tol_abs > 0.0 &&
        std::isfinite(cfg.fs.tol_rel) && std::isfinite(cfg.fs.tol_abs)))
    throw std::invalid_argument("simulation: finite-source tolerances must be finite, >= 0 and not both 0");
  if (!(cfg.cut.snr_base > 0.0 && std::isfinite(cfg.cut.snr_base)))
    throw std::invalid_argument("simulation: cut S/N must be finite and > 0");
  if (cfg.cut.mode == CutMode::paper) {
    const double t_end = double(cfg.n_t - 1) * cfg.dt;
    if (!(cfg.cut.window_lo < cfg.cut.window_hi) || cfg.cut.window_hi <= 0.0 || cfg.cut.window_lo > t_end)
      throw std::invalid_argument("simulation: the paper cut window does not overlap the time grid");
  }
}

std::vector<double> simulation_times(const SimulationConfig& cfg) {
  std::vector<double> t(cfg.n_t);
  for (std::size_t i = 0; i < cfg.n_t; ++i) t[i] = double(i) * cfg.dt;
  return t;
}

namespace {

void keep_accepted(const SimulationConfig& cfg, const lens::EventParams* ev, const double* chi2, const double* A,
                   std::uint64_t first, std::size_t n, SimulationBatch& out) {
  for (std::size_t k = 0; k < n; ++k) {
    out.all_chi2_dof.push_back(chi2[k]);
    if (!(chi2[k] >= cfg.cut.threshold)) continue;
    out.accepted_index.push_back(first + k);
    out.accepted_events.push_back(ev[k]);
    out.accepted_chi2_dof.push_back(chi2[k]);
    const double* a = A + k * cfg.n_t;
    out.accepted_mag.insert(out.accepted_mag.end(), a, a + cfg.n_t);  // double → float
  }
}

}  // namespace

SimulationBatch simulate_events(const SimulationConfig& cfg, std::uint64_t first_index, std::size_t n,
                                SimDevice device, int n_threads, const SimulationProgress& progress,
                                std::size_t device_batch) {
  validate_simulation_config(cfg);
  SimulationBatch out;
  out.first_index = first_index;
  out.n_drawn = n;
  out.all_chi2_dof.reserve(n);
  if (device == SimDevice::cuda) {
    detail::simulate_events_cuda(cfg, first_index, n, std::max<std::size_t>(device_batch, 1), progress, out);
    return out;
  }
  const int threads = n_threads > 0 ? n_threads : lens::default_thread_count();
  const std::vector<double> t = simulation_times(cfg);
  // Chunks of a few events per thread: bounded memory (chunk × n_t doubles), regular progress.
  const std::size_t chunk = std::size_t(std::max(4, 2 * threads));
  std::vector<lens::EventParams> ev(chunk);
  std::vector<double> A(chunk * cfg.n_t), chi2(chunk);
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = std::min(chunk, n - done);
    for (std::size_t k = 0; k < m; ++k) ev[k] = simulated_event(cfg.prior, cfg.seed, first_index + done + k, cfg.t0_sim);
    lens::lightcurves_host(ev.data(), m, t.data(), cfg.n_t, cfg.finite_source, cfg.fs, A.data(), nullptr, threads);
    pspl_cut_host(ev.data(), m, t.data(), cfg.n_t, A.data(), cfg.cut, chi2.data(), threads);
    keep_accepted(cfg, ev.data(), chi2.data(), A.data(), first_index + done, m, out);
    done += m;
    if (progress) progress(done);
  }
  return out;
}

#if !LENSFLOW_HAVE_CUDA
void detail::simulate_events_cuda(const SimulationConfig&, std::uint64_t, std::size_t, std::size_t,
                                  const SimulationProgress&, SimulationBatch&) {
  throw std::runtime_error("simulate_events: the CUDA device was asked for but lensflow was built without CUDA");
}
#endif

}  // namespace lensflow::sim
