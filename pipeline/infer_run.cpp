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
#include "dist/comm.hpp"
#include "dist/pack.hpp"
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

// The results for one block of consecutive events, computed by one process.
struct Block {
  int64_t b0 = 0;
  PosteriorSamples smp;
  std::vector<float> flux;          // [m, L]
  std::vector<double> is_weights;   // [m, N] with --refine is
  io::PosteriorEvents ev;           // per-event fields known before the summaries
};

// f(a.field, b.field) for every per-event field of PosteriorEvents (all but `time`). The size check
// stops the build when a field is added to PosteriorEvents but not here (it would be lost).
static_assert(sizeof(io::PosteriorEvents) == 23 * sizeof(std::vector<double>),
              "PosteriorEvents changed: list every per-event field in each_event_field");
template <class A, class B, class F>
void each_event_field(A& a, B& b, F&& f) {
  f(a.acceptance, b.acceptance);
  f(a.n_valid, b.n_valid);
  f(a.n_drawn, b.n_drawn);
  f(a.median, b.median);
  f(a.p16, b.p16);
  f(a.p84, b.p84);
  f(a.modes, b.modes);
  f(a.n_modes, b.n_modes);
  f(a.theta_true, b.theta_true);
  f(a.log_q_true, b.log_q_true);
  f(a.event_index, b.event_index);
  f(a.snr_base, b.snr_base);
  f(a.t_start, b.t_start);
  f(a.n_missing, b.n_missing);
  f(a.is_n_eff, b.is_n_eff);
  f(a.is_efficiency, b.is_efficiency);
  f(a.mcmc_best_theta, b.mcmc_best_theta);
  f(a.mcmc_acceptance_fraction, b.mcmc_acceptance_fraction);
  f(a.mcmc_rhat_max, b.mcmc_rhat_max);
  f(a.refined_median, b.refined_median);
  f(a.refined_q16, b.refined_q16);
  f(a.refined_q84, b.refined_q84);
}

void append_events(io::PosteriorEvents& to, const io::PosteriorEvents& from) {
  each_event_field(to, from, [](auto& t, const auto& f) { t.insert(t.end(), f.begin(), f.end()); });
}

std::vector<char> pack_block(Block& k) {
  dist::Packer p;
  p.put(std::vector<int64_t>{k.b0, k.smp.n_obs, k.smp.n_samples, k.smp.dim});
  p.put(k.smp.theta).put(k.smp.log_q).put(k.smp.n_valid).put(k.smp.n_drawn).put(k.smp.acceptance);
  p.put(k.flux).put(k.is_weights);
  each_event_field(k.ev, k.ev, [&](const auto& f, const auto&) { p.put(f); });
  return std::move(p.bytes());
}

Block unpack_block(const std::vector<char>& bytes) {
  dist::Unpacker u(bytes);
  Block k;
  const auto head = u.get<int64_t>();
  if (head.size() != 4) throw std::runtime_error("infer: malformed block message");
  k.b0 = head[0];
  k.smp.n_obs = head[1];
  k.smp.n_samples = head[2];
  k.smp.dim = head[3];
  k.smp.theta = u.get<float>();
  k.smp.log_q = u.get<float>();
  k.smp.n_valid = u.get<int64_t>();
  k.smp.n_drawn = u.get<int64_t>();
  k.smp.acceptance = u.get<double>();
  k.flux = u.get<float>();
  k.is_weights = u.get<double>();
  each_event_field(k.ev, k.ev, [&](auto& f, auto&) { f = u.get<typename std::decay_t<decltype(f)>::value_type>(); });
  if (!u.done()) throw std::runtime_error("infer: malformed block message");
  return k;
}

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
  if (dist::world().is_root()) s.writer = std::make_unique<io::PosteriorWriter>(o.out, shape);  // one writer
}

InferRun::~InferRun() = default;

int64_t InferRun::n_events() const { return s_->E; }

