// kernels/adam.hpp — one Adam update of a parameter, in place, in a single pass (nn/adam.cpp):
//   g' = g * grad_scale          (when grad_scale != 1: gradient clipping without a pass of its own)
//   g' = g' + weight_decay * p   (when weight_decay != 0)
//   m  = beta1 * m + (1 - beta1) * g'
//   v  = beta2 * v + (1 - beta2) * g'^2
//   p  = p - step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps)
// with step_size = lr / (1 - beta1^t) and inv_sqrt_bc2 = 1 / sqrt(1 - beta2^t). Each scalar is
// rounded to T first and the element operations run in the order of the tensor-op version
// (x * a, then +, ...), without fused multiply-adds, so the values are the tensor ops' own.
#pragma once

#include <cstdint>

namespace lensflow::kernels {

struct AdamScalars {
  double beta1, beta2, eps, weight_decay, step_size, inv_sqrt_bc2;
  double grad_scale = 1.0;
};

template <class T>
void adam_update_cpu(T* p, const T* g, T* m, T* v, int64_t n, const AdamScalars& s);
void adam_update_cuda(float* p, const float* g, float* m, float* v, int64_t n,
                      const AdamScalars& s);

}  // namespace lensflow::kernels
