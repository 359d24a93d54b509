#include "nn/module.hpp"

#include <stdexcept>

namespace lensflow::nn {

void Module::register_parameter(const std::string& name, ad::Tensor* t) {
  if (!t || !t->defined()) throw std::invalid_argument("Module: parameter '" + name + "' is undefined");
  t->set_requires_grad(true);
  params_.emplace_back(name, t);
  device_ = t->device();
  dtype_ = t->dtype();
}

void Module::register_buffer(const std::string& name, ad::Tensor* t) {
  if (!t || !t->defined()) throw std::invalid_argument("Module: buffer '" + name + "' is undefined");
  buffers_.emplace_back(name, t);
}

void Module::register_module(const std::string& name, Module* m) {
  if (!m) throw std::invalid_argument("Module: sub-module '" + name + "' is null");
  children_.emplace_back(name, m);
}

void Module::collect(const std::string& prefix, NamedTensors& out, bool params) const {
  for (const auto& [name, t] : params ? params_ : buffers_) out.emplace_back(prefix + name, *t);
  for (const auto& [name, m] : children_) m->collect(prefix + name + ".", out, params);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", out, true);
  return out;
}

std::vector<ad::Tensor> Module::parameters() const {
  std::vector<ad::Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", out, false);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

template <class F> void Module::for_each_module(F&& f) {
  f(*this);
  for (auto& [name, m] : children_) m->for_each_module(f);
}

void Module::to(ad::Device device) {
  for_each_module([device](Module& m) {
    for (auto& [name, t] : m.params_) {
      *t = t->detach().to(device);
      t->set_requires_grad(true);
    }
    for (auto& [name, t] : m.buffers_) *t = t->to(device);
    m.device_ = device;
  });
}

void Module::to(ad::DType dtype) {
  for_each_module([dtype](Module& m) {
    for (auto& [name, t] : m.params_) {
      *t = t->detach().to(dtype);
      t->set_requires_grad(true);
    }
    // Buffers keep integer-like meaning (masks 0/1) but must match the parameters' dtype.
    for (auto& [name, t] : m.buffers_) *t = t->to(dtype);
    m.dtype_ = dtype;
  });
}

void Module::train(bool on) {
  for_each_module([on](Module& m) { m.training_ = on; });
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

}  // namespace lensflow::nn
