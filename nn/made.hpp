// nn/made.hpp — conditional MADE (Germain et al. 2015): a masked MLP whose outputs for input
// dimension d depend only on the inputs of lower degree and on the context h.
//
// Degrees: input d has degree degrees[d] (a permutation of 1..D = the block's ordering); hidden
// unit j has degree j mod D and sees inputs of degree <= its own (degree-0 units see only h).
// Output unit d*P + p (p < P outputs per dimension) has degree degrees[d] and sees hidden units
// of strictly lower degree, which makes the network autoregressive while every output, the
// first dimension's included, depends on h (unlike MADEs whose hidden degrees start at 1). The
// context h enters the first layer through an unmasked linear map added to the masked one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

// A random permutation of 1..dim (degree of each input dimension), from `gen`.
std::vector<int64_t> random_degrees(int64_t dim, ad::Generator& gen);

struct MadeSizes {
  int64_t dim = 8;             // D
  int64_t context = 256;       // C (size of h)
  int64_t hidden = 256;        // units per hidden layer
  int64_t n_hidden = 2;        // hidden layers (>= 1)
  int64_t outputs_per_dim = 2; // P
};

class MADE : public Module {
 public:
  // final_scale multiplies the initial output weights (small: the block starts near identity).
  MADE(const MadeSizes& sizes, const std::vector<int64_t>& degrees, ad::Generator& gen,
       double final_scale);
  // x[B, D], h[B, C] -> [B, D, P].
  ad::Tensor forward(const ad::Tensor& x, const ad::Tensor& h) const;
  // The same in two parts, so that repeated passes with one h (sampling) project h only once:
  // context_term(h) -> [B, hidden] (undefined when context == 0), then forward_with(x, term).
  ad::Tensor context_term(const ad::Tensor& h, int64_t batch) const;
  ad::Tensor forward_with(const ad::Tensor& x, const ad::Tensor& context_term) const;
  const std::vector<int64_t>& degrees() const { return degrees_; }
  const MadeSizes& sizes() const { return sizes_; }

 private:
  MadeSizes sizes_;
  std::vector<int64_t> degrees_;
  std::vector<std::unique_ptr<MaskedLinear>> layers_;  // n_hidden + 1 (the last is the output)
  std::unique_ptr<Linear> context_;
};

}  // namespace lensflow::nn
