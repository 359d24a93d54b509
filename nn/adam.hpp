// nn/adam.hpp — Adam (Kingma & Ba 2015) with PyTorch's conventions: bias-corrected moments, eps
// added to sqrt(v_hat), optional L2 weight decay added to the gradient (torch.optim.Adam's
// weight_decay). Updates run as tensor ops on the parameters' device, without autograd.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class Adam {
 public:
  // `params` are the model's trainable leaves (Module::parameters()); the order is the state's.
  explicit Adam(std::vector<ad::Tensor> params, AdamOptions opt = {});

  // One update from the current .grad() of every parameter, times grad_scale (gradient clipping:
  // nn/grad_clip.hpp's clip_factor, applied in the update's own pass). A parameter without a
  // gradient (unused in the loss) is left unchanged and its moments untouched; step_count() still
  // advances.
  void step(double grad_scale = 1.0);
  void zero_grad();  // drops every parameter's gradient

  void set_lr(double lr) { opt_.lr = lr; }
  double lr() const { return opt_.lr; }
  const AdamOptions& options() const { return opt_; }
  int64_t step_count() const { return step_; }
  const std::vector<ad::Tensor>& params() const { return params_; }

  // Moments (same order and shapes as params), for checkpoints.
  const std::vector<ad::Tensor>& first_moments() const { return m_; }
  const std::vector<ad::Tensor>& second_moments() const { return v_; }
  // Restores a saved state; shapes must match the parameters (std::invalid_argument otherwise).
  void load_state(int64_t step, const AdamOptions& opt, const std::vector<ad::Tensor>& m,
                  const std::vector<ad::Tensor>& v);

 private:
  std::vector<ad::Tensor> params_, m_, v_;
  AdamOptions opt_;
  int64_t step_ = 0;
};

}  // namespace lensflow::nn
