// python/src/simulation.cpp — the training-set generator for Python: prior draws
// (sim/priors.hpp), the simulator with its 1L1S cut (sim/simulator.hpp: the numbers
// lensflow-simulate writes for the same seed and draw indices) and the realization with photon
// noise (sim/realization.hpp: the samples training sees for the same seed, epoch and draw index).
// The prior travels as its 18 values in the order of io/prior_fields.hpp.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "core/thread_pool.hpp"
#include "io/prior_fields.hpp"
#include "sim/priors.hpp"
#include "sim/realization.hpp"
#include "sim/simulator.hpp"

namespace lensflow::python {
namespace {

sim::PriorBox prior_of(const Array& values) {
  return io::prior_from_attr(std::vector<double>(values.data(), values.data() + values.size()));
}

// [n, 8] rows (s, q, alpha_deg, u0, t0, tE, rho, fs): draws first_index … first_index + n - 1.
Array prior_draw(const Array& prior_values, std::uint64_t n, std::uint64_t seed, std::uint64_t first_index,
                 int threads) {
  const sim::PriorBox prior = prior_of(prior_values);
  Array out({py::ssize_t(n), py::ssize_t(8)});
  double* p = out.mutable_data();
  without_gil([&] {
    core::parallel_for_chunks(n, 1024, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        const sim::PriorDraw d = sim::sample_event(prior, seed, first_index + i);
        const double row[8] = {d.s, d.q, d.alpha_deg, d.u0, d.t0, d.tE, d.rho, d.fs};
        std::memcpy(p + 8 * i, row, sizeof row);
      }
    });
  });
  return out;
}

// log p(θ) of θ rows [n, 8] (docs/conventions.md §Priors order), -inf outside the support.
Array log_prior(const Array& prior_values, const Array& theta) {
  const sim::PriorBox prior = prior_of(prior_values);
  const std::size_t n = theta.size() / 8;
  Array out = new_array(n);
  double* p = out.mutable_data();
  const double* th = theta.data();
  without_gil([&] {
    for (std::size_t i = 0; i < n; ++i) p[i] = sim::log_prior_theta(prior, th + 8 * i);
  });
  return out;
}

py::dict simulate(const Array& prior_values, std::uint64_t n, std::uint64_t seed, std::uint64_t first_index,
                  std::size_t n_t, double dt, double t0_sim, bool finite, double tol_rel, const std::string& cut,
                  const std::string& device, int threads) {
  sim::SimulationConfig cfg;
  cfg.prior = prior_of(prior_values);
  cfg.seed = seed;
  cfg.n_t = n_t;
  cfg.dt = dt;
  cfg.t0_sim = t0_sim;
  cfg.finite_source = finite;
  cfg.fs.tol_rel = tol_rel;
  if (cut == "paper") {
    cfg.cut.mode = sim::CutMode::paper;
  } else if (cut == "fit") {
    cfg.cut.mode = sim::CutMode::fit;
  } else if (cut == "none") {
    cfg.cut.threshold = -1.0;  // χ²/dof >= 0 > -1: every draw is kept
  } else {
    throw std::invalid_argument("cut = '" + cut + "' is invalid (must be 'paper', 'fit' or 'none')");
  }
  sim::validate_simulation_config(cfg);
  const sim::SimDevice dev = use_cuda(device) ? sim::SimDevice::cuda : sim::SimDevice::cpu;
  sim::SimulationBatch b;
  without_gil([&] { b = sim::simulate_events(cfg, first_index, n, dev, threads); });
  const py::ssize_t k = py::ssize_t(b.n_accepted());
  py::array_t<std::int64_t> index(k);
  std::copy(b.accepted_index.begin(), b.accepted_index.end(), index.mutable_data());
  Array events({k, py::ssize_t(7)});
  std::memcpy(events.mutable_data(), b.accepted_events.data(), sizeof(double) * 7 * std::size_t(k));
  py::array_t<float> mag({k, py::ssize_t(n_t)});
  std::memcpy(mag.mutable_data(), b.accepted_mag.data(), sizeof(float) * b.accepted_mag.size());
  py::dict out;
  out["event_index"] = index;
  out["events"] = events;
  out["mag"] = mag;
  out["chi2_dof"] = py::array_t<double>(k, b.accepted_chi2_dof.data());
  out["all_chi2_dof"] = py::array_t<double>(py::ssize_t(b.all_chi2_dof.size()), b.all_chi2_dof.data());
  return out;
}

