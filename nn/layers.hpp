// nn/layers.hpp — basic layers on channels-last tensors: Linear, MaskedLinear, Conv1d, LayerNorm
// and a multi-layer GRU. Each takes a Generator for its initial weights and has a forward().
//
// Initialisation: weights uniform with variance gain^2 / fan_in (gain sqrt(2) before a ReLU,
// 1 otherwise), biases zero, layer-norm scale one; GRU weights uniform(±1/sqrt(H)) as PyTorch.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

inline const double kReluGain = std::sqrt(2.0);

// y = x W^T + b; x[..., in] -> [..., out].
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, ad::Generator& gen, bool bias = true, double gain = 1.0);
  ad::Tensor forward(const ad::Tensor& x) const;
  // Multiplies the initial weights by `s` (e.g. small final layers so a flow starts near identity).
  void scale_weights(double s);
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  ad::Tensor weight, bias;  // [out, in], [out] (undefined without bias)

 private:
  int64_t in_, out_;
};

// MADE layer: y = x (W ⊙ M)^T + b with a constant 0/1 mask M[out, in] (stored as a buffer).
class MaskedLinear : public Module {
 public:
  MaskedLinear(const std::vector<float>& mask, int64_t in, int64_t out, ad::Generator& gen,
               double gain = 1.0);
  ad::Tensor forward(const ad::Tensor& x) const;
  void scale_weights(double s);

  ad::Tensor weight, bias, mask;
};

// Stride-1 'same' convolution, x[B, L, Cin] -> [B, L, Cout]; weight [K, Cin, Cout].
class Conv1d : public Module {
 public:
  Conv1d(int64_t cin, int64_t cout, int64_t kernel, ad::Generator& gen, bool bias = true,
         double gain = 1.0);
  ad::Tensor forward(const ad::Tensor& x) const;

  ad::Tensor weight, bias;
};

// Normalises over the last dimension, with learned scale and shift.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  ad::Tensor forward(const ad::Tensor& x) const;
  double eps() const { return eps_; }

  ad::Tensor gamma, beta;

 private:
  double eps_;
};

// Stacked GRU (PyTorch equations, zero initial state): x[B, T, in] -> hidden states of the top
// layer [B, T, H].
class GRU : public Module {
 public:
  GRU(int64_t in, int64_t hidden, int64_t layers, ad::Generator& gen);
  ad::Tensor forward(const ad::Tensor& x) const;
  // Last hidden state of the top layer, [B, H].
  ad::Tensor last_hidden(const ad::Tensor& x) const;
  int64_t hidden_size() const { return hidden_; }

 private:
  struct Layer : Module {
    Layer(int64_t in, int64_t hidden, ad::Generator& gen);
    ad::Tensor W_ih, W_hh, b_ih, b_hh;
  };
  int64_t hidden_;
  std::vector<std::unique_ptr<Layer>> layers_;
};

}  // namespace lensflow::nn
