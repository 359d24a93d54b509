#include "nn/posterior_model.hpp"

#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

PosteriorConfig PosteriorConfig::paper() { return PosteriorConfig{}; }

PosteriorConfig PosteriorConfig::tiny(int64_t length, int64_t dim, int64_t in_channels) {
  PosteriorConfig c;
  c.featurizer.in_channels = in_channels;
  c.featurizer.length = length;
  c.featurizer.n_blocks = 3;
  c.featurizer.n_pools = 2;
  c.featurizer.base_channels = 4;
  c.featurizer.max_channels = 8;
  c.featurizer.gru_layers = 1;
  c.featurizer.gru_hidden = 8;
  c.featurizer.out_dim = 8;
  c.flow.dim = dim;
  c.flow.context = 8;
  c.flow.n_blocks = 2;
  c.flow.hidden = 16;
  c.flow.components = 3;
  return c;
}

void PosteriorConfig::validate() const {
  featurizer.validate();
  flow.validate();
  if (flow.context != featurizer.out_dim)
    throw std::invalid_argument("PosteriorConfig: flow.context (" + std::to_string(flow.context) +
                                ") must equal featurizer.out_dim (" +
                                std::to_string(featurizer.out_dim) + ")");
}

bool PosteriorConfig::operator==(const PosteriorConfig& o) const {
  return featurizer == o.featurizer && flow == o.flow && init_seed == o.init_seed;
}

PosteriorModel::PosteriorModel(const PosteriorConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
  ad::Generator gen(cfg_.init_seed);
  featurizer_ = std::make_unique<Featurizer>(cfg_.featurizer, gen);
  flow_ = std::make_unique<ConditionalFlow>(cfg_.flow, gen);
  register_module("featurizer", featurizer_.get());
  register_module("flow", flow_.get());
}

ad::Tensor PosteriorModel::features(const ad::Tensor& x) const { return featurizer_->forward(x); }

ad::Tensor PosteriorModel::log_prob(const ad::Tensor& x, const ad::Tensor& theta) const {
  if (theta.ndim() != 2 || theta.dim(0) != x.dim(0))
    throw std::invalid_argument("PosteriorModel::log_prob: theta must be [" +
                                std::to_string(x.dim(0)) + ", " + std::to_string(cfg_.flow.dim) +
                                "], got " + ad::to_string(theta.shape()));
  return flow_->log_prob(theta, features(x));
}

ad::Tensor PosteriorModel::loss(const ad::Tensor& x, const ad::Tensor& theta) const {
  return -ad::mean(log_prob(x, theta));
}

ad::Tensor PosteriorModel::inference_features(const ad::Tensor& x) const {
  ad::NoGradGuard ng;
  const int64_t B = x.ndim() > 0 ? x.dim(0) : 0;
  const int64_t group = observation_group(x.device(), 1, B);
  if (group >= B) return features(x);
  std::vector<ad::Tensor> h;
  for (int64_t j = 0; j < B; j += group) h.push_back(features(ad::slice(x, 0, j, std::min(B, j + group))));
  return ad::concat(h, 0);
}

ad::Tensor PosteriorModel::sample(const ad::Tensor& x, int64_t n, ad::Generator& gen,
                                  int64_t max_rows) const {
  ad::NoGradGuard ng;
  return flow_->sample(inference_features(x), n, gen, max_rows);
}

}  // namespace lensflow::nn
