// kernels/adam.cpp — CPU twin of the fused Adam update (threads over index ranges).
#include "kernels/adam.hpp"

#include <cmath>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {

template <class T>
void adam_update_cpu(T* p, const T* g, T* m, T* v, int64_t n, const AdamScalars& s) {
  const T b1 = T(s.beta1), c1 = T(1.0 - s.beta1), b2 = T(s.beta2), c2 = T(1.0 - s.beta2),
          eps = T(s.eps), wd = T(s.weight_decay), step = T(s.step_size),
          isb = T(s.inv_sqrt_bc2), gs = T(s.grad_scale);
  const bool decay = s.weight_decay != 0.0, scaled = s.grad_scale != 1.0;
  core::parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    T* __restrict pr = p;
    const T* __restrict gr = g;
    T* __restrict mr = m;
    T* __restrict vr = v;
    for (int64_t i = b; i < e; ++i) {
      // One rounding per operation, as the tensor ops (this file is built for the baseline
      // instruction set, which has no fused multiply-add to contract into).
      T gi = gr[i];
      if (scaled) gi = gi * gs;
      if (decay) {
        const T d = pr[i] * wd;
        gi = gi + d;
      }
      const T m1 = mr[i] * b1, m2 = gi * c1;
      const T mi = m1 + m2;
      const T sq = gi * gi;
      const T v1 = vr[i] * b2, v2 = sq * c2;
      const T vi = v1 + v2;
      const T sd = std::sqrt(vi) * isb;
      const T denom = sd + eps;
      const T upd = (mi / denom) * step;
      mr[i] = mi;
      vr[i] = vi;
      pr[i] = pr[i] - upd;
    }
  });
}

template void adam_update_cpu<float>(float*, const float*, float*, float*, int64_t,
                                     const AdamScalars&);
template void adam_update_cpu<double>(double*, const double*, double*, double*, int64_t,
                                      const AdamScalars&);

}  // namespace lensflow::kernels
