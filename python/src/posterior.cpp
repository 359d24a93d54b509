// python/src/posterior.cpp — a trained model from Python: Posterior.load(run_dir) reads
// RUN_DIR/checkpoint.h5 and RUN_DIR/setup.h5 as lensflow-infer does; sample / log_prob run the
// network (pipeline/inference.hpp) and refine_is the importance sampling with the exact likelihood
// (pipeline/refine.hpp). Light curves are raw fluxes in photon counts on the model's window
// (n_win points, cadence dt, times = days from the window start); they are preprocessed here as in
// training (sim::preprocess_lightcurve: NaN, ±inf and non-positive points are missing).
#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "autodiff/tensor.hpp"
#include "io/checkpoint.hpp"
#include "io/prior_fields.hpp"
#include "io/run_setup.hpp"
#include "nn/posterior_model.hpp"
#include "pipeline/inference.hpp"
#include "pipeline/refine.hpp"
#include "sim/priors.hpp"
#include "sim/realization.hpp"

namespace lensflow::python {
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
constexpr int64_t D = sim::kThetaDim;

class Posterior {
 public:
  Posterior(const std::string& model, const std::string& device) {
    const std::string checkpoint = io::model_checkpoint_path(model);  // lensflow-infer --model's rule
    const ad::Device dev = use_cuda(device) ? ad::Device::CUDA : ad::Device::CPU;
    setup_ = io::read_run_setup(io::run_setup_path_for(checkpoint));
    const nn::PosteriorConfig cfg = io::read_checkpoint_config(checkpoint);
    model_ = std::make_unique<nn::PosteriorModel>(cfg);
    model_->to(dev);
    io::load_checkpoint(checkpoint, *model_);
    L_ = int64_t(setup_.realization.n_win);
    if (cfg.featurizer.length != L_ || cfg.flow.dim != D || cfg.featurizer.in_channels != 1)
      throw std::runtime_error(checkpoint + ": the model does not take " + std::to_string(L_) +
                               "-point light curves to 8 parameters");
    tf_ = pipeline::ThetaTransform::from_prior(setup_.realization.prior);
    device_ = device;
  }

  int64_t n_win() const { return L_; }
  double dt() const { return setup_.realization.dt; }
  std::vector<double> prior() const { return io::prior_to_attr(setup_.realization.prior); }
  const std::string& device() const { return device_; }

  py::dict sample(const Floats& flux, int64_t n, uint64_t seed, int max_redraws, int64_t batch) {
    const int64_t E = rows_of(flux);
    if (n < 1 || n > 100000) throw std::invalid_argument("sample: n = " + std::to_string(n) + " must be in [1, 1e5]");
    if (max_redraws < 0) throw std::invalid_argument("sample: max_redraws must be >= 0");
    pipeline::PosteriorSamples s;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mutex_);
      const std::vector<float> x = preprocess(flux.data(), E);
      pipeline::SamplingOptions so;
      so.n_samples = n;
      so.max_redraws = max_redraws;
      so.seed = seed;
      so.batch_obs = std::max<int64_t>(1, std::min<int64_t>(batch, (int64_t(1) << 20) / n));
      const sim::PriorBox prior = setup_.realization.prior;
      const pipeline::SupportFn support = [prior](const double* th) { return sim::in_support(prior, th); };
      s = pipeline::sample_posterior(*model_, x.data(), E, tf_, support, so);
    }
    Array theta({py::ssize_t(E), py::ssize_t(n), py::ssize_t(D)});
    std::copy(s.theta.begin(), s.theta.end(), theta.mutable_data());
    Array log_q({py::ssize_t(E), py::ssize_t(n)});
    std::copy(s.log_q.begin(), s.log_q.end(), log_q.mutable_data());
    py::dict out;
    out["theta"] = theta;
    out["log_q"] = log_q;
    out["acceptance"] = py::array_t<double>(py::ssize_t(E), s.acceptance.data());
    out["n_valid"] = py::array_t<int64_t>(py::ssize_t(E), s.n_valid.data());
    return out;
  }

  // log q(θ_i | x_i) for rows theta [E, 8] and flux [E, L].
  Array log_prob(const Array& theta, const Floats& flux, int64_t batch) {
    const int64_t E = rows_of(flux);
    if (theta.ndim() != 2 || theta.shape(0) != E || theta.shape(1) != D)
      throw std::invalid_argument("log_prob: theta must be [" + std::to_string(E) + ", 8]");
    std::vector<double> lq;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mutex_);
      const std::vector<float> x = preprocess(flux.data(), E);
      lq = pipeline::log_q_at(*model_, x.data(), E, theta.data(), tf_, batch);
    }
    return Array(py::ssize_t(E), lq.data());
  }

 private:
  int64_t rows_of(const Floats& flux) const {
    if (flux.ndim() != 2 || flux.shape(1) != L_)
      throw std::invalid_argument("flux must have " + std::to_string(L_) + " points per light curve (the model's window), got shape " +
                                  shape_of(flux));
    return flux.shape(0);
  }
  static std::string shape_of(const Floats& a) {
    std::string s = "(";
    for (py::ssize_t k = 0; k < a.ndim(); ++k) s += (k ? ", " : "") + std::to_string(a.shape(k));
    return s + ")";
  }
  std::vector<float> preprocess(const float* flux, int64_t E) const {
    std::vector<float> x(size_t(E * L_));
    for (int64_t i = 0; i < E; ++i) {
      try {
        sim::preprocess_lightcurve(flux + i * L_, size_t(L_), x.data() + i * L_);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("light curve " + std::to_string(i) + ": " + e.what());
      }
    }
    return x;
  }

  io::RunSetup setup_;
  std::unique_ptr<nn::PosteriorModel> model_;
  pipeline::ThetaTransform tf_;
  int64_t L_ = 0;
  std::string device_;
  std::mutex mutex_;  // one network call at a time per model (its buffers are not shared-safe)
};

