// kernels/conv1d.hpp — channels-last 1D convolution helpers for CUDA, where the convolution is
// im2col + one GEMM with w[K,Cin,Cout] viewed as [K*Cin, Cout] (autodiff/ops_conv.cpp):
//   cols[b, l, k*Cin + c] = x[b, l + k - (K-1)/2, c]  (0 outside [0, L)).
// The CPU convolution does not materialise cols: kernels/conv_ln.cpp.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

void im2col_cuda(const float* x, float* cols, int64_t B, int64_t L, int64_t C, int64_t K);
// Adjoint of im2col: gx[b, l, c] = sum_k gcols[b, l - k + (K-1)/2, k*C + c] (gather form, no races).
void col2im_cuda(const float* gcols, float* gx, int64_t B, int64_t L, int64_t C, int64_t K);

}  // namespace lensflow::kernels
