#include "nn/maf.hpp"

#include <stdexcept>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

namespace {
MadeSizes affine_sizes(MadeSizes s) {
  s.outputs_per_dim = 2;  // (mu, raw log-scale) per dimension
  return s;
}
}  // namespace

AffineBlock::AffineBlock(const MadeSizes& sizes, const std::vector<int64_t>& degrees,
                         double clamp, ad::Generator& gen, double final_scale)
    : made_(affine_sizes(sizes), degrees, gen, final_scale), clamp_(clamp) {
  if (!(clamp > 0)) throw std::invalid_argument("AffineBlock: clamp must be positive");
  register_module("made", &made_);
}

void AffineBlock::shift_scale(const ad::Tensor& x, const ad::Tensor& ctx, ad::Tensor& mu,
                              ad::Tensor& a) const {
  ad::Tensor out = made_.forward_with(x, ctx);  // [B, D, 2]
  mu = ad::squeeze(ad::slice(out, 2, 0, 1), 2);
  a = ad::clamp(ad::squeeze(ad::slice(out, 2, 1, 2), 2), -clamp_, clamp_);
}

ad::Tensor AffineBlock::forward(const ad::Tensor& x, const ad::Tensor& h,
                                ad::Tensor* logdet) const {
  ad::Tensor mu, a;
  shift_scale(x, made_.context_term(h, x.dim(0)), mu, a);
  if (logdet) *logdet = *logdet - ad::sum(a, 1);
  return (x - mu) * ad::exp(-a);
}

ad::Tensor AffineBlock::inverse(const ad::Tensor& z, const ad::Tensor& h) const {
  ad::Tensor x = z;
  ad::Tensor mu, a;
  const ad::Tensor ctx = made_.context_term(h, z.dim(0));
  for (int64_t pass = 0; pass < made_.sizes().dim; ++pass) {
    shift_scale(x, ctx, mu, a);
    x = z * ad::exp(a) + mu;
  }
  return x;
}

}  // namespace lensflow::nn
