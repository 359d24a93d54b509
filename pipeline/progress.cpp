// pipeline/progress.cpp — progress bar / periodic progress lines (see pipeline/progress.hpp).
#include "pipeline/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace lensflow::pipeline {

namespace {
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

Progress::Progress(std::string label, std::uint64_t total, std::string unit, std::ostream* out, Mode mode,
                   double redraw_s, double line_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), out_(out ? out : &std::cerr), mode_(mode),
      redraw_s_(redraw_s), line_s_(line_s), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (mode_ == Mode::automatic) {
    const bool to_stderr = out_ == &std::cerr || out_ == &std::clog;
    mode_ = to_stderr && ::isatty(STDERR_FILENO) ? Mode::terminal : Mode::lines;
  }
}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (mode_ == Mode::terminal && drawn_ && !finished_) *out_ << "\n" << std::flush;
}

void Progress::set_baseline(std::uint64_t done_before) {
  std::lock_guard<std::mutex> lock(mutex_);
  baseline_ = done_before;
  done_ = std::max(done_, done_before);
}

void Progress::update(std::uint64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = std::min(done, total_);
  const auto now = std::chrono::steady_clock::now();
  const double since = seconds_between(last_draw_, now);
  if ((mode_ == Mode::terminal && (since >= redraw_s_ || done_ == total_)) || (mode_ == Mode::lines && since >= line_s_)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::add(std::uint64_t n) {
  std::uint64_t d;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    d = done_ + n;
  }
  update(d);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (mode_ == Mode::quiet) return;
  draw(true);
}

double Progress::elapsed_s() const {
  return seconds_between(start_, std::chrono::steady_clock::now());
}

double Progress::rate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const double t = elapsed_s();
  return t > 0 ? double(done_ - std::min(done_, baseline_)) / t : 0.0;
}

std::uint64_t Progress::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--";
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm%02ds", int(s / 3600), int(s / 60) % 60, int(s) % 60);
  }
  return buf;
}

void Progress::draw(bool final_line) {
  const double t = elapsed_s();
  const double new_done = double(done_ - std::min(done_, baseline_));
  const double r = t > 0 ? new_done / t : 0.0;
  const double frac = total_ ? double(done_) / double(total_) : 1.0;
  std::ostringstream os;
  os.setf(std::ios::fixed);
  if (final_line) {
    os.precision(1);
    os << label_ << ": " << done_ << "/" << total_ << " " << unit_ << " in " << format_duration(t) << " ("
       << r << " " << unit_ << "/s)";
  } else {
    os.precision(1);
    os << label_ << " ";
    if (mode_ == Mode::terminal) {
      const int width = 30, fill = int(frac * width);
      os << "[" << std::string(fill, '=') << (fill < width ? ">" : "") << std::string(std::max(0, width - fill - 1), ' ')
         << "] ";
    }
    const double eta = r > 0 ? double(total_ - done_) / r : NAN;
    os << 100.0 * frac << "% " << done_ << "/" << total_ << " " << unit_ << ", " << r << " " << unit_ << "/s, ETA "
       << format_duration(eta);
  }
  if (mode_ == Mode::terminal) {
    *out_ << "\r" << os.str() << "\033[K" << (final_line ? "\n" : "") << std::flush;
  } else {
    *out_ << os.str() << "\n" << std::flush;
  }
  drawn_ = true;
}

}  // namespace lensflow::pipeline
