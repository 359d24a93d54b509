// nn/grad_clip.hpp — global gradient-norm clipping (as torch.nn.utils.clip_grad_norm_).
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::nn {

// L2 norm of all gradients taken together (parameters without a gradient count as zero).
double grad_norm(const std::vector<ad::Tensor>& params);

// The factor clipping applies to every gradient: max_norm / (norm + 1e-6) when the global norm
// exceeds max_norm, else 1 (also for a non-finite norm: the caller should skip that step).
// Training passes it to Adam::step, which scales in its own pass.
double clip_factor(double norm, double max_norm);

// Scales every gradient by clip_factor(norm, max_norm) and returns the norm before clipping. A
// non-finite norm (NaN/Inf in a gradient) is returned unchanged with the gradients untouched.
double clip_grad_norm(const std::vector<ad::Tensor>& params, double max_norm);

}  // namespace lensflow::nn
