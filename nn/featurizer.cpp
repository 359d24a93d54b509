#include "nn/featurizer.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"

namespace lensflow::nn {

namespace {
void check_field(bool ok, const char* field, int64_t v, const char* why) {
  if (!ok)
    throw std::invalid_argument(std::string("FeaturizerConfig.") + field + " = " +
                                std::to_string(v) + ": " + why);
}
}  // namespace

void FeaturizerConfig::validate() const {
  check_field(in_channels > 0, "in_channels", in_channels, "must be positive");
  check_field(n_blocks > 0, "n_blocks", n_blocks, "must be positive");
  check_field(n_pools >= 0 && n_pools <= n_blocks && n_pools < 62, "n_pools", n_pools,
              "must be in [0, n_blocks]");
  check_field(base_channels > 0, "base_channels", base_channels, "must be positive");
  check_field(max_channels >= base_channels, "max_channels", max_channels,
              "must be >= base_channels");
  check_field(kernel_size > 0 && kernel_size % 2 == 1, "kernel_size", kernel_size,
              "must be odd and positive");
  check_field(gru_layers > 0, "gru_layers", gru_layers, "must be positive");
  check_field(gru_hidden > 0, "gru_hidden", gru_hidden, "must be positive");
  check_field(out_dim > 0, "out_dim", out_dim, "must be positive");
  check_field(input_fold > 0, "input_fold", input_fold, "must be positive");
  check_field(length > 0 && length % input_fold == 0, "length", length, "must be a multiple of input_fold");
  check_field(((length / input_fold) >> n_pools) >= 1, "length", length,
              "must leave at least one step after the fold and n_pools halvings");
}

int64_t FeaturizerConfig::block_channels(int64_t b) const {
  int64_t c = base_channels;
  for (int64_t i = 0; i < std::min(b, n_pools) && c < max_channels; ++i) c *= 2;
  return std::min(c, max_channels);
}

int64_t FeaturizerConfig::out_length() const { return (length / input_fold) >> n_pools; }

bool FeaturizerConfig::operator==(const FeaturizerConfig& o) const {
  return in_channels == o.in_channels && length == o.length && input_fold == o.input_fold && n_blocks == o.n_blocks &&
         n_pools == o.n_pools && base_channels == o.base_channels &&
         max_channels == o.max_channels && kernel_size == o.kernel_size &&
         gru_layers == o.gru_layers && gru_hidden == o.gru_hidden && out_dim == o.out_dim;
}

ResBlock::ResBlock(int64_t cin, int64_t cout, int64_t kernel, ad::Generator& gen)
    : conv1_(cin, cout, kernel, gen, true, kReluGain),
      conv2_(cout, cout, kernel, gen, true, kReluGain),
      ln1_(cout),
      ln2_(cout) {
  register_module("conv1", &conv1_);
  register_module("ln1", &ln1_);
  register_module("conv2", &conv2_);
  register_module("ln2", &ln2_);
  if (cin != cout) {
    skip_ = std::make_unique<Conv1d>(cin, cout, 1, gen, false, 1.0);
    register_module("skip", skip_.get());
  }
}

// Each conv -> norm (-> + skip) -> ReLU stage is one fused op (ad::conv1d_ln): the same values as
// the layers composed, in one pass over the activations.
ad::Tensor ResBlock::forward(const ad::Tensor& x) const {
  const ad::Tensor y = ad::conv1d_ln(x, conv1_.weight, conv1_.bias, ln1_.gamma, ln1_.beta,
                                     ad::Tensor(), true, ln1_.eps());
  const ad::Tensor skip = skip_ ? skip_->forward(x) : x;
  return ad::conv1d_ln(y, conv2_.weight, conv2_.bias, ln2_.gamma, ln2_.beta, skip, true,
                       ln2_.eps());
}

Featurizer::Featurizer(const FeaturizerConfig& cfg, ad::Generator& gen) : cfg_(cfg) {
  cfg_.validate();
  int64_t cin = cfg_.in_channels * cfg_.input_fold;
  for (int64_t b = 0; b < cfg_.n_blocks; ++b) {
    const int64_t cout = cfg_.block_channels(b);
    blocks_.push_back(std::make_unique<ResBlock>(cin, cout, cfg_.kernel_size, gen));
    register_module("blocks." + std::to_string(b), blocks_.back().get());
    cin = cout;
  }
  gru_ = std::make_unique<GRU>(cin, cfg_.gru_hidden, cfg_.gru_layers, gen);
  register_module("gru", gru_.get());
  head_ = std::make_unique<Linear>(cfg_.gru_hidden, cfg_.out_dim, gen, true, 1.0);
  register_module("head", head_.get());
}

ad::Tensor Featurizer::resnet(const ad::Tensor& x) const {
  if (x.ndim() != 3 || x.dim(1) != cfg_.length || x.dim(2) != cfg_.in_channels)
    throw std::invalid_argument("Featurizer: input must be [B, " + std::to_string(cfg_.length) +
                                ", " + std::to_string(cfg_.in_channels) + "], got " +
                                ad::to_string(x.shape()));
  ad::Tensor y = cfg_.input_fold > 1
                     ? x.reshape({x.dim(0), cfg_.length / cfg_.input_fold, cfg_.input_fold * cfg_.in_channels})
                     : x;
  for (int64_t b = 0; b < cfg_.n_blocks; ++b) {
    y = blocks_[b]->forward(y);
    if (b < cfg_.n_pools) y = ad::maxpool2(y);
  }
  return y;
}

ad::Tensor Featurizer::forward(const ad::Tensor& x) const {
  return head_->forward(gru_->last_hidden(resnet(x)));
}

}  // namespace lensflow::nn
