// pipeline/evaluate_run.cpp — see evaluate_run.hpp.
#include "pipeline/evaluate_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/h5file.hpp"
#include "io/posterior_file.hpp"
#include "io/prior_fields.hpp"
#include "lens/caustics.hpp"
#include "pipeline/inference.hpp"

namespace lensflow::pipeline {
namespace {

std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(8) << v;
  return s.str();
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

// The per-event results of the evaluated events, NaN / 0 rows for the skipped ones.
struct PerEvent {
  std::vector<double> pit, gmode, cmode;
  std::vector<int64_t> nmodes;
  std::vector<std::uint8_t> constrained, correct, evaluated;
};

void write_metrics(const EvaluateOptions& opt, const EvaluateReport& r, core::TextOutput& csv_out,
                   core::TextOutput& js_out) {
  std::ostream& csv = csv_out.stream();
  std::ostream& js = js_out.stream();
  csv << "parameter,n_events,constrained_pct,correct_pct,pit_ks,pit_ks_pvalue,coverage_50,coverage_68,"
         "coverage_90,coverage_95\n"
      << std::setprecision(6);
  js << "{\n  \"posterior\": \"" << opt.posterior << "\",\n  \"n_events\": " << r.n_events
     << ",\n  \"n_skipped\": " << r.skipped.size() << ",\n  \"n_samples\": " << r.n_samples
     << ",\n  \"test_nll\": " << json_num(r.test_nll) << ",\n  \"prior_nll\": " << json_num(r.prior_nll)
     << ",\n  \"levels\": [";
  for (size_t i = 0; i < r.levels.size(); ++i) js << (i ? ", " : "") << json_num(r.levels[i]);
  js << "],\n  \"parameters\": [\n";
  for (size_t d = 0; d < r.parameters.size(); ++d) {
    const auto& p = r.parameters[d];
    csv << p.name << ',' << p.n_events << ',' << 100.0 * p.constrained_fraction << ','
        << 100.0 * p.correct_fraction << ',' << p.pit_ks << ',' << p.pit_ks_pvalue << ',' << r.coverage(p, 0.5)
        << ',' << r.coverage(p, 0.68) << ',' << r.coverage(p, 0.9) << ',' << r.coverage(p, 0.95) << '\n';
    js << "    {\"name\": \"" << p.name << "\", \"constrained_pct\": " << json_num(100.0 * p.constrained_fraction)
       << ", \"correct_pct\": " << json_num(100.0 * p.correct_fraction) << ", \"n_constrained\": "
       << p.n_constrained << ", \"pit_ks\": " << json_num(p.pit_ks) << ", \"pit_ks_pvalue\": "
       << json_num(p.pit_ks_pvalue) << ", \"coverage\": [";
    for (size_t i = 0; i < p.coverage.size(); ++i) js << (i ? ", " : "") << json_num(p.coverage[i]);
    js << "]}" << (d + 1 < r.parameters.size() ? "," : "") << "\n";
  }
  js << "  ]\n}\n";
}

void write_per_event(io::H5Writer& pe, const PerEvent& v, const std::vector<double>& levels, uint64_t E,
                     uint64_t D) {
  const io::Dims ed{E, D};
  pe.write("pit", v.pit.data(), ed);
  pe.write("global_mode", v.gmode.data(), ed);
  pe.write("closest_mode", v.cmode.data(), ed);
  pe.write("n_modes", v.nmodes.data(), ed);
  pe.write("constrained", v.constrained.data(), ed);
  pe.write("correct", v.correct.data(), ed);
  pe.write("evaluated", v.evaluated.data(), {E});
  pe.attr("/", "levels", levels);
  pe.close();
}

void write_caustics(io::H5Writer& out, const std::vector<double>& truth, int64_t K, int64_t D) {
  for (int64_t e = 0; e < K; ++e) {
    const double* th = truth.data() + e * D;
    const double s = std::pow(10.0, th[0]), q = std::pow(10.0, th[1]);
    const auto cc = lens::caustic_curves(s, q);
    const auto ca = join_curves(cc.caustic), cr = join_curves(cc.critical);
    const std::string g = "event_" + std::to_string(e);
    out.write(g + "/caustic", ca.data(), {uint64_t(ca.size() / 2), 2});
    out.write(g + "/critical", cr.data(), {uint64_t(cr.size() / 2), 2});
    out.attr(g, "s", s);
    out.attr(g, "q", q);
    out.attr(g, "theta", std::vector<double>(th, th + D));
  }
  out.attr("/", "n_events", K);
  out.close();
}

}  // namespace

double EvaluateReport::coverage(const stats::ParameterMetrics& p, double level) const {
  for (size_t i = 0; i < levels.size(); ++i)
    if (std::fabs(levels[i] - level) < 1e-9) return p.coverage[i];
  return std::numeric_limits<double>::quiet_NaN();
}

EvaluateReport run_evaluate(const EvaluateOptions& opt) {
  const std::vector<std::string> out_names = {"metrics.csv", "metrics.json", "per_event.h5", "caustics.h5"};
  {  // An output that is the posterior file itself is refused before any work.
    std::vector<core::NamedPath> outs;
    for (const auto& n : out_names) outs.push_back({"--out", opt.out + "/" + n});
    core::refuse_overlaps(outs, {{"--posterior", opt.posterior}});
  }
  core::set_num_threads(opt.threads);
  const io::PosteriorReader r(opt.posterior);
  const auto truth = r.theta_true();
  const int64_t E = int64_t(r.n_events()), S = int64_t(r.n_samples()), D = sim::kThetaDim;
  const sim::PriorBox prior = io::prior_from_attr(r.prior());
  const auto specs = theta_marginals(prior);
  const std::vector<int64_t> n_valid = r.n_valid();

  EvaluateReport rep;
  rep.n_events = E;
  rep.n_samples = S;
  for (int k = 1; k <= 19; ++k) rep.levels.push_back(0.05 * k);
  rep.levels.push_back(0.68);
  std::sort(rep.levels.begin(), rep.levels.end());
  stats::CalibrationMetrics cm(specs, rep.levels);
  PerEvent pe;
  // Events per read: at most 2^20 samples in memory, whatever S.
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(256, (int64_t(1) << 20) / S));
  for (int64_t e0 = 0; e0 < E; e0 += chunk) {
    const int64_t m = std::min(chunk, E - e0);
    auto s = r.read_samples(uint64_t(e0), uint64_t(m));
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
        rep.skipped.push_back(e0 + i);
        continue;
      }
      if (int64_t(keep.size()) != i) std::copy(ev, ev + S * D, s.begin() + ptrdiff_t(keep.size()) * S * D);
      keep.push_back(i);
      tr.insert(tr.end(), truth.begin() + (e0 + i) * D, truth.begin() + (e0 + i + 1) * D);
    }
    const auto res = keep.empty() ? std::vector<std::vector<stats::EventMarginal>>()
                                  : cm.add(s.data(), tr.data(), keep.size(), size_t(S));
    size_t next = 0;
    for (int64_t i = 0; i < m; ++i) {
      const bool ok = next < keep.size() && keep[next] == i;
      pe.evaluated.push_back(ok);
      for (int64_t d = 0; d < D; ++d) {
        if (!ok) {
          pe.pit.push_back(NAN);
          pe.gmode.push_back(NAN);
          pe.cmode.push_back(NAN);
          pe.nmodes.push_back(0);
          pe.constrained.push_back(0);
          pe.correct.push_back(0);
          continue;
        }
        const auto& em = res[next][size_t(d)];
        pe.pit.push_back(em.pit);
        const bool has = !em.modes.values.empty();
        pe.gmode.push_back(has ? em.modes.values[0] : NAN);
        pe.cmode.push_back(has ? em.closest_mode : NAN);
        pe.nmodes.push_back(int64_t(em.modes.values.size()));
        pe.constrained.push_back(em.constrained);
        pe.correct.push_back(em.correct);
      }
      if (ok) ++next;
    }
  }
  if (int64_t(rep.skipped.size()) == E)
    throw std::runtime_error(opt.posterior + ": no event has a valid sample (n_valid = 0 everywhere)");
  rep.parameters = cm.finish();

  // NLL of the truths under the model and under the prior, in standardized units.
  rep.test_nll = NAN;
  const double lss = r.log_std_sum();
  const auto lq = r.log_q_true();
  if (!lq.empty()) {
    double nll = 0.0;
    for (double v : lq) nll -= v;
    rep.test_nll = nll / double(E) - lss;
  }
  double prior_nll = 0.0;
  for (int64_t e = 0; e < E; ++e) prior_nll -= sim::log_prior_theta(prior, truth.data() + e * D);
  rep.prior_nll = prior_nll / double(E) - lss;

  core::make_dirs(opt.out);
  // All four files are staged under temporary names, then renamed together.
  core::TextOutput csv_out(opt.out + "/metrics.csv", core::SpecialFiles::refuse);
  core::TextOutput js_out(opt.out + "/metrics.json", core::SpecialFiles::refuse);
  write_metrics(opt, rep, csv_out, js_out);
  csv_out.close();
  js_out.close();
  io::H5Writer pe_out(opt.out + "/per_event.h5");
  write_per_event(pe_out, pe, rep.levels, uint64_t(E), uint64_t(D));
  rep.n_caustics = std::min<int64_t>(opt.plot_events, int64_t(r.n_flux()));
  io::H5Writer ca_out(opt.out + "/caustics.h5");
  write_caustics(ca_out, truth, rep.n_caustics, D);
  core::commit_all({&csv_out.file(), &js_out.file(), &pe_out.file(), &ca_out.file()});
  return rep;
}

std::string find_plot_script(const std::string& given) {
  if (!given.empty()) {
    if (!core::path_exists(given)) throw std::runtime_error("plot script not found: " + given + " (--plot-script)");
    return given;
  }
  if (const char* env = std::getenv("LENSFLOW_SCRIPTS")) {
    const std::string p = std::string(env) + "/plot_evaluation.py";
    if (!core::path_exists(p)) throw std::runtime_error("plot script not found: " + p + " ($LENSFLOW_SCRIPTS)");
    return p;
  }
  const std::string dir = core::executable_dir();
  const std::string p = dir + "/../share/lensflow/plot_evaluation.py";
  if (dir.empty() || !core::path_exists(p))
    throw std::runtime_error("plot script not found: " + p +
                             " (installed with the programs; use --plot-script or $LENSFLOW_SCRIPTS)");
  return p;
}

void draw_evaluation_plots(const std::string& script, const EvaluateOptions& opt, int64_t n_events) {
  const std::string cmd = "python3 '" + script + "' --posterior '" + opt.posterior + "' --eval '" + opt.out +
                          "' --events " + std::to_string(n_events);
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error("plotting failed (" + cmd + "); python3 with h5py and matplotlib is needed");
}

}  // namespace lensflow::pipeline
