// kernels/layernorm.hpp — layer normalisation over the last dim of [rows, C].
// Forward keeps per-row mean and rstd = 1/sqrt(var + eps) for the backward.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

template <class T>
void layernorm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd,
                           int64_t rows, int64_t C, double eps);
// gx per row; ggamma = sum_rows(gy * xhat), gbeta = sum_rows(gy) (written, not accumulated).
template <class T>
void layernorm_backward_cpu(const T* x, const T* gamma, const T* mean, const T* rstd, const T* gy,
                            T* gx, T* ggamma, T* gbeta, int64_t rows, int64_t C);

void layernorm_forward_cuda(const float* x, const float* gamma, const float* beta, float* y,
                            float* mean, float* rstd, int64_t rows, int64_t C, double eps);
void layernorm_backward_cuda(const float* x, const float* gamma, const float* mean,
                             const float* rstd, const float* gy, float* gx, float* ggamma,
                             float* gbeta, int64_t rows, int64_t C);

}  // namespace lensflow::kernels
