// lensflow-simulate: the Roman-like 2L1S training set (SPEC §4) as HDF5 shard files.
//
//   lensflow-simulate --out DIR --n-events N [--seed S] [--events-per-shard K | --num-shards n]
//                     [--shard i] [--cut paper|fit] [--device cpu|cuda] [--threads T] [--tol 1e-3]
//                     [--s-range 0.2,5 ...] [--n-t 14400 --dt 0.01] [--point-source]
// Prior draw i (0 <= i < N) goes to shard i / K. Without --shard every shard is simulated; with
// --shard i only that one, so independent jobs can share DIR with no coordination beyond the file
// system. Each shard is written atomically (a temporary file unique to the process, then a
// rename); a rerun skips shards whose final file is present and valid with the same settings,
// redoes corrupt ones, and refuses a DIR holding shards made with other settings or of another
// shard set (another --n-events or shard size). A full disk stops the run with the shards written
// so far complete (exit status 1). Progress goes to stderr; the summary (acceptance with
// its binomial error, timing) to stdout. Layout of the files: io/dataset.hpp.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/dataset.hpp"
#include "io/prior_fields.hpp"
#include "lens/batch_validate.hpp"
#include "pipeline/progress.hpp"
#include "sim/priors.hpp"
#include "sim/simulator.hpp"

namespace {

namespace lens = lensflow::lens;
namespace sim = lensflow::sim;
namespace io = lensflow::io;

constexpr const char* kLensflowVersion = "0.1.0";  // follows project(lensflow VERSION ...) in CMakeLists.txt

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

io::DatasetSettings settings_of(const sim::SimulationConfig& c, std::uint64_t n_events, std::uint64_t per_shard,
                                std::uint64_t num_shards) {
  io::DatasetSettings s;
  s.prior = io::prior_to_attr(c.prior);
  s.seed = c.seed;
  s.n_events = n_events;
  s.events_per_shard = per_shard;
  s.num_shards = num_shards;
  s.cut_mode = sim::cut_mode_name(c.cut.mode);
  s.cut_snr_base = c.cut.snr_base;
  s.cut_threshold = c.cut.threshold;
  s.cut_window_lo = c.cut.window_lo;
  s.cut_window_hi = c.cut.window_hi;
  s.finite_source = c.finite_source;
  s.fs_tol_rel = c.fs.tol_rel;
  s.fs_tol_abs = c.fs.tol_abs;
  s.n_t = c.n_t;
  s.dt = c.dt;
  s.t0_sim = c.t0_sim;
  s.lensflow_version = kLensflowVersion;
  return s;
}

io::ShardData shard_data(const sim::SimulationBatch& b, std::uint64_t shard) {
  io::ShardData d;
  d.shard = shard;
  d.first_index = b.first_index;
  d.n_drawn = b.n_drawn;
  for (const lens::EventParams& e : b.accepted_events)
    d.theta_raw.insert(d.theta_raw.end(), {e.s, e.q, e.alpha_deg, e.u0, e.t0, e.tE, e.rho});
  d.mag = b.accepted_mag;
  d.chi2_dof = b.accepted_chi2_dof;
  d.event_index.assign(b.accepted_index.begin(), b.accepted_index.end());
  d.all_chi2_dof = b.all_chi2_dof;
  return d;
}

void print_acceptance(const char* what, std::uint64_t accepted, std::uint64_t drawn) {
  const double f = drawn ? double(accepted) / double(drawn) : 0.0;
  const double err = drawn ? std::sqrt(f * (1.0 - f) / double(drawn)) : 0.0;
  std::printf("%s: %llu of %llu draws accepted = %.2f%% +- %.2f%% (binomial)\n", what,
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(drawn), 100.0 * f, 100.0 * err);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-simulate: simulate the 2L1S training set (prior draws, magnification sequences, 1L1S cut) "
               "into HDF5 shards"};
  std::string out, cut = "paper", device = "cpu";
  std::uint64_t n_events = 0, seed = 1, per_shard = 0, num_shards = 0;
  std::int64_t shard = -1;
  int threads = 0;
  double tol = 1e-3;
  std::size_t n_t = 14400, device_batch = 1024;
  double dt = 0.01;
  bool point_source = false, quiet = false;
  std::string r_s, r_q, r_alpha, r_u0, r_t0, r_tE, r_rho, r_fs;
  double tE_mean = 1.15, tE_sigma = 0.45;
  app.add_option("--out", out, "output directory (created if missing)")->required();
  app.add_option("--n-events", n_events, "total prior draws N over all shards")->required();
  app.add_option("--seed", seed, "seed of the prior draws");
  app.add_option("--events-per-shard", per_shard, "draws per shard K (default 10000, or N/num-shards)");
  app.add_option("--num-shards", num_shards, "number of shards n (alternative to --events-per-shard)");
  app.add_option("--shard", shard, "simulate only this shard (0-based); default: all");
  app.add_option("--cut", cut, "1L1S cut: paper (own PSPL parameters, central 72 d) or fit (best-fit PSPL)")
      ->check(CLI::IsMember({"paper", "fit"}));
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", threads, "CPU threads (0 = all cores)");
  app.add_option("--tol", tol, "finite-source relative tolerance");
  app.add_option("--n-t", n_t, "epochs per sequence (default 14400)");
  app.add_option("--dt", dt, "cadence in days (default 0.01)");
  app.add_option("--device-batch", device_batch, "events per device batch (cuda)");
  app.add_flag("--point-source", point_source, "point-source sequences (tests; the training set uses finite source)");
  app.add_flag("--quiet", quiet, "no progress output");
  app.add_option("--s-range", r_s, "prior range of s, 'min,max' (log-uniform)");
  app.add_option("--q-range", r_q, "prior range of q (log-uniform)");
  app.add_option("--alpha-range", r_alpha, "prior range of alpha in degrees (uniform)");
  app.add_option("--u0-range", r_u0, "prior range of u0 (uniform)");
  app.add_option("--t0-range", r_t0, "prior range of t0 in days (uniform; drawn at realization)");
  app.add_option("--tE-range", r_tE, "truncation range of tE in days");
  app.add_option("--log10-tE-mean", tE_mean, "mean of log10 tE");
  app.add_option("--log10-tE-sigma", tE_sigma, "sigma of log10 tE");
  app.add_option("--rho-range", r_rho, "prior range of rho (log-uniform)");
  app.add_option("--fs-range", r_fs, "prior range of f_s (log-uniform; drawn at realization)");
  CLI11_PARSE(app, argc, argv);

