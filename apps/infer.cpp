// lensflow-infer — posterior samples for a test set or a file of light curves (SPEC §6).
//
//   lensflow-infer --model RUN_DIR/checkpoint.h5 (--test-set DIR | --input FILE.h5|.csv|.npy)
//                  --out OUT.h5 [--n-samples N] [--device cpu|cuda] [--max-redraws R]
//                  [--refine is|mcmc] [--seed S] [--threads T] [--batch B] [--max-events N]
//                  [--nan error|interpolate] [--store-flux K] [--mcmc-steps N]
//
// Writes OUT.h5 (layout in README.md, section lensflow-infer and below) and OUT_summary.csv (per event and
// parameter: median, p16, p84, modes). The prior, the standardization and the realization come
// from RUN_DIR/setup.h5, written by lensflow-train.
//   /samples      float32 [E, N, 8]  physical θ (log10 s, log10 q, α deg, u0, t0 d, log10 tE,
//                                    log10 ρ, f_s); NaN rows when an event ran out of redraws
//   /log_q        float32 [E, N]     flow log density of each sample (physical θ, untruncated)
//   /acceptance   float64 [E]        share of draws inside the prior support
//   /n_valid /n_drawn  int64 [E]
//   /summary/{median,p16,p84} float64 [E, 8]; /summary/modes float64 [E, 8, 5] (NaN-padded);
//   /summary/n_modes int64 [E, 8]
//   test set only: /theta_true float64 [E, 8], /event_index int64 [E], /log_q_true float64 [E]
//   input file only: /t_start float64 [E], /n_missing int64 [E]
//   /flux float32 [K, 7200] and /time float64 [7200]: raw light curves of the first K events (plots)
//   /refine/...: with --refine (see below)
// Failure behaviour: an --out or summary path that is (or resolves to) the checkpoint, its
// setup.h5, the --input file or a test-set shard is refused before any work. Both outputs are
// written under unique temporary names and renamed together at the end, so a failure (disk full,
// a directory in the way) leaves the previous files untouched. Events are sampled, refined and
// written in blocks of at most 2^16 samples, so memory does not grow with the number of events;
// one event's samples are drawn together, so --n-samples is limited to 10^5.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "autodiff/tensor.hpp"
#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/checkpoint.hpp"
#include "io/dataset.hpp"
#include "io/h5file.hpp"
#include "io/observed_io.hpp"
#include "io/prior_fields.hpp"
#include "io/run_setup.hpp"
#include "pipeline/inference.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/refine.hpp"
#include "pipeline/training_data.hpp"

using namespace lensflow;

