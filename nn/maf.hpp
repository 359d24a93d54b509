// nn/maf.hpp — one conditional MAF block (Papamakarios et al. 2017) with nbi's truncated scale:
//   density direction  z = (x - mu(x_<, h)) * exp(-a(x_<, h)),  log|det dz/dx| = -sum_d a_d,
//   a = clamp(raw, -clamp, clamp) (zero gradient outside, as nbi).
// The inverse (sampling) direction takes D passes: after pass k the dimensions of degree <= k
// are exact.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/made.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

class AffineBlock : public Module {
 public:
  AffineBlock(const MadeSizes& sizes, const std::vector<int64_t>& degrees, double clamp,
              ad::Generator& gen, double final_scale);
  // x[B, D], h[B, C] -> z[B, D]; adds -sum(a) per row to *logdet ([B]) when given.
  ad::Tensor forward(const ad::Tensor& x, const ad::Tensor& h, ad::Tensor* logdet) const;
  // z[B, D], h[B, C] -> x[B, D] with forward(x) == z.
  ad::Tensor inverse(const ad::Tensor& z, const ad::Tensor& h) const;
  const std::vector<int64_t>& degrees() const { return made_.degrees(); }

 private:
  // mu and clamped a from x and the block's projection of h (MADE::context_term).
  void shift_scale(const ad::Tensor& x, const ad::Tensor& ctx, ad::Tensor& mu, ad::Tensor& a) const;
  MADE made_;
  double clamp_;
};

}  // namespace lensflow::nn
