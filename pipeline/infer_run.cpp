// pipeline/infer_run.cpp — see infer_run.hpp.
#include "pipeline/infer_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autodiff/tensor.hpp"
#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/checkpoint.hpp"
#include "io/dataset.hpp"
#include "io/observed_io.hpp"
#include "io/posterior_file.hpp"
#include "io/prior_fields.hpp"
#include "io/run_setup.hpp"
#include "pipeline/inference.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/refine.hpp"
#include "pipeline/training_data.hpp"

namespace lensflow::pipeline {
namespace {

// Mixes the realization seed of the test set away from the training seeds.
constexpr uint64_t kTestRealizationSalt = 0x54455354ull;  // "TEST"

// Memory bounds: samples drawn per network call (events per call shrink as n_samples grows), the
// most samples of one event (drawn in one call), and the bytes of one HDF5 chunk.
constexpr int64_t kSamplesPerCall = int64_t(1) << 16;
constexpr int64_t kMaxSamplesPerEvent = 100000;
constexpr uint64_t kChunkBytes = uint64_t(4) << 20;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::string summary_path_for(const std::string& out) {
  const auto dot = out.find_last_of('.');
  const auto slash = out.find_last_of('/');
  const std::string stem =
      (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? out.substr(0, dot) : out;
  return stem + "_summary.csv";
}

struct InferRun::State {
  io::RunSetup setup;
  std::unique_ptr<nn::PosteriorModel> model;
  ThetaTransform tf;
  std::vector<stats::MarginalSpec> specs;
  std::unique_ptr<io::DatasetReader> data;        // --test-set
  std::unique_ptr<RealizedDataset> test_src;
  io::ObservedSet observed;                       // --input
  int64_t E = 0, L = 0, D = sim::kThetaDim, step = 0;
  std::string summary;
  std::unique_ptr<io::PosteriorWriter> writer;
};

InferRun::InferRun(InferOptions opt) : opt_(std::move(opt)), s_(std::make_unique<State>()) {
  opt_.model = io::model_checkpoint_path(opt_.model);
  const InferOptions& o = opt_;
  State& s = *s_;
  if (o.test_set.empty() == o.input.empty())
    throw std::invalid_argument("give exactly one of --test-set DIR or --input FILE");
  if (o.refine != "" && o.refine != "is" && o.refine != "mcmc")
    throw std::invalid_argument("--refine must be is or mcmc (got '" + o.refine + "')");
  if (o.split != "test" && o.split != "all")
    throw std::invalid_argument("--split must be test or all (got '" + o.split + "')");
  if (o.split != "test" && o.test_set.empty())
    throw std::invalid_argument("--split applies to --test-set only");
  if (o.device != "cpu" && o.device != "cuda")
    throw std::invalid_argument("--device must be cpu or cuda (got '" + o.device + "')");
  if (o.n_samples < 1 || o.batch < 1 || o.max_events < 0 || o.store_flux < 0 || o.max_redraws < 0)
    throw std::invalid_argument("--n-samples and --batch must be >= 1, --max-events, --store-flux and "
                                "--max-redraws >= 0");
  if (o.n_samples > kMaxSamplesPerEvent)
    throw std::runtime_error("--n-samples " + std::to_string(o.n_samples) + " is more than the limit of " +
                             std::to_string(kMaxSamplesPerEvent) +
                             " samples per event (one event's samples are drawn and summarized in memory "
                             "together); draw several runs with different --seed instead");
  const std::string setup_path = io::run_setup_path_for(o.model);
  s.summary = summary_path_for(o.out);
  {  // Outputs that would overwrite an input are refused before any work.
    std::vector<core::NamedPath> inputs = {{"--model", o.model}, {"the model's setup", setup_path}};
    if (!o.input.empty())
      inputs.push_back({"--input", o.input});
    else
      for (const auto& f : io::shard_files(o.test_set)) inputs.push_back({"the --test-set shard", f});
    core::refuse_overlaps({{"--out", o.out}, {"the summary CSV", s.summary}}, inputs);
  }
  core::set_num_threads(o.threads);
  const ad::Device dev = o.device == "cuda" ? ad::Device::CUDA : ad::Device::CPU;
  if (dev == ad::Device::CUDA && !ad::cuda_available())
    throw std::runtime_error("--device cuda: no CUDA device available (or built without CUDA)");
  s.setup = io::read_run_setup(setup_path);
  const nn::PosteriorConfig cfg = io::read_checkpoint_config(o.model);
  s.model = std::make_unique<nn::PosteriorModel>(cfg);
  s.model->to(dev);
  io::load_checkpoint(o.model, *s.model);
  const auto& rc = s.setup.realization;
  s.L = int64_t(rc.n_win);
  if (cfg.featurizer.length != s.L || cfg.flow.dim != s.D || cfg.featurizer.in_channels != 1)
    throw std::runtime_error(o.model + ": the model does not take " + std::to_string(s.L) +
                             "-point light curves to 8 parameters");
  s.tf = ThetaTransform::from_prior(rc.prior);
  s.specs = theta_marginals(rc.prior);

  // The events: either realized test-set rows or read light curves.
  if (!o.test_set.empty()) {
    s.data = std::make_unique<io::DatasetReader>(o.test_set);
    if (io::prior_to_attr(io::prior_from_attr(s.data->settings().prior)) != io::prior_to_attr(rc.prior))
      throw std::runtime_error(o.test_set + ": its prior differs from the one the model was trained on");
    std::vector<std::size_t> rows;
    if (o.split == "all") {  // a set simulated apart from the training set (another seed)
      rows.resize(s.data->size());
      for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
    } else {
      rows = s.data->split_rows(io::Split::test, s.setup.split);
    }
    if (rows.empty()) throw std::runtime_error(o.test_set + ": no events in the " + o.split + " split");
    s.test_src = std::make_unique<RealizedDataset>(*s.data, rows, rc, s.setup.seed ^ kTestRealizationSalt, o.threads);
    s.E = s.test_src->size();
  } else {
    s.observed = io::read_observed(o.input, io::parse_nan_policy(o.nan), s.L);
    s.E = s.observed.n_events;
  }
  if (o.max_events > 0) s.E = std::min(s.E, o.max_events);

  // Events per network call: --batch, fewer when one event has many samples.
  s.step = std::max<int64_t>(1, std::min(o.batch, kSamplesPerCall / o.n_samples));
  io::PosteriorShape shape;
  shape.n_events = uint64_t(s.E);
  shape.n_samples = uint64_t(o.n_samples);
  shape.dim = uint64_t(s.D);
  shape.n_flux = uint64_t(std::min(o.store_flux, s.E));
  shape.flux_length = uint64_t(s.L);
  shape.is_weights = o.refine == "is";
  shape.chunk_rows = std::max<uint64_t>(
      1, std::min<uint64_t>(uint64_t(s.step), kChunkBytes / (uint64_t(o.n_samples) * uint64_t(s.D) * 4)));
  s.writer = std::make_unique<io::PosteriorWriter>(o.out, shape);
}

InferRun::~InferRun() = default;

int64_t InferRun::n_events() const { return s_->E; }

InferReport InferRun::run(std::ostream* progress) {
  const InferOptions& o = opt_;
  State& s = *s_;
  const auto& rc = s.setup.realization;
  const int64_t E = s.E, L = s.L, D = s.D, N = o.n_samples, K = std::min(o.store_flux, E);
  const bool refine = !o.refine.empty();
  io::PosteriorEvents ev;
  std::vector<std::vector<stats::EventMarginal>> summaries;

  SamplingOptions so;
  so.n_samples = N;
  so.max_redraws = o.max_redraws;
  so.seed = o.seed;
  so.batch_obs = s.step;
  std::vector<double> time(L);  // days from the window start (the frame of t0)
  for (int64_t j = 0; j < L; ++j) time[j] = double(j) * rc.dt;
  RefineOptions ro;
  ro.prior = rc.prior;
  ro.likelihood.n_threads = o.threads;
  ro.use_device = o.device == "cuda";
  if (o.mcmc_steps > 0) {
    ro.mcmc.max_steps = o.mcmc_steps;
    ro.mcmc.min_steps = std::min(ro.mcmc.min_steps, o.mcmc_steps);
  }
  const SupportFn support = [prior = rc.prior](const double* th) { return sim::in_support(prior, th); };
  std::unique_ptr<Progress> bar;
  if (progress) bar = std::make_unique<Progress>("infer", uint64_t(E), "events", progress);
  const auto t_begin = std::chrono::steady_clock::now();
  double refine_seconds = 0.0;  // left out of `seconds` (the sampling time)
  for (int64_t b0 = 0; b0 < E; b0 += s.step) {
    const int64_t m = std::min(s.step, E - b0);
    std::vector<float> x(m * L), flux(m * L);
    std::vector<double> th(m * D);
    if (s.test_src) {
      std::vector<int64_t> pos(m);
      std::vector<float> th_std(m * D);
      for (int64_t i = 0; i < m; ++i) pos[i] = b0 + i;
      s.test_src->realize_full(pos.data(), m, 0, x.data(), th_std.data(), th.data(), flux.data());
      for (int64_t i = 0; i < m; ++i) {
        ev.event_index.push_back(s.data->event_index(s.test_src->row(b0 + i)));
        ev.snr_base.push_back(s.test_src->draw(b0 + i, 0).snr);
      }
    } else {
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < L; ++j) flux[i * L + j] = float(s.observed.flux[(b0 + i) * L + j]);
        sim::preprocess_lightcurve(flux.data() + i * L, size_t(L), x.data() + i * L);
        ev.t_start.push_back(s.observed.t_start[b0 + i]);
        ev.n_missing.push_back(s.observed.n_missing[b0 + i]);
      }
    }
    const auto smp = sample_posterior(*s.model, x.data(), m, s.tf, support, so, b0);
    s.writer->write_samples(uint64_t(b0), uint64_t(m), smp.theta.data(), smp.log_q.data());
    for (int64_t i = b0; i < std::min(b0 + m, K); ++i) s.writer->write_flux(uint64_t(i), flux.data() + (i - b0) * L);
    if (s.test_src) {
      ev.theta_true.insert(ev.theta_true.end(), th.begin(), th.end());
      const auto lq = log_q_at(*s.model, x.data(), m, th.data(), s.tf, o.batch);
      ev.log_q_true.insert(ev.log_q_true.end(), lq.begin(), lq.end());
    }
    for (int64_t i = 0; i < m; ++i) {
      ev.acceptance.push_back(smp.acceptance[i]);
      ev.n_valid.push_back(smp.n_valid[i]);
      ev.n_drawn.push_back(smp.n_drawn[i]);
      std::vector<stats::EventMarginal> marginals;
      for (int64_t d = 0; d < D; ++d) {
        stats::EventMarginal em;
        if (smp.n_valid[i] > 0)
          em = stats::summarize_marginal(smp.theta.data() + i * N * D + d, size_t(N), size_t(D), s.specs[d]);
        else
          em.median = em.p16 = em.p84 = kNaN;
        ev.median.push_back(em.median);
        ev.p16.push_back(em.p16);
        ev.p84.push_back(em.p84);
        ev.n_modes.push_back(int64_t(em.modes.values.size()));
        for (size_t k = 0; k < size_t(io::kPosteriorModes); ++k)
          ev.modes.push_back(k < em.modes.values.size() ? em.modes.values[k] : kNaN);
        marginals.push_back(std::move(em));
      }
      summaries.push_back(std::move(marginals));
    }
    if (refine) {
      const auto t_refine = std::chrono::steady_clock::now();
      // Exact posterior with the Gaussian photon-noise likelihood (pipeline/refine.hpp), event by
      // event as the samples come. Times are days from the window start (the frame of t0);
      // missing (NaN) points are left out.
      for (int64_t i = 0; i < m; ++i) {
        std::vector<double> tt, ff;
        for (int64_t j = 0; j < L; ++j) {
          const double f = flux[i * L + j];
          if (!std::isfinite(f)) continue;
          tt.push_back(time[j]);
          ff.push_back(f);
        }
        const sim::LightCurveView view{tt.data(), ff.data(), tt.size()};
        const auto first = smp.theta.begin() + i * N * D;
        const std::vector<double> theta(first, first + N * D);
        PosteriorSummary ps;
        if (o.refine == "is") {
          const std::vector<double> lq(smp.log_q.begin() + i * N, smp.log_q.begin() + (i + 1) * N);
          const auto r = refine_is(view, theta.data(), lq.data(), size_t(N), ro);
          std::vector<double> wv(size_t(N), 0.0);
          for (size_t k = 0; k < std::min(r.is.w.weights.size(), wv.size()); ++k) wv[k] = r.is.w.weights[k];
          s.writer->write_is_weights(uint64_t(b0 + i), wv.data());
          ev.is_n_eff.push_back(r.is.w.n_eff);
          ev.is_efficiency.push_back(r.is.w.efficiency);
          ps = r.summary;
        } else {
          const auto r = refine_mcmc(view, theta.data(), size_t(N), ro);
          for (int64_t d = 0; d < D; ++d)
            ev.mcmc_best_theta.push_back(r.best_theta.size() == size_t(D) ? r.best_theta[d] : kNaN);
          ev.mcmc_acceptance_fraction.push_back(r.mcmc.acceptance_fraction);
          double rm = 0.0;
          for (double v : r.mcmc.rhat) rm = std::max(rm, v);
          ev.mcmc_rhat_max.push_back(rm);
          ps = r.summary;
        }
        const bool ok = ps.median.size() == size_t(D);
        for (int64_t d = 0; d < D; ++d) {
          ev.refined_median.push_back(ok ? ps.median[d] : kNaN);
          ev.refined_q16.push_back(ok ? ps.q16[d] : kNaN);
          ev.refined_q84.push_back(ok ? ps.q84[d] : kNaN);
        }
      }
      refine_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_refine).count();
    }
    if (bar) bar->update(uint64_t(b0 + m));
  }
  if (bar) bar->finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count() - refine_seconds;

