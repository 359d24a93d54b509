// pipeline/simulate_run.cpp — see simulate_run.hpp.
#include "pipeline/simulate_run.hpp"

#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "dist/comm.hpp"
#include "io/h5file.hpp"
#include "io/prior_fields.hpp"
#include "lens/batch_validate.hpp"

namespace lensflow::pipeline {
namespace {

io::DatasetSettings settings_of(const SimulateOptions& o) {
  const sim::SimulationConfig& c = o.config;
  io::DatasetSettings s;
  s.prior = io::prior_to_attr(c.prior);
  s.seed = c.seed;
  s.n_events = o.n_events;
  s.events_per_shard = o.events_per_shard;
  s.num_shards = o.num_shards;
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
  s.lensflow_version = LENSFLOW_VERSION;
  return s;
}

io::ShardData shard_data(const sim::SimulationBatch& b, uint64_t shard) {
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

// The lens library refuses values outside its supported domain: say so before any work.
void check_domain(const sim::PriorBox& p, const sim::SimulationConfig& c) {
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
  if (double(c.n_t) * c.dt / p.tE_min + std::max(std::fabs(p.u0_min), std::fabs(p.u0_max)) > lens::kMaxSourceOffset) {
    std::ostringstream os;
    os << "--tE-range: tE_min " << p.tE_min
       << " moves the source more than 1e8 Einstein radii over the sequence, outside the supported domain";
    throw std::invalid_argument(os.str());
  }
}

}  // namespace

SimulateRun::SimulateRun(SimulateOptions opt) : opt_(std::move(opt)) {
  SimulateOptions& o = opt_;
  core::set_num_threads(o.threads);
  sim::validate_simulation_config(o.config);
  check_domain(o.config.prior, o.config);
  if (o.n_events == 0) throw std::invalid_argument("--n-events must be >= 1");
  uint64_t& per_shard = o.events_per_shard;
  uint64_t& num_shards = o.num_shards;
  if (per_shard > 0 && num_shards > 0 && (o.n_events + per_shard - 1) / per_shard != num_shards)
    throw std::invalid_argument("--events-per-shard " + std::to_string(per_shard) + " and --num-shards " +
                                std::to_string(num_shards) + " disagree for --n-events " + std::to_string(o.n_events));
  if (per_shard == 0) per_shard = num_shards > 0 ? (o.n_events + num_shards - 1) / num_shards : 10000;
  num_shards = (o.n_events + per_shard - 1) / per_shard;
  if (o.shard >= 0 && uint64_t(o.shard) >= num_shards)
    throw std::invalid_argument("--shard " + std::to_string(o.shard) + " out of range: there are " +
                                std::to_string(num_shards) + " shards (0 … " + std::to_string(num_shards - 1) + ")");
  if (o.shard < -1) throw std::invalid_argument("--shard must be >= 0");

  core::make_dirs(o.out);
  settings_ = settings_of(o);
  // Shards of another shard set (another --n-events or shard size) would mix with this one.
  for (const std::string& f : io::shard_files(o.out)) {
    bool ours = false;
    for (uint64_t i = 0; i < num_shards && !ours; ++i) ours = f == shard_path(i);
    if (ours) continue;
    std::string why;
    io::check_shard(f, settings_, 0, &why);
    throw std::runtime_error((why.empty() ? f + " belongs to another shard set" : why) +
                             "; this directory holds another dataset: use another --out directory or the "
                             "original settings");
  }
  // Which shards need work.
  const uint64_t s_lo = o.shard >= 0 ? uint64_t(o.shard) : 0, s_hi = o.shard >= 0 ? s_lo + 1 : num_shards;
  for (uint64_t i = s_lo; i < s_hi; ++i) {
    std::string why;
    switch (io::check_shard(shard_path(i), settings_, i, &why)) {
      case io::ShardStatus::complete: done_before_.push_back(i); break;
      case io::ShardStatus::missing: todo_.push_back(i); break;
      case io::ShardStatus::corrupt:
        redone_.push_back(why);
        todo_.push_back(i);
        break;
      case io::ShardStatus::mismatched:
        throw std::runtime_error(why + "; use another --out directory or the original settings");
    }
  }
  // Every rank has looked at the directory before any rank writes to it (a shard finished early
  // would otherwise drop out of a slower rank's todo list, and the lists would differ).
  dist::world().barrier();
}

uint64_t SimulateRun::shard_size(uint64_t i) const {
  return std::min(opt_.events_per_shard, opt_.n_events - i * opt_.events_per_shard);
}

std::string SimulateRun::shard_path(uint64_t i) const {
  return opt_.out + "/" + io::shard_file_name(i, opt_.num_shards);
}

uint64_t SimulateRun::todo_events() const {
  uint64_t n = 0;
  for (uint64_t i : todo_) n += shard_size(i);
  return n;
}

uint64_t SimulateRun::share_events() const {
  const uint64_t ranks = uint64_t(dist::world().size());
  return (todo_events() + ranks - 1) / ranks;
}

SimulateReport SimulateRun::run(const sim::SimulationProgress& on_progress) {
  const SimulateOptions& o = opt_;
  SimulateReport r;
  const auto t_start = std::chrono::steady_clock::now();
  dist::WorkCounter next_shard(dist::world());
  for (int64_t k; (k = next_shard.next()) < int64_t(todo_.size());) {
    const uint64_t i = todo_[size_t(k)];
    const uint64_t first = i * o.events_per_shard, n = shard_size(i), base = r.run_drawn;
    const sim::SimulationBatch b = sim::simulate_events(
        o.config, first, n, o.device, o.threads,
        [&](std::size_t d) {
          if (on_progress) on_progress(base + d);
        },
        o.device_batch);
    io::write_shard(shard_path(i), settings_, shard_data(b, i));
    r.run_drawn += n;
    r.run_accepted += b.n_accepted();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  // Every rank's totals (and every shard written before the totals are read back).
  const dist::Comm& comm = dist::world();
  int64_t counts[2] = {int64_t(r.run_drawn), int64_t(r.run_accepted)};
  comm.allreduce_sum(counts, 2);
  comm.allreduce_max(&r.seconds, 1);
  r.run_drawn = uint64_t(counts[0]);
  r.run_accepted = uint64_t(counts[1]);
  r.shards_simulated = todo_.size();
  // Totals over the shards of this job's range (including those done before).
  const uint64_t s_lo = o.shard >= 0 ? uint64_t(o.shard) : 0, s_hi = o.shard >= 0 ? s_lo + 1 : o.num_shards;
  for (uint64_t i = s_lo; i < s_hi; ++i) {
    io::H5Reader h(shard_path(i));
    r.all_drawn += uint64_t(h.attr_i64("/", "n_drawn"));
    r.all_accepted += uint64_t(h.attr_i64("/", "n_accepted"));
  }
  return r;
}

}  // namespace lensflow::pipeline
