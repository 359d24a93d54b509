// lensflow-evaluate — accuracy and calibration of test-set posteriors (Zhang et al. 2021 §4.4-4.5).
//
//   lensflow-evaluate --posterior OUT.h5 --out EVAL_DIR [--plots] [--plot-events K]
//                     [--plot-script PATH] [--threads T]
//
// OUT.h5 comes from `lensflow-infer --test-set` (it holds the truths). Writes to EVAL_DIR:
//   metrics.csv   one row per parameter: constrained %, correct %, PIT KS statistic and p-value,
//                 coverage of the central 50/68/90/95% credible intervals
//   metrics.json  the same, the coverage curve (levels 0.05…0.95 and 0.68), test and prior NLL
//   per_event.h5  pit, global_mode, closest_mode, n_modes, constrained, correct: [E, 8] each
//   caustics.h5   critical curves and caustics (lens/caustics.hpp) of the first K events with a
//                 stored light curve: /event_<i>/caustic and /event_<i>/critical [n, 2] (x, y;
//                 NaN rows separate closed curves), attributes s, q and the event's θ
// With --plots it runs scripts/plot_evaluation.py (python3 + h5py + matplotlib) to draw PNGs.
// Every dataset's shape is checked against /samples before use. Events without a valid sample
// (n_valid = 0: every draw fell outside the prior) are skipped and reported: their per_event rows
// are NaN and /evaluated says which rows count. The four files are written under unique temporary
// names and renamed together at the end; an output that is the posterior file is refused.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>

#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/h5file.hpp"
#include "io/prior_fields.hpp"
#include "lens/caustics.hpp"
#include "pipeline/inference.hpp"
#include "pipeline/trainer.hpp"
#include "pipeline/training_data.hpp"
#include "stats/calibration_metrics.hpp"

using namespace lensflow;

namespace {

// scripts/plot_evaluation.py: --plot-script, $LENSFLOW_SCRIPTS, or next to the executable
// (build tree: <repo>/<build>/apps/, install: <prefix>/bin -> <prefix>/share/lensflow/scripts).
std::string find_plot_script(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("LENSFLOW_SCRIPTS")) return std::string(env) + "/plot_evaluation.py";
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    buf[n] = '\0';
    std::string dir(buf);
    dir = dir.substr(0, dir.find_last_of('/'));
    for (const char* rel : {"/../../scripts/plot_evaluation.py", "/../scripts/plot_evaluation.py",
                            "/../share/lensflow/scripts/plot_evaluation.py"})
      if (core::path_exists(dir + rel)) return dir + rel;
  }
  return "scripts/plot_evaluation.py";
}

std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(8) << v;
  return s.str();
}

// Throws unless dataset `name` has shape `want` (naming both).
void require_shape(const io::H5Reader& r, const std::string& name, const io::Dims& want) {
  const io::Dims got = r.shape(name);
  if (got == want) return;
  auto text = [](const io::Dims& d) {
    std::string t = "[";
    for (size_t i = 0; i < d.size(); ++i) t += (i ? ", " : "") + std::to_string(d[i]);
    return t + "]";
  };
  throw std::runtime_error(r.path() + ": dataset '" + name + "' has shape " + text(got) + ", expected " + text(want) +
                           " to match /samples");
}

