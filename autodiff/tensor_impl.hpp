// autodiff/tensor_impl.hpp — what a Tensor handle points to (internal).
#pragma once

#include <memory>

#include "autodiff/tensor.hpp"

namespace lensflow::ad {

// Owns one allocation from the host pool (64-byte aligned) or the device pool (kernels/).
struct Storage {
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::F32;
  Device device = Device::CPU;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;
  Tensor grad;
};

}  // namespace lensflow::ad
