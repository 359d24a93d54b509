#include "nn/flow.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

namespace {
void check_field(bool ok, const char* field, const std::string& v, const char* why) {
  if (!ok) throw std::invalid_argument(std::string("FlowConfig.") + field + " = " + v + ": " + why);
}

// h[n_obs, C] -> [n_obs * n, C], row j repeated n times.
ad::Tensor repeat_rows(const ad::Tensor& h, int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(h.dim(0) * n));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i) / n;
  return ad::index_select(h, 0, idx);
}
}  // namespace

void FlowConfig::validate() const {
  check_field(dim > 0, "dim", std::to_string(dim), "must be positive");
  check_field(context >= 0, "context", std::to_string(context), "must be >= 0");
  check_field(n_blocks >= 0, "n_blocks", std::to_string(n_blocks), "must be >= 0");
  check_field(hidden > 0, "hidden", std::to_string(hidden), "must be positive");
  check_field(n_hidden >= 1, "n_hidden", std::to_string(n_hidden), "must be >= 1");
  check_field(components > 0, "components", std::to_string(components), "must be positive");
  check_field(clamp > 0 && std::isfinite(clamp), "clamp", std::to_string(clamp),
              "must be positive and finite");
  check_field(final_scale >= 0 && std::isfinite(final_scale), "final_scale",
              std::to_string(final_scale), "must be >= 0 and finite");
}

bool FlowConfig::operator==(const FlowConfig& o) const {
  return dim == o.dim && context == o.context && n_blocks == o.n_blocks && hidden == o.hidden &&
         n_hidden == o.n_hidden && components == o.components && clamp == o.clamp &&
         final_scale == o.final_scale && order_seed == o.order_seed;
}

ConditionalFlow::ConditionalFlow(const FlowConfig& cfg, ad::Generator& gen) : cfg_(cfg) {
  cfg_.validate();
  ad::Generator order_gen(cfg_.order_seed);
  const MadeSizes sizes{cfg_.dim, cfg_.context, cfg_.hidden, cfg_.n_hidden, 2};
  for (int64_t b = 0; b < cfg_.n_blocks; ++b) {
    blocks_.push_back(std::make_unique<AffineBlock>(
        sizes, random_degrees(cfg_.dim, order_gen), cfg_.clamp, gen, cfg_.final_scale));
    register_module("blocks." + std::to_string(b), blocks_.back().get());
  }
  base_ = std::make_unique<MoGBase>(sizes, cfg_.components, random_degrees(cfg_.dim, order_gen),
                                    gen, cfg_.final_scale);
  register_module("base", base_.get());
}

ad::Tensor ConditionalFlow::to_base(const ad::Tensor& theta, const ad::Tensor& h,
                                    ad::Tensor* logdet) const {
  if (theta.ndim() != 2 || theta.dim(1) != cfg_.dim)
    throw std::invalid_argument("ConditionalFlow: theta must be [B, " + std::to_string(cfg_.dim) +
                                "], got " + ad::to_string(theta.shape()));
  if (h.ndim() != 2 || h.dim(0) != theta.dim(0) || h.dim(1) != cfg_.context)
    throw std::invalid_argument("ConditionalFlow: h must be [" + std::to_string(theta.dim(0)) +
                                ", " + std::to_string(cfg_.context) + "], got " +
                                ad::to_string(h.shape()));
  ad::Tensor z = theta;
  if (logdet) *logdet = ad::Tensor::zeros({theta.dim(0)}, theta.dtype(), theta.device());
  for (const auto& b : blocks_) z = b->forward(z, h, logdet);
  return z;
}

ad::Tensor ConditionalFlow::log_prob(const ad::Tensor& theta, const ad::Tensor& h) const {
  ad::Tensor logdet;
  ad::Tensor z = to_base(theta, h, &logdet);
  return base_->log_prob(z, h) + logdet;
}

ad::Tensor ConditionalFlow::from_base(const ad::Tensor& z, const ad::Tensor& h) const {
  ad::Tensor x = z;
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) x = (*it)->inverse(x, h);
  return x;
}

ad::Tensor ConditionalFlow::sample(const ad::Tensor& h, int64_t n, ad::Generator& gen,
                                   int64_t max_rows) const {
  if (h.ndim() != 2 || h.dim(1) != cfg_.context)
    throw std::invalid_argument("ConditionalFlow::sample: h must be [n_obs, " +
                                std::to_string(cfg_.context) + "], got " + ad::to_string(h.shape()));
  if (n <= 0) throw std::invalid_argument("ConditionalFlow::sample: n must be positive");
  ad::NoGradGuard ng;
  const int64_t n_obs = h.dim(0), D = cfg_.dim;
  const int64_t obs_per_chunk = observation_group(h.device(), n, max_rows);
  std::vector<ad::Tensor> chunks;
  for (int64_t j0 = 0; j0 < n_obs; j0 += obs_per_chunk) {
    const int64_t j1 = std::min(n_obs, j0 + obs_per_chunk);
    std::vector<ad::Tensor> eps, u;
    for (int64_t j = j0; j < j1; ++j) {
      eps.push_back(ad::randn({n, D}, gen, h.device(), h.dtype()));
      u.push_back(ad::rand({n, D}, gen, h.device(), h.dtype()));
    }
    ad::Tensor hc = repeat_rows(ad::slice(h, 0, j0, j1), n);
    ad::Tensor z = base_->sample(hc, ad::concat(eps, 0), ad::concat(u, 0));
    chunks.push_back(from_base(z, hc).reshape({j1 - j0, n, D}));
  }
  return chunks.size() == 1 ? chunks[0] : ad::concat(chunks, 0);
}

ad::Tensor ConditionalFlow::log_prob_samples(const ad::Tensor& theta, const ad::Tensor& h,
                                             int64_t max_rows) const {
  if (theta.ndim() != 3 || theta.dim(2) != cfg_.dim || h.ndim() != 2 || h.dim(0) != theta.dim(0))
    throw std::invalid_argument("ConditionalFlow::log_prob_samples: theta must be [n_obs, n, " +
                                std::to_string(cfg_.dim) + "] and h [n_obs, C], got " +
                                ad::to_string(theta.shape()) + " and " + ad::to_string(h.shape()));
  ad::NoGradGuard ng;
  const int64_t n_obs = theta.dim(0), n = theta.dim(1);
  const int64_t obs_per_chunk = observation_group(h.device(), n, max_rows);
  std::vector<ad::Tensor> chunks;
  for (int64_t j0 = 0; j0 < n_obs; j0 += obs_per_chunk) {
    const int64_t j1 = std::min(n_obs, j0 + obs_per_chunk);
    const ad::Tensor th = ad::slice(theta, 0, j0, j1).reshape({(j1 - j0) * n, cfg_.dim});
    chunks.push_back(log_prob(th, repeat_rows(ad::slice(h, 0, j0, j1), n)).reshape({j1 - j0, n}));
  }
  return chunks.size() == 1 ? chunks[0] : ad::concat(chunks, 0);
}

int64_t observation_group(ad::Device device, int64_t rows_per_obs, int64_t max_rows) {
  if (device == ad::Device::CPU) return 1;
  return std::max<int64_t>(1, max_rows / std::max<int64_t>(1, rows_per_obs));
}

std::vector<std::vector<int64_t>> ConditionalFlow::orderings() const {
  std::vector<std::vector<int64_t>> out;
  for (const auto& b : blocks_) out.push_back(b->degrees());
  out.push_back(base_->degrees());
  return out;
}

}  // namespace lensflow::nn
