// Helpers of the CLI tests: run a built program, capture its exit status and output, and write a
// tiny synthetic training set (single-lens magnifications of prior-drawn events: fast to make,
// readable by io::DatasetReader like a simulated one).
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/fs.hpp"
#include "io/dataset.hpp"
#include "io/prior_fields.hpp"
#include "pipeline/trainer.hpp"
#include "pipeline/training_data.hpp"
#include "sim/priors.hpp"

namespace lensflow::testing {

struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline std::string app_path(const std::string& name) {
  return std::string(LENSFLOW_BINARY_DIR) + "/apps/lensflow-" + name;
}

inline bool app_exists(const std::string& name) { return ::access(app_path(name).c_str(), X_OK) == 0; }

// Runs a shell command line, stderr joined to stdout.
inline RunResult run_command(const std::string& cmd) {
  RunResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline RunResult run_app(const std::string& name, const std::string& args) {
  return run_command(app_path(name) + " " + args);
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

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Names in a directory that are temporary files of core/atomic_file ("*.tmp-*").
inline std::vector<std::string> temp_files_in(const std::string& dir) {
  std::vector<std::string> out;
  FILE* p = ::popen(("ls -a '" + dir + "' 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string n(buf);
    if (!n.empty() && n.back() == '\n') n.pop_back();
    if (n.find(".tmp-") != std::string::npos) out.push_back(n);
  }
  ::pclose(p);
  return out;
}

// The temporary-file name a killed writer of `file_name` (process `pid`, this host) would have left:
// "<file_name>.tmp-<host>-<pid>-<16 hex>" (core/atomic_file.hpp; the host keeps [A-Za-z0-9._]).
inline std::string stale_temp_name(const std::string& file_name, long pid) {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  std::string host;
  for (const char* p = buf; *p; ++p)
    if (std::isalnum(static_cast<unsigned char>(*p)) || *p == '.' || *p == '_') host += *p;
  return file_name + ".tmp-" + (host.empty() ? "host" : host) + "-" + std::to_string(pid) + "-0123456789abcdef";
}

// The pid of a process that has exited (no process has it, barring reuse).
inline long dead_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}

// A 2 MB tmpfs at `dir` for full-disk tests (root only; false when it cannot be mounted), and its
// removal.
inline bool mount_small_disk(const std::string& dir, const std::string& size = "2m") {
  if (::geteuid() != 0) return false;
  return std::system(("mkdir -p '" + dir + "' && mount -t tmpfs -o size=" + size + " tmpfs '" + dir +
                      "' 2>/dev/null").c_str()) == 0;
}
inline void unmount_small_disk(const std::string& dir) {
  std::system(("umount '" + dir + "' 2>/dev/null; rmdir '" + dir + "' 2>/dev/null").c_str());
}

// Overwrites element 0 of the first dataset under `group` of an HDF5 file with NaN (a diverged
// checkpoint); returns the dataset's name ("" on failure).
inline std::string poison_first_dataset(const std::string& path, const std::string& group) {
  std::string name;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return name;
  const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
  char buf[512] = {0};
  if (g >= 0 && H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, 0, buf, sizeof buf, H5P_DEFAULT) > 0) {
    const hid_t d = H5Dopen2(g, buf, H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    std::vector<float> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0) {
      v[0] = NAN;
      if (H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0) name = group + "/" + buf;
    }
    H5Sclose(space);
    H5Dclose(d);
  }
  if (g >= 0) H5Gclose(g);
  H5Fclose(f);
  return name;
}

// A one-shard dataset of n events (prior draws of `seed`, Paczyński magnifications on the
// 14,400-point grid with t0 = 72 d) in dir/shard_00000_of_00001.h5.
inline void write_tiny_dataset(const std::string& dir, int n, uint64_t seed) {
  const sim::PriorBox prior;
  io::DatasetSettings s;
  s.prior = io::prior_to_attr(prior);
  s.seed = seed;
  s.n_events = uint64_t(n);
  s.events_per_shard = uint64_t(n);
  s.num_shards = 1;
  s.lensflow_version = "test";
  io::ShardData d;
  d.n_drawn = uint64_t(n);
  for (int i = 0; i < n; ++i) {
    const sim::PriorDraw e = sim::sample_event(prior, seed, uint64_t(i));
    d.theta_raw.insert(d.theta_raw.end(), {e.s, e.q, e.alpha_deg, e.u0, 72.0, e.tE, e.rho});
    for (uint64_t j = 0; j < s.n_t; ++j) {
      const double tau = (double(j) * s.dt - 72.0) / e.tE, u = std::sqrt(tau * tau + e.u0 * e.u0);
      d.mag.push_back(float((u * u + 2.0) / (u * std::sqrt(u * u + 4.0))));
    }
    d.chi2_dof.push_back(2.0);
    d.all_chi2_dof.push_back(2.0);
    d.event_index.push_back(i);
  }
  core::make_dirs(dir);
  io::write_shard(dir + "/" + io::shard_file_name(0, 1), s, d);
}

}  // namespace lensflow::testing
