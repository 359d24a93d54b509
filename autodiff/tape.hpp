// autodiff/tape.hpp — the recorded graph (internal to the op implementations).
// Each op output owns one Node: its inputs and a closure mapping d loss / d output to
// d loss / d input for every input (undefined tensors for inputs that get no gradient).
// Closures must capture saved outputs detached (Tensor::detach) so the graph has no cycles.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::ad {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  std::string name;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  int profile_id = -1;  // row of autodiff/profile.hpp while profiling
};

// True when grad mode is on and some input requires grad (the op should then save what its
// backward needs and call record()).
bool needs_grad(const std::vector<Tensor>& inputs);
// Attaches a node to `out` when needs_grad(inputs); returns out.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);

}  // namespace lensflow::ad
