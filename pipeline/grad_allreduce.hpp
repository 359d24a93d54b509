// pipeline/grad_allreduce.hpp — data-parallel training's one exchange per step (docs/mpi.md):
// every parameter's gradient summed over the ranks, in place, as one flat array (one collective
// per step, not one per tensor). On the GPU the array stays on the device with NCCL and is staged
// through the host otherwise. Parameters without a gradient are left out; which parameters have
// one depends on the model, not on the data, so it is the same on every rank.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"
#include "dist/comm.hpp"

namespace lensflow::pipeline {

// Collective: every rank calls it with the same parameters in the same order.
void allreduce_gradients(const std::vector<ad::Tensor>& params, const dist::Comm& comm);

}  // namespace lensflow::pipeline
