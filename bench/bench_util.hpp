// bench/bench_util.hpp — small helpers shared by the bench_* programs: wall-clock timing loops,
// option values on the command line, and running a Python reference whose stdout is read back.
// Header-only on purpose: bench/CMakeLists.txt turns every bench/**/*.cpp into its own executable.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lensflow::bench_util {

// Seconds of wall time since t0.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best (minimum) of `repeat` wall times of f(), in seconds: the least disturbed run.
template <class F>
double best_time(int repeat, const F& f) {
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// Milliseconds of each call of f() after one warm-up call: at least 3 calls, then more until
// min_seconds have passed, at most max_calls. sync() runs after every call (device work must
// finish inside the timed region). The caller reduces the samples (minimum, median).
template <class F, class Sync>
std::vector<double> sample_ms(double min_seconds, std::size_t max_calls, const F& f, const Sync& sync) {
  f();  // warm-up (allocations, pools)
  sync();
  std::vector<double> ms;
  const auto start = std::chrono::steady_clock::now();
  while (ms.size() < 3 || seconds_since(start) < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    sync();
    ms.push_back(seconds_since(t0) * 1e3);
    if (ms.size() >= max_calls) break;
  }
  return ms;
}

// The value after option argv[i] (advancing i); exits with status 2 when it is missing.
inline const char* option_value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "missing value after %s\n", argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

// Directory of a source file (pass __FILE__): where a bench finds its Python reference scripts.
inline std::string dir_of(const std::string& file) { return file.substr(0, file.rfind('/')); }

// Number after "key": in a one-line JSON object (-1 when the key is absent).
inline double json_field(const std::string& text, const std::string& key) {
  const auto k = text.find("\"" + key + "\"");
  if (k == std::string::npos) return -1.0;
  return std::atof(text.c_str() + text.find(':', k) + 1);
}

// Runs `cmd > out_path` through the shell and returns what it printed (out_path is removed).
// On a nonzero exit prints "VBMicrolensing reference unavailable" with that output and returns "".
inline std::string run_reference(const std::string& cmd, const std::string& out_path) {
  const int rc = std::system((cmd + " > " + out_path).c_str());
  std::ifstream in(out_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(out_path.c_str());
  if (rc != 0) {
    std::printf("  VBMicrolensing reference unavailable: %s\n", text.c_str());
    return "";
  }
  return text;
}

}  // namespace lensflow::bench_util
