// lensflow-magnify: binary-lens magnifications for a CSV of source positions, or light curves for a
// CSV of events, on CPU threads or the GPU.
//
//   lensflow-magnify points --input pts.csv --output out.csv [--tol 1e-4] [--device cpu|cuda]
//   lensflow-magnify curves --input events.csv --output out.csv (--t0 0 --t1 144 --dt 0.01 | --times t.txt)
// Columns, outputs, limits and failure behaviour: pipeline/magnify_run.hpp.
#include <CLI/CLI.hpp>

#include <iostream>

#include "pipeline/magnify_run.hpp"

using namespace lensflow;

namespace {

void add_common(CLI::App* sub, pipeline::MagnifyOptions& st) {
  sub->add_option("--input,-i", st.input, "input CSV")->required()->check(CLI::ExistingFile);
  sub->add_option("--output,-o", st.output, "output CSV (written atomically)")->required();
  sub->add_option("--tol", st.tol, "finite-source tolerance, absolute and relative (> 0)")
      ->each([&st](const std::string&) { st.has_tol = true; });
  sub->add_option("--tol-abs", st.tol_abs, "finite-source absolute tolerance (>= 0; overrides --tol)")
      ->each([&st](const std::string&) { st.has_tol_abs = true; });
  sub->add_option("--tol-rel", st.tol_rel, "finite-source relative tolerance (>= 0; overrides --tol)")
      ->each([&st](const std::string&) { st.has_tol_rel = true; });
  sub->add_option("--device", st.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--threads", st.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-magnify: binary-lens magnifications and light curves from CSV files"};
  app.require_subcommand(1);
  pipeline::MagnifyOptions st;
  auto* points = app.add_subcommand("points", "magnification of each row (s,q,y1,y2[,rho][,a1])");
  add_common(points, st);
  auto* curves = app.add_subcommand("curves", "light curves of events (s,q,alpha,u0,t0,tE,rho) on a time grid");
  add_common(curves, st);
  curves->add_option("--t0", st.t0, "first epoch [days]");
  curves->add_option("--t1", st.t1, "last epoch [days]");
  curves->add_option("--dt", st.dt, "epoch step [days]");
  curves->add_option("--times", st.times_file, "file of epochs, one per line (instead of --t0/--t1/--dt)")
      ->check(CLI::ExistingFile);
  curves->add_flag("--point", st.point_only, "point-source curves (rho not needed)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (points->parsed()) {
      const std::size_t n = pipeline::magnify_points(st);
      std::cerr << "lensflow-magnify: " << n << " rows -> " << st.output << "\n";
    } else {
      const pipeline::MagnifyCurves r = pipeline::magnify_curves(st);
      std::cerr << "lensflow-magnify: " << r.n_curves << " curves x " << r.n_epochs << " epochs -> " << st.output
                << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "lensflow-magnify: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
