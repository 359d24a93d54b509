// bench/nn/step_profile.hpp — prints the per-op profile of training steps (autodiff/profile.hpp)
// with each row's FLOPs and compulsory bytes (inputs read once, output written once, at 4 bytes an
// element) and its floor max(FLOPs / sgemm rate, bytes / bandwidth) at the rates passed (one
// core's: the floor is then in CPU time, like the CPU columns).
// Header-only: bench/CMakeLists.txt turns every bench/**/*.cpp into its own executable.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "autodiff/profile.hpp"

namespace lensflow::bench_util {

struct OpCost {
  double fwd_flop = 0, bwd_flop = 0, fwd_bytes = 0, bwd_bytes = 0;
};

inline double numel(const std::vector<int64_t>& s) {
  double n = 1;
  for (int64_t d : s) n *= double(d);
  return s.empty() ? 0.0 : n;
}

// FLOPs of the arithmetic that matters (multiply-adds count 2) and compulsory traffic. Backward
// bytes: the saved inputs and the output gradient read, the input gradients written.
inline OpCost op_cost(const ad::profile::Entry& e) {
  OpCost c;
  double in_elems = 0;
  for (const auto& s : e.in) in_elems += numel(s);
  const double out = numel(e.out);
  c.fwd_bytes = 4.0 * (in_elems + out);
  c.bwd_bytes = 4.0 * (2.0 * in_elems + out);
  if ((e.op == "conv1d" || e.op == "conv1d_ln") && e.in.size() >= 2 && e.in[1].size() == 3) {
    // the input gradient is skipped for the first layer (its input needs none)
    const double k = double(e.in[1][0]), cin = double(e.in[1][1]);
    c.fwd_flop = 2.0 * out * k * cin;
    c.bwd_flop = (cin > 1 ? 2.0 : 1.0) * c.fwd_flop + out;
    if (e.op == "conv1d_ln") {  // + norm, residual, ReLU: z and y written, z and y read back
      c.fwd_flop += 9.0 * out;
      c.bwd_flop += 14.0 * out;
      c.fwd_bytes += 4.0 * out;
      c.bwd_bytes += 4.0 * out;
    }
  } else if ((e.op == "linear" || e.op == "matmul") && e.in.size() >= 2 && e.in[1].size() == 2) {
    const double inner = e.op == "linear" ? double(e.in[1][1]) : double(e.in[1][0]);
    c.fwd_flop = 2.0 * out * inner;
    c.bwd_flop = 2.0 * c.fwd_flop;
  } else if (e.op == "gru" && e.in.size() >= 4 && !e.in[0].empty()) {
    const double rows = numel(e.out) / double(e.out.back()), h = double(e.out.back());
    const double in = double(e.in[0].back());
    c.fwd_flop = 2.0 * rows * 3.0 * h * (in + h) + 20.0 * rows * h;
    c.bwd_flop = 2.0 * c.fwd_flop;
  } else if (e.op == "layer_norm") {
    c.fwd_flop = 7.0 * out;
    c.bwd_flop = 12.0 * out;
    c.fwd_bytes = 4.0 * 2.0 * out;  // gamma, beta negligible
    c.bwd_bytes = 4.0 * 3.0 * out;
  } else {
    c.fwd_flop = out;
    c.bwd_flop = in_elems;
  }
  return c;
}

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// Prints the table for `steps` profiled steps (per-step figures) and returns the summed floor
// (ms per step) of the tape's ops.
inline double print_step_profile(const std::vector<ad::profile::Entry>& rows, int64_t steps,
                                 double gflops, double gbs) {
  std::printf(
      "| op | input -> output | calls | fwd ms | bwd ms | fwd cpu ms | bwd cpu ms | MFLOP | MB | "
      "floor cpu ms |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  double floor_total = 0;
  for (const auto& e : rows) {
    const double n = double(steps);
    const OpCost c = op_cost(e);
    const double calls = double(e.calls) / n;
    const double flop = (c.fwd_flop + c.bwd_flop) * calls, bytes = (c.fwd_bytes + c.bwd_bytes) * calls;
    const double floor_ms = e.op == "grad accumulation"
                                ? 0.0
                                : 1e3 * std::max(flop / (gflops * 1e9), bytes / (gbs * 1e9));
    floor_total += floor_ms;
    std::string io = e.in.empty() ? "" : shape_str(e.in[0]);
    for (size_t i = 1; i < e.in.size(); ++i) io += " " + shape_str(e.in[i]);
    io += " -> " + shape_str(e.out);
    std::printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f |\n", e.op.c_str(),
                io.c_str(), calls, 1e3 * e.fwd_wall / n, 1e3 * e.bwd_wall / n, 1e3 * e.fwd_cpu / n,
                1e3 * e.bwd_cpu / n, flop * 1e-6, bytes * 1e-6, floor_ms);
  }
  return floor_total;
}

// The same rows grouped by stage: each residual block's convolutions, norms, ReLUs and residual
// adds (by output length and channels; blocks of equal shape share a line), the max-pools, the
// GRU, the flow and head (every other op), the gradient sums. Per step, CPU ms.
inline void print_stage_summary(const std::vector<ad::profile::Entry>& rows, int64_t steps,
                                double gflops, double gbs) {
  struct Stage {
    std::string name;
    double fwd = 0, bwd = 0, flop = 0, bytes = 0;
  };
  std::vector<Stage> stages;
  auto stage = [&](const std::string& name) -> Stage& {
    for (Stage& st : stages)
      if (st.name == name) return st;
    stages.push_back({name});
    return stages.back();
  };
  const double n = double(steps);
  for (const auto& e : rows) {
    const bool seq = e.out.size() == 3 && e.out[1] > 1;
    std::string name;
    if (e.op == "grad accumulation") name = "gradient sums (tensors feeding several ops)";
    else if (e.op == "maxpool2") name = "max-pools";
    else if (e.op == "gru") name = "GRU";
    else if (seq && (e.op == "conv1d" || e.op == "conv1d_ln" || e.op == "layer_norm" ||
                     e.op == "relu" || e.op == "add"))
      name = "res block L=" + std::to_string(e.out[1]) + " C=" + std::to_string(e.out[2]);
    else name = "flow + head (all other ops)";
    Stage& st = stage(name);
    const OpCost c = op_cost(e);
    const double calls = double(e.calls) / n;
    st.fwd += 1e3 * e.fwd_cpu / n;
    st.bwd += 1e3 * e.bwd_cpu / n;
    if (e.op != "grad accumulation") {
      st.flop += (c.fwd_flop + c.bwd_flop) * calls;
      st.bytes += (c.fwd_bytes + c.bwd_bytes) * calls;
    }
  }
  std::printf("\n| stage | fwd cpu ms | bwd cpu ms | MFLOP | MB | floor cpu ms |\n"
              "|---|---:|---:|---:|---:|---:|\n");
  for (const Stage& st : stages)
    std::printf("| %s | %.2f | %.2f | %.0f | %.0f | %.2f |\n", st.name.c_str(), st.fwd, st.bwd,
                st.flop * 1e-6, st.bytes * 1e-6,
                1e3 * std::max(st.flop / (gflops * 1e9), st.bytes / (gbs * 1e9)));
}

}  // namespace lensflow::bench_util
