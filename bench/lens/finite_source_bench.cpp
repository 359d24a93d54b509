// bench_finite_source_bench: binary-lens finite-source throughput of lensflow on one CPU core, against
// VBMicrolensing (bench/lens/vbm_finite_reference.py, BinaryMag2 / BinaryLightCurve at
// Tol = RelTol = the same tolerance) timed on the same inputs in the same run.
//   1. reference rows of tests/data/binary_uniform.csv in three classes by distance to the caustic
//      (dcaus_rho): far (> 10 ρ), near (1–5 ρ), on a caustic (< 1 ρ): µs per magnification,
//      magnifications/s, and each code's error against the reference (VBMicrolensing at 1e-6);
//   2. limb-darkened (a1 = 0.5) on the caustic-crossing class;
//   3. 14,400-epoch finite-source light curves of events drawn from the priors of
//      docs/conventions.md §Priors (t0 = 72 d, 0.01-d cadence), through lightcurves_host on one
//      thread: seconds per curve;
//   4. ratios VBMicrolensing/lensflow per core (> 1: lensflow faster).
// Prints "RESULT name value unit" lines. Options: --no-vbm, --tol T (default 1e-3).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/lens/prior_events.hpp"
#include "lens/finite_source.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/trajectory.hpp"

using namespace lensflow::lens;
using lensflow::bench_util::json_field;
using lensflow::bench_util::seconds_since;

namespace {

const std::string kSourceDir = lensflow::bench_util::dir_of(__FILE__);

struct Row {
  double s, q, y1, y2, rho, A_ref, dcaus;
};

std::vector<Row> read_reference(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::string line;
  std::getline(in, line);  // s,q,y1,y2,rho,A_point,A_finite_uniform,uncertain,regime,dcaus_rho
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f;
    double v[10];
    int k = 0;
    while (k < 10 && std::getline(ss, f, ',')) v[k++] = std::atof(f.c_str());
    if (k == 10) rows.push_back({v[0], v[1], v[2], v[3], v[4], v[6], v[9]});
  }
  return rows;
}

// Runs the Python reference on a CSV it writes first; returns its JSON line ("" on failure).
std::string run_vbm(const std::string& mode, const std::string& csv_text, const std::string& args) {
  const std::string in = "/tmp/lensflow_fs_bench_" + mode + ".csv", out = "/tmp/lensflow_fs_bench_" + mode + ".json";
  {
    std::ofstream f(in);
    f << csv_text;
  }
  const std::string text = lensflow::bench_util::run_reference(
      "python3 '" + kSourceDir + "/vbm_finite_reference.py' " + mode + " " + in + " " + args, out);
  std::remove(in.c_str());
  return text;
}

struct ClassTiming {
  double us, max_err, p999_err;
  int budget_hits;
};

ClassTiming time_class(const std::vector<Row>& rows, const FiniteSourceOptions& opt, FiniteSourceWorkspace* ws) {
  std::vector<double> err(rows.size());
  int budget = 0;
  double best = 1e300;
  for (int rep = 0; rep < 2; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      const FiniteMagResult m = binary_finite_mag(make_binary_lens(r.s, r.q), cplx(r.y1, r.y2), r.rho, opt, ws);
      err[i] = std::fabs(m.A - r.A_ref) / r.A_ref;
      if (rep == 0) budget += m.status != kFiniteOk;
    }
    best = std::min(best, seconds_since(t0));
  }
  std::sort(err.begin(), err.end());
  return {best / rows.size() * 1e6, err.back(), err[static_cast<std::size_t>(0.999 * (err.size() - 1))], budget};
}

std::string points_csv(const std::vector<Row>& rows) {
  std::ostringstream f;
  f.precision(17);
  f << "s,q,y1,y2,rho,A_ref\n";
  for (const Row& r : rows) f << r.s << ',' << r.q << ',' << r.y1 << ',' << r.y2 << ',' << r.rho << ',' << r.A_ref << '\n';
  return f.str();
}

}  // namespace

