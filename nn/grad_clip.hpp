// nn/grad_clip.hpp — global gradient-norm clipping (as torch.nn.utils.clip_grad_norm_).
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::nn {

// L2 norm of all gradients taken together (parameters without a gradient count as zero).
double grad_norm(const std::vector<ad::Tensor>& params);

// Scales every gradient by max_norm / (norm + 1e-6) when the global norm exceeds max_norm, and
// returns the norm before clipping. A non-finite norm (NaN/Inf in a gradient) is returned
// unchanged with the gradients untouched: the caller should skip that optimizer step.
double clip_grad_norm(const std::vector<ad::Tensor>& params, double max_norm);

}  // namespace lensflow::nn
