// nn/featurizer.hpp — the ResNet-GRU featurizer (Zhang et al. 2021 §2.2,
// docs/conventions.md §Network): compresses a channels-last light curve x[B, L, C_in] into a
// feature vector h[B, out_dim].
//
//   optionally input_fold consecutive points folded into channels; then
//   n_blocks residual blocks: y = relu(LN(conv(x))); y = LN(conv(y)); out = relu(y + skip(x)),
//   skip = identity, or a 1x1 conv where the channel count changes; max-pool by 2 after each of
//   the first n_pools blocks; block b has min(base_channels * 2^min(b, n_pools), max_channels)
//   channels. Then a gru_layers-deep GRU over the pooled steps; its last hidden state goes
//   through a linear layer to h.
// Defaults are the paper's: L = 7200 -> 56 steps of 256 channels, GRU 2 x 256, h of 256.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

struct FeaturizerConfig {
  int64_t in_channels = 1;
  int64_t length = 7200;  // input points per light curve (checked on forward)
  // Consecutive points folded into channels before the first block ([B, L, C] -> [B, L/f, f*C]):
  // the first convolution then acts like one of stride f, at 1/f of the cost of the longest layer.
  int64_t input_fold = 1;
  int64_t n_blocks = 9;
  int64_t n_pools = 7;    // pools after the first n_pools blocks (n_pools <= n_blocks)
  int64_t base_channels = 32;
  int64_t max_channels = 256;
  int64_t kernel_size = 3;
  int64_t gru_layers = 2;
  int64_t gru_hidden = 256;
  int64_t out_dim = 256;

  void validate() const;                       // throws std::invalid_argument naming the field
  int64_t block_channels(int64_t b) const;     // output channels of block b
  int64_t out_length() const;                  // steps seen by the GRU (length / input_fold / 2^n_pools)
  bool operator==(const FeaturizerConfig& o) const;
};

class ResBlock : public Module {
 public:
  ResBlock(int64_t cin, int64_t cout, int64_t kernel, ad::Generator& gen);
  ad::Tensor forward(const ad::Tensor& x) const;

 private:
  Conv1d conv1_, conv2_;
  LayerNorm ln1_, ln2_;
  std::unique_ptr<Conv1d> skip_;  // 1x1 projection when cin != cout
};

class Featurizer : public Module {
 public:
  Featurizer(const FeaturizerConfig& cfg, ad::Generator& gen);
  // x[B, length, in_channels] -> h[B, out_dim].
  ad::Tensor forward(const ad::Tensor& x) const;
  // The ResNet part alone: x -> [B, out_length, block_channels(n_blocks - 1)].
  ad::Tensor resnet(const ad::Tensor& x) const;
  const FeaturizerConfig& config() const { return cfg_; }

 private:
  FeaturizerConfig cfg_;
  std::vector<std::unique_ptr<ResBlock>> blocks_;
  std::unique_ptr<GRU> gru_;
  std::unique_ptr<Linear> head_;
};

}  // namespace lensflow::nn
