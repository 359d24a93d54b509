// autodiff/profile.cpp — the per-op timer table behind autodiff/profile.hpp.
#include "autodiff/profile.hpp"

#include <time.h>

#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

namespace lensflow::ad::profile {
namespace {

struct State {
  std::mutex m;
  std::atomic<bool> on{false};  // read on every record(): no lock
  double last_wall = 0, last_cpu = 0;
  std::vector<Entry> table;
  std::map<std::tuple<std::string, Shapes, std::vector<int64_t>>, int> index;
};
State& state() {
  static State s;
  return s;
}
double clock_s(clockid_t id) {
  timespec t{};
  clock_gettime(id, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

double wall_now() { return clock_s(CLOCK_MONOTONIC); }
double cpu_now() { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

void set_enabled(bool on) {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  s.on = on;
  s.last_wall = wall_now();
  s.last_cpu = cpu_now();
}
bool enabled() { return state().on.load(std::memory_order_relaxed); }
void mark() {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  s.last_wall = wall_now();
  s.last_cpu = cpu_now();
}
void reset() {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  s.table.clear();
  s.index.clear();
}
std::vector<Entry> entries() {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  return s.table;
}

namespace {
int find_or_add(State& s, const char* op, const Shapes& in, const std::vector<int64_t>& out) {
  auto [it, fresh] = s.index.try_emplace({op, in, out}, int(s.table.size()));
  if (fresh) s.table.push_back(Entry{op, in, out});
  return it->second;
}
}  // namespace

int entry_id(const char* op, const Shapes& in, const std::vector<int64_t>& out) {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  return find_or_add(s, op, in, out);
}

int charge_forward(const char* op, const Shapes& in, const std::vector<int64_t>& out) {
  const double w = wall_now(), c = cpu_now();
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  const int id = find_or_add(s, op, in, out);
  Entry& e = s.table[size_t(id)];
  ++e.calls;
  e.fwd_wall += w - s.last_wall;
  e.fwd_cpu += c - s.last_cpu;
  // The clock reads are charged to the next op, not to this one.
  s.last_wall = wall_now();
  s.last_cpu = cpu_now();
  return id;
}

void charge_backward(int id, double wall, double cpu) {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.m);
  if (id < 0 || size_t(id) >= s.table.size()) return;  // reset() since the forward
  Entry& e = s.table[size_t(id)];
  ++e.bwd_calls;
  e.bwd_wall += wall;
  e.bwd_cpu += cpu;
}

}  // namespace lensflow::ad::profile
