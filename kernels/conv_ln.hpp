// kernels/conv_ln.hpp — one stage of a residual block in a single pass over the activations:
//   z = conv1d(x, w) + b,  y = act(LN(z) * gamma + beta + res)
// with the channels-last 'same' convolution of kernels/conv1d.hpp (x[B, L, Cin], w[K, Cin, Cout],
// odd K, zero padding (K-1)/2), the layer norm of kernels/layernorm.hpp over the Cout channels
// of each row (statistics in T, summed in a fixed order), an optional residual res[B, L, Cout] and act = ReLU or identity. Each part is
// optional: b == nullptr (no bias), gamma == nullptr (no layer norm: y = act(z + res)),
// res == nullptr, relu == false; without all of them it is a plain convolution.
//
// CPU (kernels/conv_ln.cpp): each light curve's rows are cut into tiles that stay in cache; a
// tile's product runs as direct vector loops (narrow layers), Winograd F(4,3) (3 taps, >= 32
// channels) or one single-threaded GEMM per kernel tap on shifted rows of x, and is finished
// (bias, norm, residual, ReLU) while still in cache. The backward recomputes, for the input
// gradient, the tile's output gradient on a halo of (K-1)/2 rows so each tile writes only its own
// input rows (no races). Parameter gradients are summed per fixed chunk of tiles and the chunks
// added in order: every result is independent of the thread count. CUDA: im2col + cuBLAS GEMM +
// one kernel for the row-wise epilogue (and its adjoint).
#pragma once

#include <cstdint>

namespace lensflow::kernels {

struct ConvLnDims {
  int64_t B, L, Cin, Cout, K;
};

// Writes y[B, L, Cout]. With gamma: also z (the convolution, bias included), mean and rstd per
// row (as layernorm_forward_cpu) for the backward; without gamma z, mean, rstd are unused (may be
// nullptr). beta is required with gamma.
template <class T>
void conv_ln_forward_cpu(const ConvLnDims& d, const T* x, const T* w, const T* b, const T* gamma,
                         const T* beta, const T* res, bool relu, double eps, T* z, T* mean,
                         T* rstd, T* y);

// Gradients from gy = dL/dy. Reads x and w; with gamma z, mean, rstd; with relu y. Each output
// may be nullptr (not wanted): gx[B,L,Cin], gw[K,Cin,Cout], gb/ggamma/gbeta[Cout] and
// gres[B,L,Cout] (the gradient reaching the residual, i.e. dL/d(pre-activation)). All written,
// not accumulated.
template <class T>
void conv_ln_backward_cpu(const ConvLnDims& d, const T* x, const T* w, const T* gamma, const T* z,
                          const T* mean, const T* rstd, const T* y, const T* gy, bool relu, T* gx,
                          T* gw, T* gb, T* ggamma, T* gbeta, T* gres);

void conv_ln_forward_cuda(const ConvLnDims& d, const float* x, const float* w, const float* b,
                          const float* gamma, const float* beta, const float* res, bool relu,
                          double eps, float* z, float* mean, float* rstd, float* y);
void conv_ln_backward_cuda(const ConvLnDims& d, const float* x, const float* w, const float* gamma,
                           const float* z, const float* mean, const float* rstd, const float* y,
                           const float* gy, bool relu, float* gx, float* gw, float* gb,
                           float* ggamma, float* gbeta, float* gres);

}  // namespace lensflow::kernels
