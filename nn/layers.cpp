#include "nn/layers.hpp"

#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"
#include "nn/init.hpp"

namespace lensflow::nn {

namespace {
void require_positive(int64_t v, const char* what, const char* layer) {
  if (v <= 0)
    throw std::invalid_argument(std::string(layer) + ": " + what + " must be positive, got " +
                                std::to_string(v));
}

// Scales a parameter's values in place (before training; no autograd).
void scale_in_place(ad::Tensor& t, double s) {
  ad::NoGradGuard ng;
  t.copy_(ad::mul(t.detach(), s));
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, ad::Generator& gen, bool with_bias, double gain)
    : in_(in), out_(out) {
  require_positive(in, "in", "Linear");
  require_positive(out, "out", "Linear");
  weight = fan_in_init({out, in}, in, gain, gen);
  register_parameter("weight", &weight);
  if (with_bias) {
    bias = ad::Tensor::zeros({out});
    register_parameter("bias", &bias);
  }
}

ad::Tensor Linear::forward(const ad::Tensor& x) const { return ad::linear(x, weight, bias); }

void Linear::scale_weights(double s) { scale_in_place(weight, s); }

MaskedLinear::MaskedLinear(const std::vector<float>& m, int64_t in, int64_t out,
                           ad::Generator& gen, double gain) {
  require_positive(in, "in", "MaskedLinear");
  require_positive(out, "out", "MaskedLinear");
  if (static_cast<int64_t>(m.size()) != in * out)
    throw std::invalid_argument("MaskedLinear: mask has " + std::to_string(m.size()) +
                                " entries, expected out*in = " + std::to_string(in * out));
  weight = fan_in_init({out, in}, in, gain, gen);
  bias = ad::Tensor::zeros({out});
  mask = ad::Tensor::from_vector(m, {out, in});
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  register_buffer("mask", &mask);
}

ad::Tensor MaskedLinear::forward(const ad::Tensor& x) const {
  return ad::masked_linear(x, weight, mask, bias);
}

void MaskedLinear::scale_weights(double s) { scale_in_place(weight, s); }

Conv1d::Conv1d(int64_t cin, int64_t cout, int64_t kernel, ad::Generator& gen, bool with_bias,
               double gain) {
  require_positive(cin, "cin", "Conv1d");
  require_positive(cout, "cout", "Conv1d");
  if (kernel <= 0 || kernel % 2 == 0)
    throw std::invalid_argument("Conv1d: kernel size must be odd and positive, got " +
                                std::to_string(kernel));
  weight = fan_in_init({kernel, cin, cout}, kernel * cin, gain, gen);
  register_parameter("weight", &weight);
  if (with_bias) {
    bias = ad::Tensor::zeros({cout});
    register_parameter("bias", &bias);
  }
}

ad::Tensor Conv1d::forward(const ad::Tensor& x) const { return ad::conv1d(x, weight, bias); }

LayerNorm::LayerNorm(int64_t dim, double eps) : eps_(eps) {
  require_positive(dim, "dim", "LayerNorm");
  gamma = ad::Tensor::full({dim}, 1.0);
  beta = ad::Tensor::zeros({dim});
  register_parameter("gamma", &gamma);
  register_parameter("beta", &beta);
}

ad::Tensor LayerNorm::forward(const ad::Tensor& x) const {
  return ad::layer_norm(x, gamma, beta, eps_);
}

GRU::Layer::Layer(int64_t in, int64_t hidden, ad::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  W_ih = uniform_init({3 * hidden, in}, bound, gen);
  W_hh = uniform_init({3 * hidden, hidden}, bound, gen);
  b_ih = ad::Tensor::zeros({3 * hidden});
  b_hh = ad::Tensor::zeros({3 * hidden});
  register_parameter("W_ih", &W_ih);
  register_parameter("W_hh", &W_hh);
  register_parameter("b_ih", &b_ih);
  register_parameter("b_hh", &b_hh);
}

GRU::GRU(int64_t in, int64_t hidden, int64_t layers, ad::Generator& gen) : hidden_(hidden) {
  require_positive(in, "in", "GRU");
  require_positive(hidden, "hidden", "GRU");
  require_positive(layers, "layers", "GRU");
  for (int64_t l = 0; l < layers; ++l) {
    layers_.push_back(std::make_unique<Layer>(l == 0 ? in : hidden, hidden, gen));
    register_module(std::to_string(l), layers_.back().get());
  }
}

ad::Tensor GRU::forward(const ad::Tensor& x) const {
  ad::Tensor h = x;
  for (const auto& l : layers_) h = ad::gru(h, ad::Tensor(), l->W_ih, l->W_hh, l->b_ih, l->b_hh);
  return h;
}

ad::Tensor GRU::last_hidden(const ad::Tensor& x) const {
  ad::Tensor out = forward(x);
  const int64_t T = out.dim(1);
  return ad::squeeze(ad::slice(out, 1, T - 1, T), 1);
}

}  // namespace lensflow::nn
