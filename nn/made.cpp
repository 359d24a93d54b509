#include "nn/made.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

std::vector<int64_t> random_degrees(int64_t dim, ad::Generator& gen) {
  std::vector<int64_t> deg = ad::randperm(dim, gen);
  for (auto& d : deg) d += 1;
  return deg;
}

namespace {
// mask[o * n_in + i] = 1 when unit o may see unit i.
std::vector<float> make_mask(const std::vector<int64_t>& out_deg, const std::vector<int64_t>& in_deg,
                             bool strict) {
  std::vector<float> m(out_deg.size() * in_deg.size());
  for (size_t o = 0; o < out_deg.size(); ++o)
    for (size_t i = 0; i < in_deg.size(); ++i)
      m[o * in_deg.size() + i] = (strict ? out_deg[o] > in_deg[i] : out_deg[o] >= in_deg[i]) ? 1.f : 0.f;
  return m;
}
}  // namespace

MADE::MADE(const MadeSizes& s, const std::vector<int64_t>& degrees, ad::Generator& gen,
           double final_scale)
    : sizes_(s), degrees_(degrees) {
  if (s.dim <= 0 || s.context < 0 || s.hidden <= 0 || s.n_hidden < 1 || s.outputs_per_dim <= 0)
    throw std::invalid_argument("MADE: sizes must be positive (dim " + std::to_string(s.dim) +
                                ", context " + std::to_string(s.context) + ", hidden " +
                                std::to_string(s.hidden) + ", n_hidden " +
                                std::to_string(s.n_hidden) + ")");
  std::vector<int64_t> sorted = degrees;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t d = 0; d < s.dim; ++d)
    if (static_cast<int64_t>(sorted.size()) != s.dim || sorted[d] != d + 1)
      throw std::invalid_argument("MADE: degrees must be a permutation of 1.." +
                                  std::to_string(s.dim));

  std::vector<int64_t> hid_deg(s.hidden);
  for (int64_t j = 0; j < s.hidden; ++j) hid_deg[j] = j % s.dim;
  std::vector<int64_t> out_deg(s.dim * s.outputs_per_dim);
  for (int64_t d = 0; d < s.dim; ++d)
    for (int64_t p = 0; p < s.outputs_per_dim; ++p) out_deg[d * s.outputs_per_dim + p] = degrees[d];

  for (int64_t l = 0; l <= s.n_hidden; ++l) {
    const bool first = l == 0, last = l == s.n_hidden;
    const auto& in_deg = first ? degrees_ : hid_deg;
    const auto& o_deg = last ? out_deg : hid_deg;
    const int64_t n_in = first ? s.dim : s.hidden;
    const int64_t n_out = last ? s.dim * s.outputs_per_dim : s.hidden;
    layers_.push_back(std::make_unique<MaskedLinear>(make_mask(o_deg, in_deg, last), n_in, n_out,
                                                     gen, last ? 1.0 : kReluGain));
    register_module("l" + std::to_string(l), layers_.back().get());
  }
  layers_.back()->scale_weights(final_scale);
  if (s.context > 0) {
    context_ = std::make_unique<Linear>(s.context, s.hidden, gen, false, kReluGain);
    register_module("context", context_.get());
  }
}

ad::Tensor MADE::context_term(const ad::Tensor& h, int64_t batch) const {
  if (!context_) return ad::Tensor();
  if (!h.defined() || h.ndim() != 2 || h.dim(0) != batch || h.dim(1) != sizes_.context)
    throw std::invalid_argument("MADE: h must be [" + std::to_string(batch) + ", " +
                                std::to_string(sizes_.context) + "], got " +
                                (h.defined() ? ad::to_string(h.shape()) : "undefined"));
  return context_->forward(h);
}

ad::Tensor MADE::forward_with(const ad::Tensor& x, const ad::Tensor& ctx) const {
  if (x.ndim() != 2 || x.dim(1) != sizes_.dim)
    throw std::invalid_argument("MADE: x must be [B, " + std::to_string(sizes_.dim) + "], got " +
                                ad::to_string(x.shape()));
  ad::Tensor y = layers_[0]->forward(x);
  if (ctx.defined()) y = y + ctx;
  y = ad::relu(y);
  for (size_t l = 1; l + 1 < layers_.size(); ++l) y = ad::relu(layers_[l]->forward(y));
  return layers_.back()->forward(y).reshape({x.dim(0), sizes_.dim, sizes_.outputs_per_dim});
}

ad::Tensor MADE::forward(const ad::Tensor& x, const ad::Tensor& h) const {
  if (x.ndim() != 2 || x.dim(1) != sizes_.dim)
    throw std::invalid_argument("MADE: x must be [B, " + std::to_string(sizes_.dim) + "], got " +
                                ad::to_string(x.shape()));
  return forward_with(x, context_term(h, x.dim(0)));
}

}  // namespace lensflow::nn
