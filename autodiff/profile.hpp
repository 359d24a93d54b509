// autodiff/profile.hpp — per-op timers for profiling a training step (off by default).
//
// While enabled, every recorded op (one tape node) is charged the wall and process CPU time since
// the previous recorded op or mark(): its own forward work plus the untaped glue before it (bias
// broadcasts, allocations). backward() charges each node's backward closure, and the gradient
// sums where a tensor feeds several ops, separately. Entries are keyed by op name and the shapes
// of its inputs and output, so the layers of a network land in distinct rows.
// Process CPU time (all threads) is the figure to compare on a shared machine; wall time is what
// the step costs on an idle one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lensflow::ad::profile {

using Shapes = std::vector<std::vector<int64_t>>;

struct Entry {
  std::string op;            // tape node name ("conv1d", "layer_norm", ...; "grad accumulation")
  Shapes in;                 // shapes of the inputs ({} for an undefined one)
  std::vector<int64_t> out;  // shape of the output
  int64_t calls = 0;        // forward calls (backward calls counted in bwd_calls)
  int64_t bwd_calls = 0;
  double fwd_wall = 0, fwd_cpu = 0, bwd_wall = 0, bwd_cpu = 0;  // seconds
};

void set_enabled(bool on);
bool enabled();
// Starts a new forward interval: time before the next recorded op is not charged to it.
void mark();
void reset();
// Entries in first-recorded order.
std::vector<Entry> entries();

// Internal (autodiff/tape.cpp). entry_id finds or adds a row; charge_forward also charges it the
// time since the last charge or mark() and returns its id (kept on the node for the backward).
int entry_id(const char* op, const Shapes& in, const std::vector<int64_t>& out);
int charge_forward(const char* op, const Shapes& in, const std::vector<int64_t>& out);
void charge_backward(int id, double wall, double cpu);
double wall_now();
double cpu_now();

}  // namespace lensflow::ad::profile