int main(int argc, char** argv) {
  bool with_vbm = true;
  double tol = 1e-3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-vbm") with_vbm = false;
    if (a == "--tol" && i + 1 < argc) tol = std::atof(argv[++i]);
  }
  char tol_arg[64];
  std::snprintf(tol_arg, sizeof tol_arg, "--tol %g", tol);
  std::printf("lensflow finite-source benchmark (one core, Tol = RelTol = %g)\n", tol);
  const auto all = read_reference(kSourceDir + "/../../tests/data/binary_uniform.csv");
  std::vector<Row> cls[3];
  const char* names[3] = {"far", "near", "crossing"};
  for (const Row& r : all) {
    if (r.dcaus > 10.0 && cls[0].size() < 4000) cls[0].push_back(r);
    if (r.dcaus >= 1.0 && r.dcaus <= 5.0) cls[1].push_back(r);
    if (r.dcaus < 1.0) cls[2].push_back(r);
  }
  auto ws = std::make_unique<FiniteSourceWorkspace>();
  FiniteSourceOptions opt;
  opt.tol_abs = opt.tol_rel = tol;

  // 1. Uniform source by class.
  for (int c = 0; c < 3; ++c) {
    const ClassTiming t = time_class(cls[c], opt, ws.get());
    std::printf("%-8s %5zu points: %8.2f us/mag (%.3g mag/s), rel. error vs reference max %.2e, 99.9%% %.2e, "
                "budget hits %d\n",
                names[c], cls[c].size(), t.us, 1e6 / t.us, t.max_err, t.p999_err, t.budget_hits);
    std::printf("RESULT finite_uniform_%s_us_per_mag %.4g us\n", names[c], t.us);
    if (with_vbm) {
      const std::string j = run_vbm("finite", points_csv(cls[c]), tol_arg);
      if (!j.empty()) {
        const double v = json_field(j, "finite_us");
        std::printf("  VBMicrolensing: %8.2f us/mag, rel. error vs reference max %.2e, 99.9%% %.2e -> ratio "
                    "VBM/lensflow %.2f\n",
                    v, json_field(j, "max_rel_err"), json_field(j, "p999_rel_err"), v / t.us);
        std::printf("RESULT finite_uniform_%s_ratio_vbm_over_lensflow %.3g x\n", names[c], v / t.us);
      }
    }
  }

  // 2. Limb darkening on the crossing class (no LD reference here: timing only).
  {
    std::vector<Row> sub(cls[2].begin(), cls[2].begin() + std::min<std::size_t>(cls[2].size(), 400));
    FiniteSourceOptions ld = opt;
    ld.a1 = 0.5;
    const auto t0 = std::chrono::steady_clock::now();
    int budget = 0;
    for (const Row& r : sub)
      budget += binary_finite_mag(make_binary_lens(r.s, r.q), cplx(r.y1, r.y2), r.rho, ld, ws.get()).status != kFiniteOk;
    const double us = seconds_since(t0) / sub.size() * 1e6;
    std::printf("LD a1=0.5 crossing, %zu points: %8.2f us/mag, budget hits %d\n", sub.size(), us, budget);
    std::printf("RESULT finite_ld_crossing_us_per_mag %.4g us\n", us);
    if (with_vbm) {
      const std::string j = run_vbm("finite", points_csv(sub), std::string(tol_arg) + " --a1 0.5");
      if (!j.empty()) {
        const double v = json_field(j, "finite_us");
        std::printf("  VBMicrolensing: %8.2f us/mag -> ratio VBM/lensflow %.2f\n", v, v / us);
        std::printf("RESULT finite_ld_crossing_ratio_vbm_over_lensflow %.3g x\n", v / us);
      }
    }
  }

  // 3. Light curves from the priors (docs/conventions.md §Priors).
  std::mt19937_64 rng(20261122);
  lensflow::bench_util::SpecEvents draw(rng);
  const int n_ev = 20, n_t = 14400;
  std::vector<EventParams> ev(n_ev);
  std::ostringstream evcsv;
  evcsv.precision(17);
  evcsv << "s,q,alpha_deg,u0,t0,tE,rho\n";
  for (auto& e : ev) {
    e = draw.next();
    evcsv << e.s << ',' << e.q << ',' << e.alpha_deg << ',' << e.u0 << ',' << e.t0 << ',' << e.tE << ',' << e.rho << '\n';
  }
  // Each curve through the batched API on one thread (caustic outline, 64-epoch walks), as the
  // simulator and the likelihood compute them.
  double worst = 0.0;
  std::vector<double> t(n_t), A(n_t);
  for (int i = 0; i < n_t; ++i) t[i] = 0.01 * i;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& e : ev) {
    const auto te = std::chrono::steady_clock::now();
    lightcurves_host(&e, 1, t.data(), n_t, true, opt, A.data(), nullptr, 1);
    worst = std::max(worst, seconds_since(te));
  }
  const double per_curve = seconds_since(t0) / n_ev;
  std::printf("light curves: %d events x %d epochs: %.4f s per curve (slowest %.3f s), %.3g curves/s\n", n_ev, n_t,
              per_curve, worst, 1.0 / per_curve);
  std::printf("RESULT finite_lightcurve_s_per_curve %.4g s\n", per_curve);
  if (with_vbm) {
    const std::string j = run_vbm("lightcurve", evcsv.str(), tol_arg);
    if (!j.empty()) {
      const double v = json_field(j, "s_per_curve");
      std::printf("  VBMicrolensing BinaryLightCurve: %.4f s per curve -> ratio VBM/lensflow %.2f\n", v, v / per_curve);
      std::printf("RESULT finite_lightcurve_ratio_vbm_over_lensflow %.3g x\n", v / per_curve);
    }
  }
  return 0;
}
