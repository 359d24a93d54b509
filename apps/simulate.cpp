// lensflow-simulate: the Roman-like 2L1S training set (docs/conventions.md §Training set) as HDF5
// shard files.
//
//   lensflow-simulate --out DIR --n-events N [--seed S] [--events-per-shard K | --num-shards n]
//                     [--shard i] [--cut paper|fit] [--device cpu|cuda] [--threads T] [--tol 1e-3]
//                     [--s-range 0.2,5 ...] [--n-t 14400 --dt 0.01] [--point-source]
// Sharding, reruns and failure behaviour: pipeline/simulate_run.hpp; layout of the files:
// io/dataset.hpp. A full disk stops the run with the shards written so far complete (exit status
// 1). Progress goes to stderr; the summary (acceptance with its binomial error, timing) to stdout.
// Under mpirun/srun the ranks share the shards (docs/mpi.md); rank 0 reports.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "dist/comm.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/simulate_run.hpp"

namespace {

using namespace lensflow;

// "a,b" → (a, b); std::invalid_argument naming the option otherwise.
void parse_range(const std::string& opt, const std::string& text, double& lo, double& hi) {
  if (text.empty()) return;
  const auto comma = text.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument("");
    std::size_t p1 = 0, p2 = 0;
    const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
    lo = std::stod(a, &p1);
    hi = std::stod(b, &p2);
    if (p1 != a.size() || p2 != b.size()) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument(opt + " expects two numbers 'min,max' (got '" + text + "')");
  }
}

void print_acceptance(const char* what, std::uint64_t accepted, std::uint64_t drawn) {
  const double f = drawn ? double(accepted) / double(drawn) : 0.0;
  const double err = drawn ? std::sqrt(f * (1.0 - f) / double(drawn)) : 0.0;
  std::printf("%s: %llu of %llu draws accepted = %.2f%% +- %.2f%% (binomial)\n", what,
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(drawn), 100.0 * f, 100.0 * err);
}

}  // namespace

int main(int argc, char** argv) {
  const dist::Environment mpi(&argc, &argv);
  const bool root = dist::world().is_root();
  CLI::App app{"lensflow-simulate: simulate the 2L1S training set (prior draws, magnification sequences, 1L1S cut) "
               "into HDF5 shards"};
  pipeline::SimulateOptions o;
  sim::SimulationConfig& cfg = o.config;
  sim::PriorBox& p = cfg.prior;
  std::string cut = "paper", device = "cpu";
  double tol = 1e-3;
  bool point_source = false, quiet = false;
  std::string r_s, r_q, r_alpha, r_u0, r_t0, r_tE, r_rho, r_fs;
  app.add_option("--out", o.out, "output directory (created if missing)")->required();
  app.add_option("--n-events", o.n_events, "total prior draws N over all shards")->required();
  app.add_option("--seed", cfg.seed, "seed of the prior draws");
  app.add_option("--events-per-shard", o.events_per_shard, "draws per shard K (default 10000, or N/num-shards)");
  app.add_option("--num-shards", o.num_shards, "number of shards n (alternative to --events-per-shard)");
  app.add_option("--shard", o.shard, "simulate only this shard (0-based); default: all");
  app.add_option("--cut", cut, "1L1S cut: paper (own PSPL parameters, central 72 d) or fit (best-fit PSPL)")
      ->check(CLI::IsMember({"paper", "fit"}));
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", o.threads, "CPU threads (0 = all cores)");
  app.add_option("--tol", tol, "finite-source relative tolerance");
  app.add_option("--n-t", cfg.n_t, "epochs per sequence (default 14400)");
  app.add_option("--dt", cfg.dt, "cadence in days (default 0.01)");
  app.add_option("--device-batch", o.device_batch, "events per device batch (cuda)");
  app.add_flag("--point-source", point_source, "point-source sequences (tests; the training set uses finite source)");
  app.add_flag("--quiet", quiet, "no progress output");
  app.add_option("--s-range", r_s, "prior range of s, 'min,max' (log-uniform)");
  app.add_option("--q-range", r_q, "prior range of q (log-uniform)");
  app.add_option("--alpha-range", r_alpha, "prior range of alpha in degrees (uniform)");
  app.add_option("--u0-range", r_u0, "prior range of u0 (uniform)");
  app.add_option("--t0-range", r_t0, "prior range of t0 in days (uniform; drawn at realization)");
  app.add_option("--tE-range", r_tE, "truncation range of tE in days");
  app.add_option("--log10-tE-mean", p.log10_tE_mean, "mean of log10 tE");
  app.add_option("--log10-tE-sigma", p.log10_tE_sigma, "sigma of log10 tE");
  app.add_option("--rho-range", r_rho, "prior range of rho (log-uniform)");
  app.add_option("--fs-range", r_fs, "prior range of f_s (log-uniform; drawn at realization)");
  CLI11_PARSE(app, argc, argv);

  try {
    parse_range("--s-range", r_s, p.s_min, p.s_max);
    parse_range("--q-range", r_q, p.q_min, p.q_max);
    parse_range("--alpha-range", r_alpha, p.alpha_min, p.alpha_max);
    parse_range("--u0-range", r_u0, p.u0_min, p.u0_max);
    parse_range("--t0-range", r_t0, p.t0_min, p.t0_max);
    parse_range("--tE-range", r_tE, p.tE_min, p.tE_max);
    parse_range("--rho-range", r_rho, p.rho_min, p.rho_max);
    parse_range("--fs-range", r_fs, p.fs_min, p.fs_max);
    cfg.finite_source = !point_source;
    if (!(tol > 0.0 && std::isfinite(tol))) throw std::invalid_argument("--tol must be > 0");
    cfg.fs.tol_rel = tol;
    cfg.cut.mode = sim::parse_cut_mode(cut.c_str());
    o.device = device == "cuda" ? sim::SimDevice::cuda : sim::SimDevice::cpu;

    pipeline::SimulateRun job(o);
    if (root)
      for (const std::string& why : job.redone())
        std::fprintf(stderr, "lensflow-simulate: redoing an unreadable shard: %s\n", why.c_str());
    if (root && !job.done_before().empty())
      std::printf("%zu shard(s) already complete in %s, %zu to simulate\n", job.done_before().size(), o.out.c_str(),
                  job.todo().size());
    pipeline::Progress bar("simulate", job.share_events(), "events", &std::cerr,
                           quiet || !root || job.todo().empty() ? pipeline::Progress::Mode::quiet
                                                       : pipeline::Progress::Mode::automatic);
    const pipeline::SimulateReport r = job.run([&](std::size_t done) { bar.update(done); });
    bar.finish();
    if (!root) return 0;
    if (r.shards_simulated) {
      std::printf("simulated %zu shard(s), %llu events in %.2f s (%.2f events/s, device %s, cut %s, %d rank(s))\n",
                  r.shards_simulated, static_cast<unsigned long long>(r.run_drawn), r.seconds,
                  r.seconds > 0 ? double(r.run_drawn) / r.seconds : 0.0, device.c_str(), cut.c_str(),
                  dist::world().size());
      print_acceptance("this run", r.run_accepted, r.run_drawn);
    }
    print_acceptance(o.shard >= 0 ? "shard" : "dataset", r.all_accepted, r.all_drawn);
    return 0;
  } catch (const std::exception& e) {
    return dist::fail("lensflow-simulate", e.what());
  }
}
