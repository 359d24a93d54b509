// autodiff/ops.hpp — differentiable operations on Tensors (CPU F32/F64, CUDA F32).
//
// Every op checks that its inputs are defined, on the same device, of the same dtype and of
// compatible shapes, and otherwise throws std::invalid_argument naming the op and the shapes.
// Sequences are CHANNELS-LAST: [B, L, C]. Axis arguments may be negative (counted from the end).
// Ops return new contiguous tensors; with grad mode on and an input requiring grad they record a
// node so that backward() reaches the inputs.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace lensflow::ad {

// ---- elementwise, numpy broadcasting (shapes aligned from the right, size-1 dims stretch) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);   // a + s
Tensor mul(const Tensor& a, double s);   // a * s
Tensor rsub(double s, const Tensor& a);  // s - a
Tensor rdiv(double s, const Tensor& a);  // s / a

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(const Tensor& a, double s);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator/(double s, const Tensor& a);

Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor square(const Tensor& a);
Tensor relu(const Tensor& a);      // gradient 0 at x <= 0
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor softplus(const Tensor& a);  // log(1 + e^x), computed stably
// Clamp to [lo, hi]; the gradient is 1 inside [lo, hi] and 0 outside (nbi's truncation).
Tensor clamp(const Tensor& a, double lo, double hi);

// ---- reductions ----
Tensor sum(const Tensor& a, int axis, bool keepdim = false);
Tensor sum(const Tensor& a);  // all elements -> shape [] (0-d, numel 1)
// sum(square(a)) in one pass without the squared copy (the same value on the CPU) -> shape [].
Tensor sum_squares(const Tensor& a);
Tensor mean(const Tensor& a, int axis, bool keepdim = false);
Tensor mean(const Tensor& a);  // -> shape []
Tensor logsumexp(const Tensor& a, int axis, bool keepdim = false);  // max-shifted, stable
Tensor log_softmax(const Tensor& a, int axis);
Tensor softmax(const Tensor& a, int axis);

// ---- linear algebra ----
// [M,K] x [K,N] -> [M,N]; batched [B,M,K] x [K,N] -> [B,M,N] and [B,M,K] x [B,K,N] -> [B,M,N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x[..., In], W[Out, In], b[Out] (b may be undefined) -> [..., Out] = x W^T + b.
Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b);
// MADE layer: linear(x, W * mask, b) with mask[Out, In] a constant 0/1 tensor (no gradient), so
// masked weights get zero gradient.
Tensor masked_linear(const Tensor& x, const Tensor& W, const Tensor& mask, const Tensor& b);

// ---- network layers (channels-last) ----
// x[B,L,Cin], w[K,Cin,Cout], b[Cout] (may be undefined) -> [B,L,Cout]; stride 1, odd K, 'same'
// zero padding of (K-1)/2 on each side.
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b);
// One residual-block stage in a single pass (kernels/conv_ln.hpp):
//   y = act(layer_norm(conv1d(x, w, b), gamma, beta, eps) + res), act = relu or identity.
// gamma and beta undefined: no layer norm; b, res undefined: none. The same values as the ops
// composed (to float round-off: the sums run in other orders; 3-tap layers of >= 32 channels use
// Winograd F(4,3) on the CPU) with one tape node and no full-size intermediates besides the
// saved convolution output.
Tensor conv1d_ln(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma,
                 const Tensor& beta, const Tensor& res, bool relu, double eps = 1e-5);
// Normalises over the last dim: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance).
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
// x[B,L,C] -> [B,L/2,C], max over pairs (2i, 2i+1). For odd L the last step is dropped (as
// PyTorch MaxPool1d(2)). Ties send the gradient to the first element of the pair.
Tensor maxpool2(const Tensor& x);
// One GRU layer (PyTorch equations, gate blocks ordered r, z, n):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h.
// x[B,T,In], h0[B,H] (undefined = zeros), W_ih[3H,In], W_hh[3H,H], b_ih[3H], b_hh[3H]
// -> all hidden states [B,T,H] (the last one is slice(out, 1, T-1, T)).
Tensor gru(const Tensor& x, const Tensor& h0, const Tensor& W_ih, const Tensor& W_hh,
           const Tensor& b_ih, const Tensor& b_hh);

// ---- shape / indexing ----
Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end);  // [start, end)
Tensor concat(const std::vector<Tensor>& ts, int axis);
// Gathers positions idx (each in [0, dim)) along axis; repeats allowed (gradients add up).
Tensor index_select(const Tensor& a, int axis, const std::vector<int64_t>& idx);
Tensor transpose(const Tensor& a, int d0, int d1);
Tensor flatten(const Tensor& a, int start_axis = 1);  // reshape to [d0.., prod(rest)]
Tensor unsqueeze(const Tensor& a, int axis);
Tensor squeeze(const Tensor& a, int axis);           // the dim must be 1

// ---- in-place parameter update (no autograd) ----
// One Adam step (kernels/adam.hpp) on p from its gradient g and moments m, v (one shape, device
// and dtype), in a single pass: p, m and v are overwritten with the values the tensor-op update
// of nn/adam.hpp's equations gives, for the gradient g * grad_scale (g itself is not changed).
void adam_update(Tensor p, const Tensor& g, Tensor m, Tensor v, double beta1, double beta2,
                 double eps, double weight_decay, double step_size, double inv_sqrt_bc2,
                 double grad_scale = 1.0);

// ---- densities ----
// Mixture-of-Gaussians log-density per dimension: z[B,D], logits/mu/log_sigma [B,D,K] -> [B,D]:
// log p = logsumexp_k( log_softmax(logits)_k + log N(z; mu_k, exp(log_sigma_k)) ).
Tensor mog_logpdf(const Tensor& z, const Tensor& logits, const Tensor& mu,
                  const Tensor& log_sigma);

}  // namespace lensflow::ad
