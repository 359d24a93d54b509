// pipeline/model_configs.hpp — named network sizes for `lensflow-train --config NAME`, all for the
// 7,200-point, 1-channel inputs of sim/realization.hpp and the 8 parameters of
// docs/conventions.md §Priors.
//   paper — docs/conventions.md §Network (9 residual blocks 32→256 channels, GRU 2×256, h 256,
//           20 MADE blocks of 2×256, 8-component base): ~GPU scale.
//   small — a CPU-trainable model for demos: 6 blocks of 8→32 channels with 5 pools (7200 → 225
//           steps), GRU 1×32, h 32, 5 MADE blocks of 2×64, 4 components.
//   small-fold4 — small with 4 points folded into channels (16→32 channels, 3 pools: 1800 → 225).
//   small-bigflow — small's featurizer, 8 MADE blocks of 2×128, 8 components.
//   medium-fold4 — fold 4, 7 blocks 16→64 channels, 4 pools (1800 → 112), GRU 1×64, h 64, the
//           big flow.
#pragma once

#include <stdexcept>
#include <string>

#include "nn/posterior_model.hpp"

namespace lensflow::pipeline {

inline nn::PosteriorConfig named_model_config(const std::string& name, int64_t length = 7200,
                                              int64_t dim = 8) {
  nn::PosteriorConfig c = nn::PosteriorConfig::paper();
  c.featurizer.length = length;
  c.flow.dim = dim;
  if (name == "paper") return c;
  if (name == "small") {
    c.featurizer.n_blocks = 6;
    c.featurizer.n_pools = 5;
    c.featurizer.base_channels = 8;
    c.featurizer.max_channels = 32;
    c.featurizer.gru_layers = 1;
    c.featurizer.gru_hidden = 32;
    c.featurizer.out_dim = 32;
    c.flow.context = 32;
    c.flow.n_blocks = 5;
    c.flow.hidden = 64;
    c.flow.components = 4;
    return c;
  }
  // CPU configurations compared by validation NLL per CPU-hour (docs: the learning curves). fold4:
  // 4 points folded into channels, so the first block runs on 1,800 steps instead of 7,200.
  if (name == "small-fold4" || name == "medium-fold4" || name == "small-bigflow") {
    c = named_model_config("small", length, dim);
    if (name != "small-bigflow") {
      c.featurizer.input_fold = 4;
      c.featurizer.n_pools = 3;  // 1,800 -> 225 steps, as small's 7,200 -> 225
      c.featurizer.base_channels = 16;
    }
    if (name == "medium-fold4") {
      c.featurizer.n_blocks = 7;
      c.featurizer.n_pools = 4;  // -> 112 steps
      c.featurizer.max_channels = 64;
      c.featurizer.gru_hidden = 64;
      c.featurizer.out_dim = 64;
      c.flow.context = 64;
    }
    if (name != "small-fold4") {
      c.flow.n_blocks = 8;
      c.flow.hidden = 128;
      c.flow.components = 8;
    }
    return c;
  }
  throw std::invalid_argument("unknown model configuration '" + name +
                              "' (expected paper, small, small-fold4, medium-fold4 or small-bigflow)");
}

}  // namespace lensflow::pipeline
