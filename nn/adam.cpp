#include "nn/adam.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

Adam::Adam(std::vector<ad::Tensor> params, AdamOptions opt) : params_(std::move(params)), opt_(opt) {
  if (!(opt.lr >= 0) || !(opt.beta1 >= 0 && opt.beta1 < 1) || !(opt.beta2 >= 0 && opt.beta2 < 1) ||
      !(opt.eps > 0) || !(opt.weight_decay >= 0))
    throw std::invalid_argument("Adam: need lr >= 0, betas in [0, 1), eps > 0, weight_decay >= 0");
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    if (!p.defined() || !p.requires_grad())
      throw std::invalid_argument("Adam: parameter " + std::to_string(i) +
                                  " is undefined or does not require grad");
    m_.push_back(ad::Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(ad::Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
}

void Adam::step(double grad_scale) {
  ad::NoGradGuard ng;
  ++step_;
  const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(step_));
  const double step_size = opt_.lr / bc1;
  const double inv_sqrt_bc2 = 1.0 / std::sqrt(bc2);
  for (size_t i = 0; i < params_.size(); ++i) {
    const ad::Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    // One fused pass (kernels/adam.hpp) instead of nine tensor ops and their temporaries.
    ad::adam_update(params_[i], g, m_[i], v_[i], opt_.beta1, opt_.beta2, opt_.eps,
                    opt_.weight_decay, step_size, inv_sqrt_bc2, grad_scale);
  }
}

void Adam::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

void Adam::load_state(int64_t step, const AdamOptions& opt, const std::vector<ad::Tensor>& m,
                      const std::vector<ad::Tensor>& v) {
  if (step < 0) throw std::invalid_argument("Adam::load_state: negative step");
  if (m.size() != params_.size() || v.size() != params_.size())
    throw std::invalid_argument("Adam::load_state: " + std::to_string(m.size()) + " moments for " +
                                std::to_string(params_.size()) + " parameters");
  for (size_t i = 0; i < params_.size(); ++i)
    if (m[i].shape() != params_[i].shape() || v[i].shape() != params_[i].shape())
      throw std::invalid_argument("Adam::load_state: moment " + std::to_string(i) + " has shape " +
                                  ad::to_string(m[i].shape()) + ", parameter has " +
                                  ad::to_string(params_[i].shape()));
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i].copy_(m[i].to(params_[i].dtype()).to(params_[i].device()));
    v_[i].copy_(v[i].to(params_[i].dtype()).to(params_[i].device()));
  }
  step_ = step;
  opt_ = opt;
}

}  // namespace lensflow::nn