namespace {

// Mixes the realization seed of the test set away from the training seeds.
constexpr uint64_t kTestRealizationSalt = 0x54455354ull;  // "TEST"

// Memory bounds: samples drawn per network call (events per call shrink as --n-samples grows),
// the most samples of one event (drawn in one call), and the bytes of one HDF5 chunk.
constexpr int64_t kSamplesPerCall = int64_t(1) << 16;
constexpr int64_t kMaxSamplesPerEvent = 100000;
constexpr uint64_t kChunkBytes = uint64_t(4) << 20;

std::string summary_path_for(const std::string& out) {
  const auto dot = out.find_last_of('.');
  const auto slash = out.find_last_of('/');
  const std::string stem = (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? out.substr(0, dot) : out;
  return stem + "_summary.csv";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-infer: posterior samples for a test set or observed light curves"};
  std::string model_path, test_dir, input, out_path, device = "cpu", refine, nan = "error";
  int64_t n_samples = 1000, batch = 64, max_events = 0, store_flux = 16;
  int max_redraws = 10, threads = 0;
  size_t mcmc_steps = 0;
  uint64_t seed = 0;
  bool quiet = false;
  app.add_option("--model", model_path, "checkpoint written by lensflow-train (setup.h5 must sit beside it)")
      ->required();
  auto* t = app.add_option("--test-set", test_dir, "training-set directory: infer its test split (truths kept)");
  auto* in = app.add_option("--input", input, "light curves: .h5 (dataset 'flux'), .csv or .npy, 7200 points each");
  t->excludes(in);
  app.add_option("--out", out_path, "output HDF5 file")->required();
  app.add_option("--n-samples", n_samples, "posterior samples per event (at most 100000)")->check(CLI::PositiveNumber);
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--max-redraws", max_redraws, "extra rounds of draws for samples outside the prior")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--refine", refine, "refine with the exact likelihood: is (importance sampling) or mcmc")
      ->check(CLI::IsMember({"is", "mcmc"}));
  app.add_option("--mcmc-steps", mcmc_steps, "--refine mcmc: step budget per event (0: refine's default)");
  app.add_option("--seed", seed, "sampling seed");
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "events per network call")->check(CLI::PositiveNumber);
  app.add_option("--max-events", max_events, "infer only the first N events (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--nan", nan, "NaN or non-positive points in --input: error or interpolate")
      ->check(CLI::IsMember({"error", "interpolate"}));
  app.add_option("--store-flux", store_flux, "store the raw light curves of the first K events (for plots)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);
  if (test_dir.empty() == input.empty()) {
    std::cerr << "lensflow-infer: error: give exactly one of --test-set DIR or --input FILE\n";
    return 2;
  }

  try {
    if (n_samples > kMaxSamplesPerEvent)
      throw std::runtime_error("--n-samples " + std::to_string(n_samples) + " is more than the limit of " +
                               std::to_string(kMaxSamplesPerEvent) +
                               " samples per event (one event's samples are drawn and summarized in memory "
                               "together); draw several runs with different --seed instead");
    const std::string setup_path = io::run_setup_path_for(model_path);
    const std::string csv_path = summary_path_for(out_path);
    {  // Outputs that would overwrite an input are refused before any work.
      std::vector<core::NamedPath> inputs = {{"--model", model_path}, {"the model's setup", setup_path}};
      if (!input.empty()) inputs.push_back({"--input", input});
      else
        for (const auto& f : io::shard_files(test_dir)) inputs.push_back({"the --test-set shard", f});
      core::refuse_overlaps({{"--out", out_path}, {"the summary CSV", csv_path}}, inputs);
    }
    core::set_num_threads(threads);
    const ad::Device dev = device == "cuda" ? ad::Device::CUDA : ad::Device::CPU;
    if (dev == ad::Device::CUDA && !ad::cuda_available())
      throw std::runtime_error("--device cuda: no CUDA device available (or built without CUDA)");
    const io::RunSetup setup = io::read_run_setup(setup_path);
    const nn::PosteriorConfig cfg = io::read_checkpoint_config(model_path);
    nn::PosteriorModel model(cfg);
    model.to(dev);
    io::load_checkpoint(model_path, model);
    const auto& rc = setup.realization;
    const int64_t L = int64_t(rc.n_win), D = sim::kThetaDim;
    if (cfg.featurizer.length != L || cfg.flow.dim != D || cfg.featurizer.in_channels != 1)
      throw std::runtime_error(model_path + ": the model does not take " + std::to_string(L) +
                               "-point light curves to 8 parameters");
    const auto tf = pipeline::ThetaTransform::from_prior(rc.prior);
    const auto specs = pipeline::theta_marginals(rc.prior);
    const sim::PriorBox prior = rc.prior;
    const pipeline::SupportFn support = [prior](const double* th) { return sim::in_support(prior, th); };

    // The events: either realized test-set rows or read light curves.
    std::unique_ptr<io::DatasetReader> data;
    std::unique_ptr<pipeline::RealizedDataset> test_src;
    io::ObservedSet observed;
    int64_t E = 0;
    if (!test_dir.empty()) {
      data = std::make_unique<io::DatasetReader>(test_dir);
      if (io::prior_to_attr(io::prior_from_attr(data->settings().prior)) !=
          io::prior_to_attr(rc.prior))
        throw std::runtime_error(test_dir + ": its prior differs from the one the model was trained on");
      auto rows = data->split_rows(io::Split::test, setup.split);
      if (rows.empty()) throw std::runtime_error(test_dir + ": the test split is empty");
      test_src = std::make_unique<pipeline::RealizedDataset>(*data, rows, rc, setup.seed ^ kTestRealizationSalt, threads);
      E = test_src->size();
    } else {
      observed = io::read_observed(input, io::parse_nan_policy(nan), L);
      E = observed.n_events;
    }
    if (max_events > 0) E = std::min(E, max_events);
    store_flux = std::min(store_flux, E);

    // Events per network call: --batch, fewer when one event has many samples.
    const int64_t step = std::max<int64_t>(1, std::min(batch, kSamplesPerCall / n_samples));
    const uint64_t S = uint64_t(n_samples), uE = uint64_t(E);
    const uint64_t chunk_rows = std::max<uint64_t>(1, std::min<uint64_t>(uint64_t(step), kChunkBytes / (S * D * 4)));
    io::H5Writer w(out_path);
    w.create_f32("samples", {uE, S, uint64_t(D)}, chunk_rows);
    w.create_f32("log_q", {uE, S}, chunk_rows);
    if (store_flux > 0) w.create_f32("flux", {uint64_t(store_flux), uint64_t(L)}, 1);
    if (refine == "is") w.create_f64("refine/is/weights", {uE, S}, chunk_rows);
    std::vector<double> acceptance, theta_true, log_q_true, med, p16, p84, modes, t_start;
    std::vector<int64_t> n_valid, n_drawn, n_modes, event_index, n_missing;
    std::vector<std::vector<stats::EventMarginal>> summaries;
    std::vector<double> rmed, r16, r84, n_eff, eff, best, acc_f, rhat_max;  // --refine, per event

    pipeline::SamplingOptions so;
    so.n_samples = n_samples;
    so.max_redraws = max_redraws;
    so.seed = seed;
    so.batch_obs = step;
    std::vector<double> time(L);  // days from the window start (the frame of t0)
    for (int64_t j = 0; j < L; ++j) time[j] = double(j) * rc.dt;
    pipeline::RefineOptions ro;
    ro.prior = rc.prior;
    ro.likelihood.n_threads = threads;
    ro.use_device = dev == ad::Device::CUDA;
    if (mcmc_steps > 0) {
      ro.mcmc.max_steps = mcmc_steps;
      ro.mcmc.min_steps = std::min(ro.mcmc.min_steps, mcmc_steps);
    }
    if (!refine.empty())
      std::cerr << "lensflow-infer: refining " << E << " event(s) with " << refine << " (exact likelihood)\n";
    std::unique_ptr<pipeline::Progress> bar;
    if (!quiet) bar = std::make_unique<pipeline::Progress>("infer", uE, "events", &std::cerr);
    const auto t_begin = std::chrono::steady_clock::now();
    double refine_seconds = 0.0;  // left out of `seconds` (the sampling time)
    for (int64_t b0 = 0; b0 < E; b0 += step) {
      const int64_t m = std::min(step, E - b0);
      std::vector<float> x(m * L), flux(m * L);
      std::vector<double> th(m * D);
      if (test_src) {
        std::vector<int64_t> pos(m);
        std::vector<float> th_std(m * D);
        for (int64_t i = 0; i < m; ++i) pos[i] = b0 + i;
        test_src->realize_full(pos.data(), m, 0, x.data(), th_std.data(), th.data(), flux.data());
        for (int64_t i = 0; i < m; ++i) event_index.push_back(data->event_index(test_src->row(b0 + i)));
      } else {
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < L; ++j) flux[i * L + j] = float(observed.flux[(b0 + i) * L + j]);
          sim::preprocess_lightcurve(flux.data() + i * L, size_t(L), x.data() + i * L);
          t_start.push_back(observed.t_start[b0 + i]);
          n_missing.push_back(observed.n_missing[b0 + i]);
        }
      }
      const auto s = pipeline::sample_posterior(model, x.data(), m, tf, support, so, b0);
      w.write_rows("samples", uint64_t(b0), uint64_t(m), s.theta.data());
      w.write_rows("log_q", uint64_t(b0), uint64_t(m), s.log_q.data());
      for (int64_t i = b0; i < std::min(b0 + m, store_flux); ++i)
        w.write_rows("flux", uint64_t(i), 1, flux.data() + (i - b0) * L);
      if (test_src) {
        theta_true.insert(theta_true.end(), th.begin(), th.end());
        const auto lq = pipeline::log_q_at(model, x.data(), m, th.data(), tf, batch);
        log_q_true.insert(log_q_true.end(), lq.begin(), lq.end());
      }
      for (int64_t i = 0; i < m; ++i) {
        acceptance.push_back(s.acceptance[i]);
        n_valid.push_back(s.n_valid[i]);
        n_drawn.push_back(s.n_drawn[i]);
        std::vector<stats::EventMarginal> ev;
        for (int64_t d = 0; d < D; ++d) {
          stats::EventMarginal em;
          if (s.n_valid[i] > 0)
            em = stats::summarize_marginal(s.theta.data() + i * n_samples * D + d, size_t(n_samples), size_t(D), specs[d]);
          else
            em.median = em.p16 = em.p84 = std::numeric_limits<double>::quiet_NaN();
          med.push_back(em.median);
          p16.push_back(em.p16);
          p84.push_back(em.p84);
          n_modes.push_back(int64_t(em.modes.values.size()));
          for (size_t k = 0; k < 5; ++k)
            modes.push_back(k < em.modes.values.size() ? em.modes.values[k] : std::numeric_limits<double>::quiet_NaN());
          ev.push_back(std::move(em));
        }
        summaries.push_back(std::move(ev));
      }
      if (!refine.empty()) {
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
          const auto first = s.theta.begin() + i * n_samples * D;
          const std::vector<double> theta(first, first + n_samples * D);
          pipeline::PosteriorSummary ps;
          if (refine == "is") {
            const std::vector<double> lq(s.log_q.begin() + i * n_samples, s.log_q.begin() + (i + 1) * n_samples);
            const auto r = pipeline::refine_is(view, theta.data(), lq.data(), size_t(n_samples), ro);
            std::vector<double> wv(size_t(n_samples), 0.0);
            for (size_t k = 0; k < std::min(r.is.w.weights.size(), wv.size()); ++k) wv[k] = r.is.w.weights[k];
            w.write_rows("refine/is/weights", uint64_t(b0 + i), 1, wv.data());
            n_eff.push_back(r.is.w.n_eff);
            eff.push_back(r.is.w.efficiency);
            ps = r.summary;
          } else {
            const auto r = pipeline::refine_mcmc(view, theta.data(), size_t(n_samples), ro);
            for (int64_t d = 0; d < D; ++d)
              best.push_back(r.best_theta.size() == size_t(D) ? r.best_theta[d]
                                                              : std::numeric_limits<double>::quiet_NaN());
            acc_f.push_back(r.mcmc.acceptance_fraction);
            double rm = 0.0;
            for (double v : r.mcmc.rhat) rm = std::max(rm, v);
            rhat_max.push_back(rm);
            ps = r.summary;
          }
          const bool ok = ps.median.size() == size_t(D);
          for (int64_t d = 0; d < D; ++d) {
            rmed.push_back(ok ? ps.median[d] : std::numeric_limits<double>::quiet_NaN());
            r16.push_back(ok ? ps.q16[d] : std::numeric_limits<double>::quiet_NaN());
            r84.push_back(ok ? ps.q84[d] : std::numeric_limits<double>::quiet_NaN());
          }
        }
        refine_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_refine).count();
      }
      if (bar) bar->update(uint64_t(b0 + m));
    }
    if (bar) bar->finish();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count() - refine_seconds;

    w.write("acceptance", acceptance.data(), {uE});
    w.write("n_valid", n_valid.data(), {uE});
    w.write("n_drawn", n_drawn.data(), {uE});
    w.write("summary/median", med.data(), {uE, uint64_t(D)});
    w.write("summary/p16", p16.data(), {uE, uint64_t(D)});
    w.write("summary/p84", p84.data(), {uE, uint64_t(D)});
    w.write("summary/modes", modes.data(), {uE, uint64_t(D), 5});
    w.write("summary/n_modes", n_modes.data(), {uE, uint64_t(D)});
    if (store_flux > 0) w.write("time", time.data(), {uint64_t(L)});
    if (test_src) {
      w.write("theta_true", theta_true.data(), {uE, uint64_t(D)});
      w.write("event_index", event_index.data(), {uE});
      w.write("log_q_true", log_q_true.data(), {uE});
    } else {
      w.write("t_start", t_start.data(), {uE});
      w.write("n_missing", n_missing.data(), {uE});
    }
    std::string names;
    for (int64_t d = 0; d < D; ++d) names += std::string(d ? "," : "") + sim::kThetaNames[d];
    w.attr("/", "format", std::string("lensflow-posterior"));
    w.attr("/", "theta_names", names);
    w.attr("/", "prior", io::prior_to_attr(rc.prior));
    w.attr("/", "theta_mean", tf.mean);
    w.attr("/", "theta_std", tf.std);
    w.attr("/", "log_std_sum", tf.log_std_sum());
    w.attr("/", "model", model_path);
    w.attr("/", "source", test_src ? test_dir : input);
    w.attr("/", "n_samples", n_samples);
    w.attr("/", "seed", int64_t(seed));
    w.attr("/", "max_redraws", int64_t(max_redraws));
    w.attr("/", "device", device);
    w.attr("/", "seconds", seconds);
    if (refine == "is") {
      w.write("refine/is/n_eff", n_eff.data(), {uE});
      w.write("refine/is/efficiency", eff.data(), {uE});
    } else if (refine == "mcmc") {
      w.write("refine/mcmc/best_theta", best.data(), {uE, uint64_t(D)});
      w.write("refine/mcmc/acceptance_fraction", acc_f.data(), {uE});
      w.write("refine/mcmc/rhat_max", rhat_max.data(), {uE});
    }
    if (!refine.empty()) {
      w.write("refine/summary/median", rmed.data(), {uE, uint64_t(D)});
      w.write("refine/summary/q16", r16.data(), {uE, uint64_t(D)});
      w.write("refine/summary/q84", r84.data(), {uE, uint64_t(D)});
      w.attr("/", "refine", refine);
    }
    w.close();
    // Both outputs are committed together (all or none).
    core::TextOutput csv(csv_path, core::SpecialFiles::refuse);
    pipeline::PosteriorSamples meta;
    meta.n_obs = E;
    meta.acceptance = acceptance;
    pipeline::write_summary_csv(csv.stream(), meta, specs, summaries);
    csv.close();
    core::commit_all({&w.file(), &csv.file()});
    double acc = 0.0;
    int64_t short_events = 0;
    for (int64_t e = 0; e < E; ++e) {
      acc += acceptance[e];
      short_events += n_valid[e] < n_samples;
    }
    std::printf("inferred %lld events x %lld samples in %.2f s (%.0f samples/s), mean acceptance %.3f\n",
                static_cast<long long>(E), static_cast<long long>(n_samples), seconds,
                double(E) * double(n_samples) / seconds, E ? acc / double(E) : 0.0);
    if (short_events)
      std::fprintf(stderr, "lensflow-infer: warning: %lld event(s) have fewer than %lld samples inside the prior "
                   "after %d redraws (NaN rows; see n_valid)\n", static_cast<long long>(short_events),
                   static_cast<long long>(n_samples), max_redraws);
    int64_t with_missing = 0;
    for (int64_t v : n_missing) with_missing += v > 0;
    if (with_missing)
      std::fprintf(stderr, "lensflow-infer: note: %lld event(s) had missing (NaN or non-positive) flux points, "
                   "filled by interpolation (see n_missing)\n", static_cast<long long>(with_missing));
    if (test_src && E > 0) {
      double nll = 0.0;
      for (double v : log_q_true) nll -= v;
      std::printf("test NLL %.4f (standardized θ, comparable to the training log)\n",
                  nll / double(E) - tf.log_std_sum());
    }
    std::cerr << "lensflow-infer: wrote " << out_path << " and " << csv_path << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lensflow-infer: error: " << e.what() << "\n";
    return 1;
  }
}
