// pipeline/progress.hpp — a progress bar for long runs (simulate, train): % done, rate, ETA.
//
// On a terminal the bar is redrawn in place (carriage return) at most `redraw_s` apart; when the
// stream is not a terminal (a log file, a batch job) it prints one plain line every `line_s`
// seconds instead, so logs stay readable. finish() prints the final line with the total time.
// Thread-safe: update() may be called from worker threads.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>

namespace lensflow::pipeline {

class Progress {
 public:
  enum class Mode { automatic, terminal, lines, quiet };

  // total: the count at 100%; unit: what is counted ("events", "batches"). Mode::automatic picks
  // terminal when `out` is std::cerr/std::clog on a TTY, lines otherwise.
  Progress(std::string label, std::uint64_t total, std::string unit = "events", std::ostream* out = nullptr,
           Mode mode = Mode::automatic, double redraw_s = 0.2, double line_s = 30.0);
  ~Progress();  // finishes the line of an unfinished terminal bar
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t done);  // absolute count
  void add(std::uint64_t n);        // increment
  // Prints the final line ("label: done/total unit in T s (rate unit/s)") once.
  void finish();

  // Count per second since construction (or since the first update when starting mid-way, as a
  // resumed run does: set_baseline).
  double rate() const;
  double elapsed_s() const;
  std::uint64_t done() const;
  // Counts already done before this run (a resume): excluded from the rate and the ETA.
  void set_baseline(std::uint64_t done_before);

  // "1h02m03s", "4m05s", "7.2s".
  static std::string format_duration(double seconds);

 private:
  void draw(bool final_line);
  std::string label_, unit_;
  std::uint64_t total_, done_ = 0, baseline_ = 0;
  std::ostream* out_;
  Mode mode_;
  double redraw_s_, line_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false, drawn_ = false;
  mutable std::mutex mutex_;
};

}  // namespace lensflow::pipeline
