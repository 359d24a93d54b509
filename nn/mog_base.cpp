#include "nn/mog_base.hpp"

#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

namespace {
MadeSizes mog_sizes(MadeSizes s, int64_t k) {
  if (k <= 0) throw std::invalid_argument("MoGBase: components must be positive, got " + std::to_string(k));
  s.outputs_per_dim = 3 * k;  // (logits, mu, log_sigma) x K per dimension
  return s;
}
}  // namespace

MoGBase::MoGBase(const MadeSizes& sizes, int64_t components, const std::vector<int64_t>& degrees,
                 ad::Generator& gen, double final_scale)
    : made_(mog_sizes(sizes, components), degrees, gen, final_scale), k_(components) {
  register_module("made", &made_);
  // Output bias layout: unit d*3K + p; p in [K, 2K) are the means. Spread them evenly over
  // [-1, 1] (identical in every dimension) so the components are distinct at the start.
  const std::string out_bias = "l" + std::to_string(sizes.n_hidden) + ".bias";
  ad::Tensor bias;
  for (const auto& [name, t] : made_.named_parameters())
    if (name == out_bias) bias = t;  // the output layer's bias, [D * 3K]
  std::vector<float> b(static_cast<size_t>(bias.numel()), 0.f);
  for (int64_t d = 0; d < sizes.dim; ++d)
    for (int64_t k = 0; k < k_; ++k)
      b[d * 3 * k_ + k_ + k] = k_ > 1 ? static_cast<float>(-1.0 + 2.0 * k / (k_ - 1)) : 0.f;
  ad::NoGradGuard ng;
  bias.copy_(ad::Tensor::from_vector(b, bias.shape()));
}

void MoGBase::split(const ad::Tensor& out, ad::Tensor& logits, ad::Tensor& mu,
                    ad::Tensor& log_sigma) const {
  logits = ad::slice(out, 2, 0, k_);
  mu = ad::slice(out, 2, k_, 2 * k_);
  log_sigma = ad::slice(out, 2, 2 * k_, 3 * k_);
}

void MoGBase::mixture(const ad::Tensor& z, const ad::Tensor& h, ad::Tensor& logits,
                      ad::Tensor& mu, ad::Tensor& log_sigma) const {
  split(made_.forward(z, h), logits, mu, log_sigma);
}

ad::Tensor MoGBase::log_prob(const ad::Tensor& z, const ad::Tensor& h) const {
  ad::Tensor logits, mu, log_sigma;
  mixture(z, h, logits, mu, log_sigma);
  return ad::sum(ad::mog_logpdf(z, logits, mu, log_sigma), 1);
}

ad::Tensor MoGBase::sample(const ad::Tensor& h, const ad::Tensor& eps, const ad::Tensor& u) const {
  const int64_t B = eps.dim(0), D = made_.sizes().dim;
  if (eps.shape() != ad::Shape{B, D} || u.shape() != ad::Shape{B, D})
    throw std::invalid_argument("MoGBase::sample: eps and u must both be [B, " +
                                std::to_string(D) + "], got " + ad::to_string(eps.shape()) +
                                " and " + ad::to_string(u.shape()));
  ad::NoGradGuard ng;
  const ad::DType dt = eps.dtype();
  const ad::Device dev = eps.device();
  // upper[j, k] = 1 for j <= k: probs x upper = cumulative weights. The last CDF entry gets +1 so
  // that rounding (CDF slightly below 1) never leaves a draw without a component.
  std::vector<double> up(k_ * k_, 0.0), last(k_, 0.0);
  for (int64_t j = 0; j < k_; ++j)
    for (int64_t k = j; k < k_; ++k) up[j * k_ + k] = 1.0;
  last[k_ - 1] = 1.0;
  ad::Tensor upper = ad::Tensor::from_vector(up, {k_, k_}).to(dt).to(dev);
  ad::Tensor bump = ad::Tensor::from_vector(last, {k_}).to(dt).to(dev);
  ad::Tensor u3 = ad::unsqueeze(u, 2);  // [B, D, 1]

  ad::Tensor z = eps;
  ad::Tensor logits, mu, log_sigma;
  const ad::Tensor ctx = made_.context_term(h, B);  // h is fixed over the D passes
  for (int64_t pass = 0; pass < D; ++pass) {
    split(made_.forward_with(z, ctx), logits, mu, log_sigma);
    if (k_ == 1) {
      z = ad::squeeze(mu, 2) + ad::exp(ad::squeeze(log_sigma, 2)) * eps;
      continue;
    }
    ad::Tensor cdf = ad::matmul(ad::softmax(logits, 2), upper) + bump;  // [B, D, K]
    // step(cdf_k - u): 1 where u < cdf_k (the scale turns any positive gap into >= 1).
    ad::Tensor below = ad::clamp((cdf - u3) * 1e30, 0.0, 1.0);
    ad::Tensor shifted = ad::concat({ad::Tensor::zeros({B, D, 1}, dt, dev),
                                     ad::slice(below, 2, 0, k_ - 1)}, 2);
    ad::Tensor onehot = below - shifted;  // first k with u < cdf_k
    ad::Tensor m = ad::sum(onehot * mu, 2);
    ad::Tensor ls = ad::sum(onehot * log_sigma, 2);
    z = m + ad::exp(ls) * eps;
  }
  return z;
}

}  // namespace lensflow::nn