// Importance sampling of surrogate samples theta [n, 8] (log_q [n]) against the exact posterior of
// one light curve (t, flux [photon counts]); NaN points are left out.
py::dict refine_is(const Array& t, const Array& flux, const Array& theta, const Array& log_q,
                   const Array& prior_values, bool finite, double tol_rel, bool laplace, int threads) {
  const std::size_t n = log_q.size();
  if (theta.ndim() != 2 || std::size_t(theta.shape(0)) != n || theta.shape(1) != D)
    throw std::invalid_argument("refine_is: theta must be [" + std::to_string(n) + ", 8] (one row per log_q)");
  if (t.size() != flux.size())
    throw std::invalid_argument("refine_is: t and flux differ in length (" + std::to_string(t.size()) + " vs " +
                                std::to_string(flux.size()) + ")");
  pipeline::RefineOptions ro;
  ro.prior = io::prior_from_attr(std::vector<double>(prior_values.data(), prior_values.data() + prior_values.size()));
  ro.likelihood.finite_source = finite;
  ro.likelihood.fs.tol_rel = tol_rel;
  ro.likelihood.n_threads = threads;
  ro.likelihood.fbase = laplace ? sim::BaselineFluxMode::laplace_marginal : sim::BaselineFluxMode::profile;
  std::vector<double> tt, ff;
  for (py::ssize_t j = 0; j < t.size(); ++j)
    if (std::isfinite(flux.data()[j]) && std::isfinite(t.data()[j])) {
      tt.push_back(t.data()[j]);
      ff.push_back(flux.data()[j]);
    }
  pipeline::RefineIsResult r;
  {
    py::gil_scoped_release nogil;
    r = pipeline::refine_is(sim::LightCurveView{tt.data(), ff.data(), tt.size()}, theta.data(), log_q.data(), n, ro);
  }
  py::dict out;
  const auto& w = r.is.w;
  out["weights"] = Array(py::ssize_t(w.weights.size()), w.weights.data());
  out["log_weights"] = Array(py::ssize_t(w.log_w.size()), w.log_w.data());
  out["log_likelihood"] = Array(py::ssize_t(r.log_likelihood.size()), r.log_likelihood.data());
  out["log_prior"] = Array(py::ssize_t(r.log_prior.size()), r.log_prior.data());
  out["fbase"] = Array(py::ssize_t(r.fbase.size()), r.fbase.data());
  out["n_eff"] = w.n_eff;
  out["efficiency"] = w.efficiency;
  out["log_evidence"] = w.log_evidence;
  out["ok"] = w.status == stats::IsStatus::ok;
  out["message"] = w.message;
  return out;
}

}  // namespace

void bind_posterior(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<Posterior>(m, "Posterior")
      .def(py::init<const std::string&, const std::string&>(), "checkpoint"_a, "device"_a)
      .def_property_readonly("n_win", &Posterior::n_win)
      .def_property_readonly("dt", &Posterior::dt)
      .def_property_readonly("prior", &Posterior::prior)
      .def_property_readonly("device", &Posterior::device)
      .def("sample", &Posterior::sample, "flux"_a, "n"_a, "seed"_a, "max_redraws"_a, "batch"_a)
      .def("log_prob", &Posterior::log_prob, "theta"_a, "flux"_a, "batch"_a);
  m.def("refine_is", &refine_is, "t"_a, "flux"_a, "theta"_a, "log_q"_a, "prior"_a, "finite"_a, "tol_rel"_a,
        "laplace"_a, "threads"_a);
}

}  // namespace lensflow::python
