// autodiff/tape.cpp — recording nodes and the reverse sweep.
#include "autodiff/tape.hpp"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/ops.hpp"
#include "autodiff/profile.hpp"
#include "autodiff/tensor_impl.hpp"

namespace lensflow::ad {

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  if (!needs_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  if (profile::enabled()) {
    profile::Shapes in;
    for (const Tensor& t : node->inputs) in.push_back(t.defined() ? t.shape() : Shape{});
    node->profile_id = profile::charge_forward(name, in, out.shape());
  }
  out.set_grad_fn(std::move(node));
  return out;
}

namespace {

Tensor accumulate(const Tensor& old, const Tensor& g) { return old.defined() ? add(old, g) : g; }

// Nodes reachable from root, ordered so that every node comes before the nodes of its inputs.
// Owning pointers: releasing a finished node's inputs must not free nodes still to be visited.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> post;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.grad_fn()) {
        const std::shared_ptr<Node>& child = in.grad_fn();
        if (seen.insert(child.get()).second) stack.push_back({child, 0});
      }
    } else {
      post.push_back(node);
      stack.pop_back();
    }
  }
  return std::vector<std::shared_ptr<Node>>(post.rbegin(), post.rend());
}

}  // namespace

void backward(const Tensor& loss) {
  if (!loss.defined()) throw std::invalid_argument("backward: undefined loss");
  if (loss.numel() != 1)
    throw std::invalid_argument("backward: loss must have one element, got shape " +
                                to_string(loss.shape()));
  if (!loss.requires_grad())
    throw std::invalid_argument("backward: loss does not require grad (no recorded graph)");
  NoGradGuard no_grad;
  const Tensor seed = Tensor::full(loss.shape(), 1.0, loss.dtype(), loss.device());
  if (!loss.grad_fn()) {  // the loss is itself a leaf
    Tensor l = loss;
    l.set_grad(accumulate(l.grad(), seed));
    return;
  }
  std::unordered_map<Node*, Tensor> grads;
  if (!loss.grad_fn()->backward)
    throw std::invalid_argument(
        "backward: this loss's graph was released by an earlier backward() (one backward per "
        "forward)");
  const std::vector<std::shared_ptr<Node>> order = topological_order(loss.grad_fn());
  grads[order.front().get()] = seed;
  const bool profiling = profile::enabled();
  const int accumulation_id = profiling ? profile::entry_id("grad accumulation", {}, {}) : -1;
  for (const std::shared_ptr<Node>& node_ptr : order) {
    Node* node = node_ptr.get();
    auto it = grads.find(node);
    if (it == grads.end() || !node->backward) continue;
    const Tensor g = it->second;
    grads.erase(it);
    double w0 = 0, c0 = 0;
    if (profiling) w0 = profile::wall_now(), c0 = profile::cpu_now();
    std::vector<Tensor> in_grads = node->backward(g);
    if (profiling) {
      const double w1 = profile::wall_now(), c1 = profile::cpu_now();
      profile::charge_backward(node->profile_id, w1 - w0, c1 - c0);
      w0 = w1, c0 = c1;
    }
    if (in_grads.size() != node->inputs.size())
      throw std::logic_error("backward: op '" + node->name + "' returned " +
                             std::to_string(in_grads.size()) + " gradients for " +
                             std::to_string(node->inputs.size()) + " inputs");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      Tensor& in = node->inputs[i];
      if (!in.defined() || !in.requires_grad() || !in_grads[i].defined()) continue;
      if (in_grads[i].shape() != in.shape())
        throw std::logic_error("backward: op '" + node->name + "' gave gradient " +
                               to_string(in_grads[i].shape()) + " for input " +
                               to_string(in.shape()));
      if (in.grad_fn()) {
        Tensor& slot = grads[in.grad_fn().get()];
        slot = accumulate(slot, in_grads[i]);
      } else {
        in.set_grad(accumulate(in.grad(), in_grads[i]));
      }
    }
    if (profiling)
      profile::charge_backward(accumulation_id, profile::wall_now() - w0, profile::cpu_now() - c0);
    // Release the saved tensors as soon as this node is done.
    node->backward = nullptr;
    node->inputs.clear();
  }
}

}  // namespace lensflow::ad