// Realizations of stored sequences: mag [B, n_seq] float32, events [B, 7], event_index [B].
py::dict realize(const Array& prior_values, const py::array_t<float, py::array::c_style | py::array::forcecast>& mag,
                 const Array& events, const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& index,
                 std::uint64_t seed, std::uint64_t epoch, std::size_t n_win, double dt, double t0_seq,
                 double snr_min, double snr_max, bool noise, bool time_reversal, int threads) {
  if (mag.ndim() != 2) throw std::invalid_argument("realize: mag must be a 2-D array [events, n_seq]");
  const std::size_t B = mag.shape(0);
  if (events.ndim() != 2 || std::size_t(events.shape(0)) != B || events.shape(1) != 7)
    throw std::invalid_argument("realize: events must be [" + std::to_string(B) + ", 7]");
  if (std::size_t(index.size()) != B)
    throw std::invalid_argument("realize: event_index must have " + std::to_string(B) + " values");
  sim::RealizationConfig cfg;
  cfg.prior = prior_of(prior_values);
  cfg.n_seq = mag.shape(1);
  cfg.n_win = n_win;
  cfg.dt = dt;
  cfg.t0_seq = t0_seq;
  cfg.snr_min = snr_min;
  cfg.snr_max = snr_max;
  cfg.noise = noise;
  cfg.time_reversal = time_reversal;
  sim::validate_realization_config(cfg);
  py::array_t<float> x({py::ssize_t(B), py::ssize_t(n_win)}), flux({py::ssize_t(B), py::ssize_t(n_win)});
  py::array_t<float> theta_std({py::ssize_t(B), py::ssize_t(8)});
  Array theta({py::ssize_t(B), py::ssize_t(8)});
  const auto* ev = reinterpret_cast<const lens::EventParams*>(events.data());
  float *px = x.mutable_data(), *pf = flux.mutable_data(), *ps = theta_std.mutable_data();
  double* pt = theta.mutable_data();
  const float* pm = mag.data();
  const std::uint64_t* pi = index.data();
  without_gil([&] { sim::realize_batch_host(cfg, pm, ev, pi, B, seed, epoch, px, ps, pt, pf, threads); });
  py::dict out;
  out["flux"] = flux;
  out["x"] = x;
  out["theta"] = theta;
  out["theta_std"] = theta_std;
  return out;
}

}  // namespace

void bind_simulation(py::module_& m) {
  using namespace pybind11::literals;
  m.def("prior_field_names", [] { return io::prior_field_names(); });
  m.def("prior_defaults", [] { return io::prior_to_attr(sim::PriorBox{}); });
  m.def("prior_draw", &prior_draw, "prior"_a, "n"_a, "seed"_a, "first_index"_a, "threads"_a);
  m.def("log_prior", &log_prior, "prior"_a, "theta"_a);
  m.def("simulate", &simulate, "prior"_a, "n"_a, "seed"_a, "first_index"_a, "n_t"_a, "dt"_a, "t0_sim"_a, "finite"_a,
        "tol_rel"_a, "cut"_a, "device"_a, "threads"_a);
  m.def("realize", &realize, "prior"_a, "mag"_a, "events"_a, "event_index"_a, "seed"_a, "epoch"_a, "n_win"_a, "dt"_a,
        "t0_seq"_a, "snr_min"_a, "snr_max"_a, "noise"_a, "time_reversal"_a, "threads"_a);
}

}  // namespace lensflow::python
