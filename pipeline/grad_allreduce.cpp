// pipeline/grad_allreduce.cpp — see grad_allreduce.hpp.
#include "pipeline/grad_allreduce.hpp"

#include "autodiff/ops.hpp"
#include "kernels/device.hpp"

namespace lensflow::pipeline {

void allreduce_gradients(const std::vector<ad::Tensor>& params, const dist::Comm& comm) {
  if (comm.size() == 1) return;
  ad::NoGradGuard no_grad;
  std::vector<ad::Tensor> grads, flat_grads;
  std::vector<size_t> owner;
  for (size_t i = 0; i < params.size(); ++i) {
    const ad::Tensor g = params[i].grad();
    if (!g.defined()) continue;
    grads.push_back(g);
    flat_grads.push_back(g.reshape({g.numel()}));
    owner.push_back(i);
  }
  if (grads.empty()) return;
  ad::Tensor flat = ad::concat(flat_grads, 0);
  const size_t n = size_t(flat.numel());
  if (flat.device() == ad::Device::CPU) {
    comm.allreduce_sum(flat.data<float>(), n);
  } else if (comm.device_allreduce()) {
    comm.allreduce_sum_device(flat.data<float>(), n, kernels::device_stream());
  } else {
    ad::Tensor host = flat.to(ad::Device::CPU);
    comm.allreduce_sum(host.data<float>(), n);
    flat = host.to(flat.device());
  }
  int64_t offset = 0;
  for (size_t k = 0; k < grads.size(); ++k) {
    const int64_t m = grads[k].numel();
    ad::Tensor p = params[owner[k]];  // a handle: shares the parameter
    p.set_grad(ad::slice(flat, 0, offset, offset + m).reshape(grads[k].shape()));
    offset += m;
  }
}

}  // namespace lensflow::pipeline
