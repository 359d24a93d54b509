// kernels/maxpool.hpp — max-pool by 2 along L of channels-last x[B, L, C] -> y[B, L/2, C]
// (odd L: the last step is dropped). The backward needs no saved indices: it compares x with y,
// giving the gradient to the first element of a tied pair.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

template <class T> void maxpool2_forward_cpu(const T* x, T* y, int64_t B, int64_t L, int64_t C);
template <class T>
void maxpool2_backward_cpu(const T* x, const T* y, const T* gy, T* gx, int64_t B, int64_t L,
                           int64_t C);

void maxpool2_forward_cuda(const float* x, float* y, int64_t B, int64_t L, int64_t C);
void maxpool2_backward_cuda(const float* x, const float* y, const float* gy, float* gx, int64_t B,
                            int64_t L, int64_t C);

}  // namespace lensflow::kernels