  try {
    lensflow::core::set_num_threads(threads);
    sim::SimulationConfig cfg;
    sim::PriorBox& p = cfg.prior;
    parse_range("--s-range", r_s, p.s_min, p.s_max);
    parse_range("--q-range", r_q, p.q_min, p.q_max);
    parse_range("--alpha-range", r_alpha, p.alpha_min, p.alpha_max);
    parse_range("--u0-range", r_u0, p.u0_min, p.u0_max);
    parse_range("--t0-range", r_t0, p.t0_min, p.t0_max);
    parse_range("--tE-range", r_tE, p.tE_min, p.tE_max);
    parse_range("--rho-range", r_rho, p.rho_min, p.rho_max);
    parse_range("--fs-range", r_fs, p.fs_min, p.fs_max);
    p.log10_tE_mean = tE_mean;
    p.log10_tE_sigma = tE_sigma;
    cfg.seed = seed;
    cfg.n_t = n_t;
    cfg.dt = dt;
    cfg.finite_source = !point_source;
    if (!(tol > 0.0 && std::isfinite(tol))) throw std::invalid_argument("--tol must be > 0");
    cfg.fs.tol_rel = tol;
    cfg.cut.mode = sim::parse_cut_mode(cut.c_str());
    sim::validate_simulation_config(cfg);
    // The lens library refuses values outside its supported domain: say so before any work.
    auto in_domain = [](const char* opt, double lo, double hi, double min, double max) {
      if (lo < min || hi > max) {
        std::ostringstream os;
        os << opt << " " << lo << "," << hi << " leaves the supported domain [" << min << ", " << max << "]";
        throw std::invalid_argument(os.str());
      }
    };
    in_domain("--s-range", p.s_min, p.s_max, lens::kMinSeparation, lens::kMaxSeparation);
    in_domain("--q-range", p.q_min, p.q_max, lens::kMinMassRatio, lens::kMaxMassRatio);
    in_domain("--rho-range", p.rho_min, p.rho_max, 0.0, lens::kMaxSourceRadius);
    if (double(cfg.n_t) * cfg.dt / p.tE_min + std::max(std::fabs(p.u0_min), std::fabs(p.u0_max)) >
        lens::kMaxSourceOffset)
    {
      std::ostringstream os;
      os << "--tE-range: tE_min " << p.tE_min
         << " moves the source more than 1e8 Einstein radii over the sequence, outside the supported domain";
      throw std::invalid_argument(os.str());
    }

    if (n_events == 0) throw std::invalid_argument("--n-events must be >= 1");
    if (per_shard > 0 && num_shards > 0 && (n_events + per_shard - 1) / per_shard != num_shards)
      throw std::invalid_argument("--events-per-shard " + std::to_string(per_shard) + " and --num-shards " +
                                  std::to_string(num_shards) + " disagree for --n-events " + std::to_string(n_events));
    if (per_shard == 0) per_shard = num_shards > 0 ? (n_events + num_shards - 1) / num_shards : 10000;
    num_shards = (n_events + per_shard - 1) / per_shard;
    if (shard >= 0 && std::uint64_t(shard) >= num_shards)
      throw std::invalid_argument("--shard " + std::to_string(shard) + " out of range: there are " +
                                  std::to_string(num_shards) + " shards (0 … " + std::to_string(num_shards - 1) + ")");
    if (shard < -1) throw std::invalid_argument("--shard must be >= 0");
    const sim::SimDevice dev = device == "cuda" ? sim::SimDevice::cuda : sim::SimDevice::cpu;

    lensflow::core::make_dirs(out);
    const io::DatasetSettings settings = settings_of(cfg, n_events, per_shard, num_shards);

    // Shards of another shard set (another --n-events or shard size) would mix with this one.
    for (const std::string& f : io::shard_files(out)) {
      bool ours = false;
      for (std::uint64_t i = 0; i < num_shards && !ours; ++i)
        ours = f == out + "/" + io::shard_file_name(i, num_shards);
      if (ours) continue;
      std::string why;
      io::check_shard(f, settings, 0, &why);
      throw std::runtime_error((why.empty() ? f + " belongs to another shard set" : why) +
                               "; this directory holds another dataset: use another --out directory or the "
                               "original settings");
    }

    // Which shards need work.
    std::vector<std::uint64_t> todo, done_before;
    const std::uint64_t s_lo = shard >= 0 ? std::uint64_t(shard) : 0, s_hi = shard >= 0 ? s_lo + 1 : num_shards;
    for (std::uint64_t i = s_lo; i < s_hi; ++i) {
      const std::string path = out + "/" + io::shard_file_name(i, num_shards);
      std::string why;
      switch (io::check_shard(path, settings, i, &why)) {
        case io::ShardStatus::complete: done_before.push_back(i); break;
        case io::ShardStatus::missing: todo.push_back(i); break;
        case io::ShardStatus::corrupt:
          std::fprintf(stderr, "lensflow-simulate: redoing an unreadable shard: %s\n", why.c_str());
          todo.push_back(i);
          break;
        case io::ShardStatus::mismatched:
          throw std::runtime_error(why + "; use another --out directory or the original settings");
      }
    }
    auto shard_size = [&](std::uint64_t i) { return std::min(per_shard, n_events - i * per_shard); };
    std::uint64_t todo_events = 0;
    for (auto i : todo) todo_events += shard_size(i);
    if (!done_before.empty())
      std::printf("%zu shard(s) already complete in %s, %zu to simulate\n", done_before.size(), out.c_str(), todo.size());

    lensflow::pipeline::Progress bar("simulate", todo_events, "events", &std::cerr,
                                     quiet || todo.empty() ? lensflow::pipeline::Progress::Mode::quiet
                                           : lensflow::pipeline::Progress::Mode::automatic);
    const auto t_start = std::chrono::steady_clock::now();
    std::uint64_t run_drawn = 0, run_accepted = 0;
    for (std::uint64_t i : todo) {
      const std::uint64_t first = i * per_shard, n = shard_size(i);
      const std::uint64_t base = run_drawn;
      const sim::SimulationBatch b =
          sim::simulate_events(cfg, first, n, dev, threads, [&](std::size_t d) { bar.update(base + d); }, device_batch);
      io::write_shard(out + "/" + io::shard_file_name(i, num_shards), settings, shard_data(b, i));
      run_drawn += n;
      run_accepted += b.n_accepted();
    }
    bar.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    if (!todo.empty()) {
      std::printf("simulated %zu shard(s), %llu events in %.2f s (%.2f events/s, device %s, cut %s)\n", todo.size(),
                  static_cast<unsigned long long>(run_drawn), secs, secs > 0 ? double(run_drawn) / secs : 0.0,
                  device.c_str(), cut.c_str());
      print_acceptance("this run", run_accepted, run_drawn);
    }
    // Totals over the shards of this job's range (including those done before).
    std::uint64_t all_drawn = 0, all_accepted = 0;
    for (std::uint64_t i = s_lo; i < s_hi; ++i) {
      io::H5Reader r(out + "/" + io::shard_file_name(i, num_shards));
      all_drawn += std::uint64_t(r.attr_i64("/", "n_drawn"));
      all_accepted += std::uint64_t(r.attr_i64("/", "n_accepted"));
    }
    print_acceptance(shard >= 0 ? "shard" : "dataset", all_accepted, all_drawn);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lensflow-simulate: error: %s\n", e.what());
    return 1;
  }
}