// Curves joined into one [n, 2] array with NaN rows between closed curves.
std::vector<double> join_curves(const std::vector<std::vector<lens::cplx>>& curves) {
  std::vector<double> v;
  for (const auto& c : curves) {
    for (const auto& z : c) {
      v.push_back(z.re);
      v.push_back(z.im);
    }
    v.push_back(NAN);
    v.push_back(NAN);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-evaluate: accuracy and calibration metrics of test-set posteriors"};
  std::string post_path, out_dir, script;
  bool plots = false;
  int64_t plot_events = 4, chunk = 256;
  int threads = 0;
  app.add_option("--posterior", post_path, "posterior file written by lensflow-infer --test-set")->required();
  app.add_option("--out", out_dir, "output directory")->required();
  app.add_flag("--plots", plots, "draw PNG plots with scripts/plot_evaluation.py (python3, h5py, matplotlib)");
  app.add_option("--plot-events", plot_events, "events with a corner plot and a light curve + caustics")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--plot-script", script, "path of plot_evaluation.py (default: found next to the build)");
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    const std::vector<std::string> out_names = {"metrics.csv", "metrics.json", "per_event.h5", "caustics.h5"};
    {  // An output that is the posterior file itself is refused before any work.
      std::vector<core::NamedPath> outs;
      for (const auto& n : out_names) outs.push_back({"--out", out_dir + "/" + n});
      core::refuse_overlaps(outs, {{"--posterior", post_path}});
    }
    core::set_num_threads(threads);
    io::H5Reader r(post_path);
    if (!r.has_attr("/", "format") || r.attr_str("/", "format") != "lensflow-posterior")
      throw std::runtime_error(post_path + ": not a lensflow posterior file (written by lensflow-infer)");
    if (!r.has("theta_true"))
      throw std::runtime_error(post_path + ": no truths (/theta_true); evaluate needs `lensflow-infer --test-set`");
    const io::Dims sd = r.shape("samples");
    if (sd.size() != 3 || sd[2] != uint64_t(sim::kThetaDim))
      throw std::runtime_error(post_path + ": /samples must be [events, samples, 8]");
    const int64_t E = int64_t(sd[0]), S = int64_t(sd[1]), D = sim::kThetaDim;
    if (E == 0) throw std::runtime_error(post_path + ": no events");
    if (S == 0) throw std::runtime_error(post_path + ": no samples per event");
    r.require_stored("samples");
    // Every per-event dataset must describe the same E events.
    require_shape(r, "theta_true", {uint64_t(E), uint64_t(D)});
    if (r.has("log_q_true")) require_shape(r, "log_q_true", {uint64_t(E)});
    if (r.has("n_valid")) require_shape(r, "n_valid", {uint64_t(E)});
    if (r.has("flux")) {
      const io::Dims fd = r.shape("flux");
      if (fd.size() != 2 || fd[0] > uint64_t(E))
        throw std::runtime_error(post_path + ": dataset 'flux' must be [K, points] with K <= " + std::to_string(E) +
                                 " events");
    }
    const auto truth = r.read_f64("theta_true");
    const sim::PriorBox prior = io::prior_from_attr(r.attr_f64s("/", "prior"));
    const auto specs = pipeline::theta_marginals(prior);
    const std::vector<int64_t> n_valid = r.has("n_valid") ? r.read_i64("n_valid") : std::vector<int64_t>();

    std::vector<double> levels;
    for (int k = 1; k <= 19; ++k) levels.push_back(0.05 * k);
    levels.push_back(0.68);
    std::sort(levels.begin(), levels.end());
    stats::CalibrationMetrics cm(specs, levels);
    std::vector<double> pit, gmode, cmode;
    std::vector<int64_t> nmodes;
    std::vector<std::uint8_t> constrained, correct, evaluated;
    std::vector<int64_t> skipped;
    // Events per read: at most 2^20 samples in memory, whatever S.
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(256, (int64_t(1) << 20) / S));
    for (int64_t e0 = 0; e0 < E; e0 += chunk) {
      const int64_t m = std::min(chunk, E - e0);
      auto s = r.read_rows_f32("samples", uint64_t(e0), uint64_t(m));
      // Keep the events with at least one valid (finite) sample row, compacted in order.
      std::vector<int64_t> keep;
      std::vector<double> tr;
      for (int64_t i = 0; i < m; ++i) {
        const float* ev = s.data() + size_t(i * S * D);
        bool any = n_valid.empty() || n_valid[size_t(e0 + i)] > 0;
        if (any) {
          any = false;
          for (int64_t k = 0; k < S * D && !any; k += D) any = std::isfinite(ev[k]);
        }
        if (!any) {
          skipped.push_back(e0 + i);
          continue;
        }
        if (int64_t(keep.size()) != i)
          std::copy(ev, ev + S * D, s.begin() + ptrdiff_t(keep.size()) * S * D);
        keep.push_back(i);
        tr.insert(tr.end(), truth.begin() + (e0 + i) * D, truth.begin() + (e0 + i + 1) * D);
      }
      const auto res = keep.empty() ? std::vector<std::vector<stats::EventMarginal>>()
                                    : cm.add(s.data(), tr.data(), keep.size(), size_t(S));
      size_t next = 0;
      for (int64_t i = 0; i < m; ++i) {
        const bool ok = next < keep.size() && keep[next] == i;
        evaluated.push_back(ok);
        for (int64_t d = 0; d < D; ++d) {
          if (!ok) {
            pit.push_back(NAN);
            gmode.push_back(NAN);
            cmode.push_back(NAN);
            nmodes.push_back(0);
            constrained.push_back(0);
            correct.push_back(0);
            continue;
          }
          const auto& em = res[next][size_t(d)];
          pit.push_back(em.pit);
          const bool has = !em.modes.values.empty();
          gmode.push_back(has ? em.modes.values[0] : NAN);
          cmode.push_back(has ? em.closest_mode : NAN);
          nmodes.push_back(int64_t(em.modes.values.size()));
          constrained.push_back(em.constrained);
          correct.push_back(em.correct);
        }
        if (ok) ++next;
      }
    }
    if (int64_t(skipped.size()) == E)
      throw std::runtime_error(post_path + ": no event has a valid sample (n_valid = 0 everywhere)");
    if (!skipped.empty()) {
      std::string list;
      for (size_t k = 0; k < std::min<size_t>(skipped.size(), 10); ++k)
        list += (k ? ", " : "") + std::to_string(skipped[k]);
      std::fprintf(stderr,
                   "lensflow-evaluate: skipped %zu of %lld event(s) without a valid sample (n_valid = 0): %s%s\n",
                   skipped.size(), static_cast<long long>(E), list.c_str(), skipped.size() > 10 ? ", ..." : "");
    }
    const auto res = cm.finish();

    // NLL of the truths under the model and under the prior, in standardized units.
    double nll = NAN, prior_nll = 0.0;
    const double lss = r.has_attr("/", "log_std_sum") ? r.attr_f64("/", "log_std_sum") : 0.0;
    if (r.has("log_q_true")) {
      const auto lq = r.read_f64("log_q_true");
      nll = 0.0;
      for (double v : lq) nll -= v;
      nll = nll / double(E) - lss;
    }
    for (int64_t e = 0; e < E; ++e) prior_nll -= sim::log_prior_theta(prior, truth.data() + e * D);
    prior_nll = prior_nll / double(E) - lss;

    core::make_dirs(out_dir);
    auto cov_at = [&](const stats::ParameterMetrics& p, double l) {
      for (size_t i = 0; i < levels.size(); ++i)
        if (std::fabs(levels[i] - l) < 1e-9) return p.coverage[i];
      return std::numeric_limits<double>::quiet_NaN();
    };
    std::ostringstream csv, js;
    csv << "parameter,n_events,constrained_pct,correct_pct,pit_ks,pit_ks_pvalue,coverage_50,coverage_68,"
           "coverage_90,coverage_95\n"
        << std::setprecision(6);
    js << "{\n  \"posterior\": \"" << post_path << "\",\n  \"n_events\": " << E << ",\n  \"n_skipped\": "
       << skipped.size() << ",\n  \"n_samples\": " << S
       << ",\n  \"test_nll\": " << json_num(nll) << ",\n  \"prior_nll\": " << json_num(prior_nll)
       << ",\n  \"levels\": [";
    for (size_t i = 0; i < levels.size(); ++i) js << (i ? ", " : "") << json_num(levels[i]);
    js << "],\n  \"parameters\": [\n";
    for (size_t d = 0; d < res.size(); ++d) {
      const auto& p = res[d];
      csv << p.name << ',' << p.n_events << ',' << 100.0 * p.constrained_fraction << ','
          << 100.0 * p.correct_fraction << ',' << p.pit_ks << ',' << p.pit_ks_pvalue << ',' << cov_at(p, 0.5) << ','
          << cov_at(p, 0.68) << ',' << cov_at(p, 0.9) << ',' << cov_at(p, 0.95) << '\n';
      js << "    {\"name\": \"" << p.name << "\", \"constrained_pct\": " << json_num(100.0 * p.constrained_fraction)
         << ", \"correct_pct\": " << json_num(100.0 * p.correct_fraction) << ", \"n_constrained\": "
         << p.n_constrained << ", \"pit_ks\": " << json_num(p.pit_ks) << ", \"pit_ks_pvalue\": "
         << json_num(p.pit_ks_pvalue) << ", \"coverage\": [";
      for (size_t i = 0; i < p.coverage.size(); ++i) js << (i ? ", " : "") << json_num(p.coverage[i]);
      js << "]}" << (d + 1 < res.size() ? "," : "") << "\n";
    }
    js << "  ]\n}\n";
    // All four files are staged under temporary names, then renamed together.
    core::TextOutput csv_out(out_dir + "/metrics.csv", core::SpecialFiles::refuse);
    core::TextOutput js_out(out_dir + "/metrics.json", core::SpecialFiles::refuse);
    csv_out.stream() << csv.str();
    js_out.stream() << js.str();
    csv_out.close();
    js_out.close();
    io::H5Writer pe(out_dir + "/per_event.h5");
    {
      const io::Dims ed{uint64_t(E), uint64_t(D)};
      pe.write("pit", pit.data(), ed);
      pe.write("global_mode", gmode.data(), ed);
      pe.write("closest_mode", cmode.data(), ed);
      pe.write("n_modes", nmodes.data(), ed);
      pe.write("constrained", constrained.data(), ed);
      pe.write("correct", correct.data(), ed);
      pe.write("evaluated", evaluated.data(), {uint64_t(E)});
      pe.attr("/", "levels", levels);
      pe.close();
    }
    const int64_t K = std::min<int64_t>(plot_events, r.has("flux") ? int64_t(r.shape("flux")[0]) : 0);
    io::H5Writer ca_out(out_dir + "/caustics.h5");
    {
      for (int64_t e = 0; e < K; ++e) {
        const double* th = truth.data() + e * D;
        const double s = std::pow(10.0, th[0]), q = std::pow(10.0, th[1]);
        const auto cc = lens::caustic_curves(s, q);
        const auto ca = join_curves(cc.caustic), cr = join_curves(cc.critical);
        const std::string g = "event_" + std::to_string(e);
        ca_out.write(g + "/caustic", ca.data(), {uint64_t(ca.size() / 2), 2});
        ca_out.write(g + "/critical", cr.data(), {uint64_t(cr.size() / 2), 2});
        ca_out.attr(g, "s", s);
        ca_out.attr(g, "q", q);
        ca_out.attr(g, "theta", std::vector<double>(th, th + D));
      }
      ca_out.attr("/", "n_events", K);
      ca_out.close();
    }
    core::commit_all({&csv_out.file(), &js_out.file(), &pe.file(), &ca_out.file()});

    std::printf("%-10s %8s %12s %10s %8s %8s %8s\n", "parameter", "events", "constrained%", "correct%", "PIT KS",
                "cov68", "cov95");
    for (const auto& p : res)
      std::printf("%-10s %8zu %12.1f %10.1f %8.3f %8.3f %8.3f\n", p.name.c_str(), p.n_events,
                  100.0 * p.constrained_fraction, 100.0 * p.correct_fraction, p.pit_ks, cov_at(p, 0.68),
                  cov_at(p, 0.95));
    std::printf("test NLL %.4f vs prior NLL %.4f (standardized θ, nats per event)\n", nll, prior_nll);
    std::cerr << "lensflow-evaluate: wrote " << out_dir << "/metrics.csv, metrics.json, per_event.h5, caustics.h5\n";

    if (plots) {
      const std::string py = find_plot_script(script);
      if (!core::path_exists(py)) throw std::runtime_error("plot script not found: " + py + " (use --plot-script)");
      const std::string cmd = "python3 '" + py + "' --posterior '" + post_path + "' --eval '" + out_dir +
                              "' --events " + std::to_string(K);
      const int rc = std::system(cmd.c_str());
      if (rc != 0)
        throw std::runtime_error("plotting failed (" + cmd + "); python3 with h5py and matplotlib is needed");
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lensflow-evaluate: error: " << e.what() << "\n";
    return 1;
  }
}
