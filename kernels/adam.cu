// kernels/adam.cu — CUDA fused Adam update: one thread per element, each operation rounded on its
// own (__f*_rn: no contraction into fused multiply-adds), as the separate elementwise kernels.
#include "kernels/adam.hpp"
#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"

namespace lensflow::kernels {
namespace {

struct AdamF {
  float b1, c1, b2, c2, eps, wd, step, isb, gs;
  bool decay, scaled;
};

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamF s) {
  LF_GRID_LOOP(i, n) {
    float gi = g[i];
    if (s.scaled) gi = __fmul_rn(gi, s.gs);
    if (s.decay) gi = __fadd_rn(gi, __fmul_rn(p[i], s.wd));
    const float mi = __fadd_rn(__fmul_rn(m[i], s.b1), __fmul_rn(gi, s.c1));
    const float vi = __fadd_rn(__fmul_rn(v[i], s.b2), __fmul_rn(__fmul_rn(gi, gi), s.c2));
    const float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), s.isb), s.eps);
    m[i] = mi;
    v[i] = vi;
    p[i] = __fsub_rn(p[i], __fmul_rn(__fdiv_rn(mi, denom), s.step));
  }
}

}  // namespace

void adam_update_cuda(float* p, const float* g, float* m, float* v, int64_t n,
                      const AdamScalars& s) {
  if (n == 0) return;
  const AdamF f{float(s.beta1), float(1.0 - s.beta1), float(s.beta2), float(1.0 - s.beta2),
                float(s.eps),   float(s.weight_decay), float(s.step_size), float(s.inv_sqrt_bc2),
                float(s.grad_scale), s.weight_decay != 0.0, s.grad_scale != 1.0};
  adam_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(p, g, m, v, n, f);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
