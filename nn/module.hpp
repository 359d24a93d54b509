// nn/module.hpp — base class for network modules: named parameters and buffers, device/dtype moves.
//
// A module registers pointers to its own Tensor members (parameters: trained leaves with
// requires_grad; buffers: constants such as MADE masks) and to its sub-modules. Names are joined
// with '.' ("flow.blocks.3.net.l0.weight"), the keys used by checkpoints. Modules hold pointers to
// their own members, so they are neither copyable nor movable: keep them as members or in
// std::vector<std::unique_ptr<...>>.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::nn {

using NamedTensors = std::vector<std::pair<std::string, ad::Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Depth-first, in registration order (a stable order: checkpoints and Adam state rely on it).
  NamedTensors named_parameters() const;
  std::vector<ad::Tensor> parameters() const;
  NamedTensors named_buffers() const;
  int64_t num_parameters() const;  // total scalar count

  // Moves (or converts) every parameter and buffer; parameters stay trainable leaves. Gradients
  // are dropped. Optimizer state made before a move must be re-created.
  void to(ad::Device device);
  void to(ad::DType dtype);
  ad::Device device() const { return device_; }
  ad::DType dtype() const { return dtype_; }

  // No layer of this project behaves differently in training; the flag is kept for callers.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();

 protected:
  // `t` must already hold its initial value; it becomes a leaf with requires_grad.
  void register_parameter(const std::string& name, ad::Tensor* t);
  void register_buffer(const std::string& name, ad::Tensor* t);
  void register_module(const std::string& name, Module* m);

 private:
  void collect(const std::string& prefix, NamedTensors& out, bool params) const;
  template <class F> void for_each_module(F&& f);

  std::vector<std::pair<std::string, ad::Tensor*>> params_, buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  ad::Device device_ = ad::Device::CPU;
  ad::DType dtype_ = ad::DType::F32;
  bool training_ = true;
};

}  // namespace lensflow::nn
