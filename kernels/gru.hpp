// kernels/gru.hpp — fused GRU layer (PyTorch equations, gate blocks r, z, n) over [B, T, In].
// Forward: one GEMM for all input projections, then per step one GEMM (h W_hh^T) and one fused
// pointwise kernel. Backward: per step one fused pointwise kernel and one GEMM for dh, then three
// GEMMs for the weight/input gradients over all steps at once.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

struct GruDims {
  int64_t B, T, In, H;
};

// h0 [B,H] (nullptr = zeros), W_ih [3H,In], W_hh [3H,H], b_ih/b_hh [3H] -> out [B,T,H] and the
// saved gates [B,T,4H] = (r, z, n, W_hn h + b_hn) for the backward.
template <class T>
void gru_forward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                     const T* b_ih, const T* b_hh, T* out, T* gates);
// Given gout [B,T,H] = dL/d out: writes gx [B,T,In], gh0 [B,H] (skipped if nullptr), gW_ih,
// gW_hh, gb_ih, gb_hh (overwritten, not accumulated).
template <class T>
void gru_backward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                      const T* out, const T* gates, const T* gout, T* gx, T* gh0, T* gW_ih,
                      T* gW_hh, T* gb_ih, T* gb_hh);

void gru_forward_cuda(const GruDims& d, const float* x, const float* h0, const float* W_ih,
                      const float* W_hh, const float* b_ih, const float* b_hh, float* out,
                      float* gates);
void gru_backward_cuda(const GruDims& d, const float* x, const float* h0, const float* W_ih,
                       const float* W_hh, const float* out, const float* gates, const float* gout,
                       float* gx, float* gh0, float* gW_ih, float* gW_hh, float* gb_ih,
                       float* gb_hh);

}  // namespace lensflow::kernels
