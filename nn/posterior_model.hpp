// nn/posterior_model.hpp — the amortized posterior q(theta | x): ResNet-GRU featurizer + conditional
// MAF with a mixture-of-Gaussians base (docs/conventions.md §Network). Built entirely from a
// PosteriorConfig, whose defaults are the paper's sizes; init_seed fixes every initial weight.
#pragma once

#include <cstdint>

#include "autodiff/tensor.hpp"
#include "nn/featurizer.hpp"
#include "nn/flow.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

struct PosteriorConfig {
  FeaturizerConfig featurizer;  // its out_dim must equal flow.context
  FlowConfig flow;
  uint64_t init_seed = 0;

  static PosteriorConfig paper();  // the defaults, spelled out
  // A small model for tests and CPU demos: 3 blocks (2 pools) of 4..8 channels, GRU 1 x 8, h of 8,
  // 2 flow blocks of 16 hidden units, 3 components. `length` must be >= 4.
  static PosteriorConfig tiny(int64_t length, int64_t dim, int64_t in_channels = 1);
  void validate() const;  // throws std::invalid_argument naming the field
  bool operator==(const PosteriorConfig& o) const;
  bool operator!=(const PosteriorConfig& o) const { return !(*this == o); }
};

class PosteriorModel : public Module {
 public:
  explicit PosteriorModel(const PosteriorConfig& cfg);

  // x[B, length, in_channels] -> h[B, context].
  ad::Tensor features(const ad::Tensor& x) const;
  // The same without autograd, for inference: on the CPU each observation runs alone, so that its
  // features are the same bits whatever batch it arrives in (see observation_group); on CUDA the
  // batch runs together.
  ad::Tensor inference_features(const ad::Tensor& x) const;
  // log q(theta | x), [B]; theta[B, D].
  ad::Tensor log_prob(const ad::Tensor& x, const ad::Tensor& theta) const;
  // Mean negative log-likelihood over the batch (the training loss), a 0-d tensor.
  ad::Tensor loss(const ad::Tensor& x, const ad::Tensor& theta) const;
  // n posterior samples per observation -> [n_obs, n, D] (see ConditionalFlow::sample for the
  // random-number contract); no autograd.
  ad::Tensor sample(const ad::Tensor& x, int64_t n, ad::Generator& gen,
                    int64_t max_rows = 1 << 16) const;

  const PosteriorConfig& config() const { return cfg_; }
  const Featurizer& featurizer() const { return *featurizer_; }
  const ConditionalFlow& flow() const { return *flow_; }

 private:
  PosteriorConfig cfg_;
  std::unique_ptr<Featurizer> featurizer_;
  std::unique_ptr<ConditionalFlow> flow_;
};

}  // namespace lensflow::nn
