// Helpers of the CLI tests: run a built program, capture its exit status and output, and write a
// tiny synthetic training set (single-lens magnifications of prior-drawn events: fast to make,
// readable by io::DatasetReader like a simulated one).
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/dataset.hpp"
#include "lens/priors.hpp"
#include "pipeline/trainer.hpp"
#include "pipeline/training_data.hpp"

namespace lensflow::testing {

struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline std::string app_path(const std::string& name) {
  return std::string(LENSFLOW_BINARY_DIR) + "/apps/lensflow-" + name;
}

inline bool app_exists(const std::string& name) { return ::access(app_path(name).c_str(), X_OK) == 0; }

inline RunResult run_app(const std::string& name, const std::string& args) {
  RunResult r;
  FILE* p = ::popen((app_path(name) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs `sh -c "exec COMMAND > OUT_FILE 2>&1"` (COMMAND may redirect stdin or start helpers
// before the exec) and returns the exit status, the output and the program's peak resident
// memory in kB (wait4 reports it for exactly that process).
struct MeasuredRun {
  int status = -1;
  long max_rss_kb = -1;
  std::string output;
};
inline MeasuredRun run_measured(const std::string& command, const std::string& out_file) {
  MeasuredRun m;
  const std::string sh = "exec " + command + " > '" + out_file + "' 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", sh.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  rusage ru{};
  if (::wait4(pid, &st, 0, &ru) != pid) return m;
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  m.max_rss_kb = ru.ru_maxrss;
  if (FILE* f = std::fopen(out_file.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) m.output.append(buf, n);
    std::fclose(f);
  }
  return m;
}

inline std::string scratch_dir(const std::string& name) {
  const std::string d = "/tmp/lensflow_cli_" + std::to_string(getpid()) + "_" + name;
  std::system(("rm -rf " + d + " && mkdir -p " + d).c_str());
  return d;
}

// A one-shard dataset of n events (prior draws of `seed`, Paczyński magnifications on the
// 14,400-point grid with t0 = 72 d) in dir/shard_00000_of_00001.h5.
inline void write_tiny_dataset(const std::string& dir, int n, uint64_t seed) {
  const lens::PriorBox prior;
  io::DatasetSettings s;
  s.prior = pipeline::prior_to_attr(prior);
  s.seed = seed;
  s.n_events = uint64_t(n);
  s.events_per_shard = uint64_t(n);
  s.num_shards = 1;
  s.lensflow_version = "test";
  io::ShardData d;
  d.n_drawn = uint64_t(n);
  for (int i = 0; i < n; ++i) {
    const lens::PriorDraw e = lens::sample_event(prior, seed, uint64_t(i));
    d.theta_raw.insert(d.theta_raw.end(), {e.s, e.q, e.alpha_deg, e.u0, 72.0, e.tE, e.rho});
    for (uint64_t j = 0; j < s.n_t; ++j) {
      const double tau = (double(j) * s.dt - 72.0) / e.tE, u = std::sqrt(tau * tau + e.u0 * e.u0);
      d.mag.push_back(float((u * u + 2.0) / (u * std::sqrt(u * u + 4.0))));
    }
    d.chi2_dof.push_back(2.0);
    d.all_chi2_dof.push_back(2.0);
    d.event_index.push_back(i);
  }
  pipeline::make_directories(dir);
  io::write_shard(dir + "/" + io::shard_file_name(0, 1), s, d);
}

}  // namespace lensflow::testing
