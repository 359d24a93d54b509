#include "nn/grad_clip.hpp"

#include <cmath>
#include <stdexcept>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

double grad_norm(const std::vector<ad::Tensor>& params) {
  ad::NoGradGuard ng;
  ad::Tensor total;
  for (const auto& p : params) {
    ad::Tensor g = p.grad();
    if (!g.defined()) continue;
    ad::Tensor s = ad::sum_squares(g);  // one pass, no squared copy
    total = total.defined() ? total + s : s;
  }
  return total.defined() ? std::sqrt(total.item()) : 0.0;
}

double clip_factor(double norm, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be positive");
  if (!std::isfinite(norm) || norm <= max_norm) return 1.0;
  return max_norm / (norm + 1e-6);
}

double clip_grad_norm(const std::vector<ad::Tensor>& params, double max_norm) {
  const double norm = grad_norm(params);
  const double scale = clip_factor(norm, max_norm);
  if (scale == 1.0) return norm;
  ad::NoGradGuard ng;
  for (ad::Tensor p : params) {  // handles share the parameter's autograd state
    ad::Tensor g = p.grad();
    if (g.defined()) p.set_grad(g * scale);
  }
  return norm;
}

}  // namespace lensflow::nn