InferReport InferRun::run(std::ostream* progress) {
  const InferOptions& o = opt_;
  State& s = *s_;
  const auto& rc = s.setup.realization;
  const int64_t E = s.E, L = s.L, D = s.D, N = o.n_samples, K = std::min(o.store_flux, E);
  const bool refine = !o.refine.empty();
  const dist::Comm& comm = dist::world();
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
  if (progress && comm.is_root()) bar = std::make_unique<Progress>("infer", uint64_t(E), "events", progress);
  const auto t_begin = std::chrono::steady_clock::now();
  double refine_seconds = 0.0;  // left out of `seconds` (the sampling time)

  // Events [b0, b0 + m): samples, and refinement when asked.
  const auto compute = [&](int64_t b0) {
    Block k;
    k.b0 = b0;
    const int64_t m = std::min(s.step, E - b0);
    std::vector<float> x(m * L);
    k.flux.resize(m * L);
    io::PosteriorEvents& bev = k.ev;
    std::vector<double> th(m * D);
    if (s.test_src) {
      std::vector<int64_t> pos(m);
      std::vector<float> th_std(m * D);
      for (int64_t i = 0; i < m; ++i) pos[i] = b0 + i;
      s.test_src->realize_full(pos.data(), m, 0, x.data(), th_std.data(), th.data(), k.flux.data());
      for (int64_t i = 0; i < m; ++i) {
        bev.event_index.push_back(s.data->event_index(s.test_src->row(b0 + i)));
        bev.snr_base.push_back(s.test_src->draw(b0 + i, 0).snr);
      }
    } else {
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < L; ++j) k.flux[i * L + j] = float(s.observed.flux[(b0 + i) * L + j]);
        sim::preprocess_lightcurve(k.flux.data() + i * L, size_t(L), x.data() + i * L);
        bev.t_start.push_back(s.observed.t_start[b0 + i]);
        bev.n_missing.push_back(s.observed.n_missing[b0 + i]);
      }
    }
    k.smp = sample_posterior(*s.model, x.data(), m, s.tf, support, so, b0);
    const PosteriorSamples& smp = k.smp;
    if (s.test_src) {
      bev.theta_true = th;
      bev.log_q_true = log_q_at(*s.model, x.data(), m, th.data(), s.tf, o.batch);
    }
    if (!refine) return k;
    const auto t_refine = std::chrono::steady_clock::now();
    // Exact posterior with the Gaussian photon-noise likelihood (pipeline/refine.hpp), event by
    // event as the samples come. Times are days from the window start (the frame of t0);
    // missing (NaN) points are left out.
    for (int64_t i = 0; i < m; ++i) {
      std::vector<double> tt, ff;
      for (int64_t j = 0; j < L; ++j) {
        const double f = k.flux[i * L + j];
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
        for (size_t j = 0; j < std::min(r.is.w.weights.size(), wv.size()); ++j) wv[j] = r.is.w.weights[j];
        k.is_weights.insert(k.is_weights.end(), wv.begin(), wv.end());
        bev.is_n_eff.push_back(r.is.w.n_eff);
        bev.is_efficiency.push_back(r.is.w.efficiency);
        ps = r.summary;
      } else {
        const auto r = refine_mcmc(view, theta.data(), size_t(N), ro);
        for (int64_t d = 0; d < D; ++d)
          bev.mcmc_best_theta.push_back(r.best_theta.size() == size_t(D) ? r.best_theta[d] : kNaN);
        bev.mcmc_acceptance_fraction.push_back(r.mcmc.acceptance_fraction);
        double rm = 0.0;
        for (double v : r.mcmc.rhat) rm = std::max(rm, v);
        bev.mcmc_rhat_max.push_back(rm);
        ps = r.summary;
      }
      const bool ok = ps.median.size() == size_t(D);
      for (int64_t d = 0; d < D; ++d) {
        bev.refined_median.push_back(ok ? ps.median[d] : kNaN);
        bev.refined_q16.push_back(ok ? ps.q16[d] : kNaN);
        bev.refined_q84.push_back(ok ? ps.q84[d] : kNaN);
      }
    }
    refine_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_refine).count();
    return k;
  };

  // A computed block into the file and the per-event results, in event order (process 0).
  const auto consume = [&](Block& k) {
    const int64_t b0 = k.b0, m = k.smp.n_obs;
    const PosteriorSamples& smp = k.smp;
    s.writer->write_samples(uint64_t(b0), uint64_t(m), smp.theta.data(), smp.log_q.data());
    for (int64_t i = b0; i < std::min(b0 + m, K); ++i) s.writer->write_flux(uint64_t(i), k.flux.data() + (i - b0) * L);
    if (o.refine == "is")
      for (int64_t i = 0; i < m; ++i) s.writer->write_is_weights(uint64_t(b0 + i), k.is_weights.data() + i * N);
    for (int64_t i = 0; i < m; ++i) {
      k.ev.acceptance.push_back(smp.acceptance[i]);
      k.ev.n_valid.push_back(smp.n_valid[i]);
      k.ev.n_drawn.push_back(smp.n_drawn[i]);
      std::vector<stats::EventMarginal> marginals;
      for (int64_t d = 0; d < D; ++d) {
        stats::EventMarginal em;
        if (smp.n_valid[i] > 0)
          em = stats::summarize_marginal(smp.theta.data() + i * N * D + d, size_t(N), size_t(D), s.specs[d]);
        else
          em.median = em.p16 = em.p84 = kNaN;
        k.ev.median.push_back(em.median);
        k.ev.p16.push_back(em.p16);
        k.ev.p84.push_back(em.p84);
        k.ev.n_modes.push_back(int64_t(em.modes.values.size()));
        for (size_t j = 0; j < size_t(io::kPosteriorModes); ++j)
          k.ev.modes.push_back(j < em.modes.values.size() ? em.modes.values[j] : kNaN);
        marginals.push_back(std::move(em));
      }
      summaries.push_back(std::move(marginals));
    }
    append_events(ev, k.ev);
    if (bar) bar->update(uint64_t(b0 + m));
  };

  // Block j goes to process j mod size; process 0 writes them in order as they come
  // (docs/mpi.md). Each block is computed by the same code on the same events whichever process
  // computes it, so the file is the one a single process writes.
  const int64_t n_blocks = (E + s.step - 1) / s.step;
  const int rank = comm.rank(), size = comm.size();
  for (int64_t j = rank == 0 ? 0 : rank; j < n_blocks; j += rank == 0 ? 1 : size) {
    const int owner = int(j % size);
    if (owner == rank) {
      Block k = compute(j * s.step);
      if (rank == 0)
        consume(k);
      else
        comm.send(pack_block(k), 0, 0);
    } else {
      Block k = unpack_block(comm.recv(owner, 0));
      consume(k);
    }
  }
  double times[2] = {std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count(),
                     refine_seconds};
  comm.allreduce_max(times, 2);
  if (rank != 0) {
    InferReport r;
    r.n_events = E;
    r.n_samples = N;
    return r;
  }
  if (bar) bar->finish();
  const double seconds = times[0] - times[1];

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