  if (K > 0) ev.time = time;
  io::PosteriorAttrs a;
  for (int64_t d = 0; d < D; ++d) a.theta_names += std::string(d ? "," : "") + sim::kThetaNames[d];
  a.prior = io::prior_to_attr(rc.prior);
  a.theta_mean = s.tf.mean;
  a.theta_std = s.tf.std;
  a.log_std_sum = s.tf.log_std_sum();
  a.model = o.model;
  a.source = s.test_src ? o.test_set : o.input;
  a.n_samples = N;
  a.seed = int64_t(o.seed);
  a.max_redraws = int64_t(o.max_redraws);
  a.device = o.device;
  a.seconds = seconds;
  a.refine = o.refine;
  s.writer->finish(ev, a);
  // Both outputs are committed together (all or none).
  core::TextOutput csv(s.summary, core::SpecialFiles::refuse);
  PosteriorSamples meta;
  meta.n_obs = E;
  meta.acceptance = ev.acceptance;
  write_summary_csv(csv.stream(), meta, s.specs, summaries);
  csv.close();
  core::commit_all({&s.writer->file(), &csv.file()});

  InferReport r;
  r.n_events = E;
  r.n_samples = N;
  r.seconds = seconds;
  r.out = o.out;
  r.summary = s.summary;
  double acc = 0.0;
  for (int64_t e = 0; e < E; ++e) {
    acc += ev.acceptance[e];
    r.short_events += ev.n_valid[e] < N;
  }
  r.mean_acceptance = E ? acc / double(E) : 0.0;
  for (int64_t v : ev.n_missing) r.with_missing += v > 0;
  if (s.test_src && E > 0) {
    double nll = 0.0;
    for (double v : ev.log_q_true) nll -= v;
    r.has_test_nll = true;
    r.test_nll = nll / double(E) - s.tf.log_std_sum();
  }
  return r;
}

}  // namespace lensflow::pipeline
