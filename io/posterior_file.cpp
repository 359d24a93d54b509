// io/posterior_file.cpp — see posterior_file.hpp.
#include "io/posterior_file.hpp"

#include <stdexcept>

namespace lensflow::io {
namespace {

constexpr const char* kFormat = "lensflow-posterior";

std::string shape_text(const Dims& d) {
  std::string t = "[";
  for (size_t i = 0; i < d.size(); ++i) t += (i ? ", " : "") + std::to_string(d[i]);
  return t + "]";
}

}  // namespace

PosteriorWriter::PosteriorWriter(const std::string& path, const PosteriorShape& shape) : shape_(shape), w_(path) {
  const uint64_t E = shape.n_events, S = shape.n_samples;
  w_.create_f32("samples", {E, S, shape.dim}, shape.chunk_rows);
  w_.create_f32("log_q", {E, S}, shape.chunk_rows);
  if (shape.n_flux > 0) w_.create_f32("flux", {shape.n_flux, shape.flux_length}, 1);
  if (shape.is_weights) w_.create_f64("refine/is/weights", {E, S}, shape.chunk_rows);
}

void PosteriorWriter::write_samples(uint64_t first, uint64_t n, const float* theta, const float* log_q) {
  w_.write_rows("samples", first, n, theta);
  w_.write_rows("log_q", first, n, log_q);
}

void PosteriorWriter::write_flux(uint64_t event, const float* flux) { w_.write_rows("flux", event, 1, flux); }

void PosteriorWriter::write_is_weights(uint64_t event, const double* w) {
  w_.write_rows("refine/is/weights", event, 1, w);
}

void PosteriorWriter::finish(const PosteriorEvents& ev, const PosteriorAttrs& a) {
  const uint64_t E = shape_.n_events, D = shape_.dim;
  auto put = [&](const std::string& name, const auto& v, const Dims& dims) {
    if (!v.empty()) w_.write(name, v.data(), dims);
  };
  put("acceptance", ev.acceptance, {E});
  put("n_valid", ev.n_valid, {E});
  put("n_drawn", ev.n_drawn, {E});
  put("summary/median", ev.median, {E, D});
  put("summary/p16", ev.p16, {E, D});
  put("summary/p84", ev.p84, {E, D});
  put("summary/modes", ev.modes, {E, D, uint64_t(kPosteriorModes)});
  put("summary/n_modes", ev.n_modes, {E, D});
  if (shape_.n_flux > 0) put("time", ev.time, {shape_.flux_length});
  put("theta_true", ev.theta_true, {E, D});
  put("event_index", ev.event_index, {E});
  put("log_q_true", ev.log_q_true, {E});
  put("snr_base", ev.snr_base, {E});
  put("t_start", ev.t_start, {E});
  put("n_missing", ev.n_missing, {E});
  w_.attr("/", "format", std::string(kFormat));
  w_.attr("/", "theta_names", a.theta_names);
  w_.attr("/", "prior", a.prior);
  w_.attr("/", "theta_mean", a.theta_mean);
  w_.attr("/", "theta_std", a.theta_std);
  w_.attr("/", "log_std_sum", a.log_std_sum);
  w_.attr("/", "model", a.model);
  w_.attr("/", "source", a.source);
  w_.attr("/", "n_samples", a.n_samples);
  w_.attr("/", "seed", a.seed);
  w_.attr("/", "max_redraws", a.max_redraws);
  w_.attr("/", "device", a.device);
  w_.attr("/", "seconds", a.seconds);
  put("refine/is/n_eff", ev.is_n_eff, {E});
  put("refine/is/efficiency", ev.is_efficiency, {E});
  put("refine/mcmc/best_theta", ev.mcmc_best_theta, {E, D});
  put("refine/mcmc/acceptance_fraction", ev.mcmc_acceptance_fraction, {E});
  put("refine/mcmc/rhat_max", ev.mcmc_rhat_max, {E});
  put("refine/summary/median", ev.refined_median, {E, D});
  put("refine/summary/q16", ev.refined_q16, {E, D});
  put("refine/summary/q84", ev.refined_q84, {E, D});
  if (!a.refine.empty()) w_.attr("/", "refine", a.refine);
  w_.close();
}

PosteriorReader::PosteriorReader(const std::string& path) : r_(path) {
  if (!r_.has_attr("/", "format") || r_.attr_str("/", "format") != kFormat)
    throw std::runtime_error(path + ": not a lensflow posterior file (written by lensflow-infer)");
  const Dims sd = r_.shape("samples");
  if (sd.size() != 3 || sd[2] != 8) throw std::runtime_error(path + ": /samples must be [events, samples, 8]");
  n_events_ = sd[0];
  n_samples_ = sd[1];
  if (n_events_ == 0) throw std::runtime_error(path + ": no events");
  if (n_samples_ == 0) throw std::runtime_error(path + ": no samples per event");
  r_.require_stored("samples");
  // Every per-event dataset must describe the same E events.
  auto require_shape = [&](const std::string& name, const Dims& want) {
    if (!r_.has(name)) return;
    const Dims got = r_.shape(name);
    if (got != want)
      throw std::runtime_error(path + ": dataset '" + name + "' has shape " + shape_text(got) + ", expected " +
                               shape_text(want) + " to match /samples");
  };
  require_shape("theta_true", {n_events_, 8});
  require_shape("log_q_true", {n_events_});
  require_shape("n_valid", {n_events_});
  if (r_.has("flux")) {
    const Dims fd = r_.shape("flux");
    if (fd.size() != 2 || fd[0] > n_events_)
      throw std::runtime_error(path + ": dataset 'flux' must be [K, points] with K <= " + std::to_string(n_events_) +
                               " events");
  }
}

std::vector<float> PosteriorReader::read_samples(uint64_t first, uint64_t n) const {
  return r_.read_rows_f32("samples", first, n);
}

std::vector<double> PosteriorReader::theta_true() const {
  if (!r_.has("theta_true"))
    throw std::runtime_error(path() + ": no truths (/theta_true); evaluate needs `lensflow-infer --test-set`");
  return r_.read_f64("theta_true");
}

std::vector<double> PosteriorReader::log_q_true() const {
  return r_.has("log_q_true") ? r_.read_f64("log_q_true") : std::vector<double>();
}

std::vector<int64_t> PosteriorReader::n_valid() const {
  return r_.has("n_valid") ? r_.read_i64("n_valid") : std::vector<int64_t>();
}

std::vector<double> PosteriorReader::prior() const { return r_.attr_f64s("/", "prior"); }

double PosteriorReader::log_std_sum() const {
  return r_.has_attr("/", "log_std_sum") ? r_.attr_f64("/", "log_std_sum") : 0.0;
}

uint64_t PosteriorReader::n_flux() const { return r_.has("flux") ? r_.shape("flux")[0] : 0; }

}  // namespace lensflow::io
