// nn/mog_base.hpp — the flow's base density: an autoregressive mixture of Gaussians (nbi's
// MADE-MoG). A final MADE gives, for every dimension d, K mixture logits, means and log-scales
// that depend on h and on the dimensions of lower degree:
//   log p(z | h) = sum_d log sum_k softmax(logits_d)_k N(z_d; mu_dk, exp(log_sigma_dk)).
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/made.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

class MoGBase : public Module {
 public:
  // The mean biases start spread over [-1, 1] so the components differ from the first step.
  MoGBase(const MadeSizes& sizes, int64_t components, const std::vector<int64_t>& degrees,
          ad::Generator& gen, double final_scale);
  // z[B, D], h[B, C] -> log-density [B].
  ad::Tensor log_prob(const ad::Tensor& z, const ad::Tensor& h) const;
  // Mixture parameters, each [B, D, K].
  void mixture(const ad::Tensor& z, const ad::Tensor& h, ad::Tensor& logits, ad::Tensor& mu,
               ad::Tensor& log_sigma) const;
  // Draws z given standard normals eps[B, D] and uniforms u[B, D] (u picks the component of
  // dimension d by inverse CDF of its mixture weights). D passes, no autograd needed.
  ad::Tensor sample(const ad::Tensor& h, const ad::Tensor& eps, const ad::Tensor& u) const;
  const std::vector<int64_t>& degrees() const { return made_.degrees(); }
  int64_t components() const { return k_; }

 private:
  // MADE output [B, D, 3K] -> (logits, mu, log_sigma), each [B, D, K].
  void split(const ad::Tensor& out, ad::Tensor& logits, ad::Tensor& mu, ad::Tensor& log_sigma) const;
  MADE made_;
  int64_t k_;
};

}  // namespace lensflow::nn
