// autodiff/ops_update.cpp — in-place parameter updates (optimizer steps), outside autograd.
#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "kernels/adam.hpp"

namespace lensflow::ad {

void adam_update(Tensor p, const Tensor& g, Tensor m, Tensor v, double beta1, double beta2,
                 double eps, double weight_decay, double step_size, double inv_sqrt_bc2,
                 double grad_scale) {
  check_same("adam_update", {&p, &g, &m, &v});
  if (g.shape() != p.shape() || m.shape() != p.shape() || v.shape() != p.shape())
    shape_error("adam_update", "gradient and moments must have the parameter's shape",
                {&p, &g, &m, &v});
  const kernels::AdamScalars s{beta1, beta2, eps, weight_decay, step_size, inv_sqrt_bc2, grad_scale};
  on_device(p, [&] {
    kernels::adam_update_cuda(p.data<float>(), g.data<float>(), m.data<float>(),
                              v.data<float>(), p.numel(), s);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::adam_update_cpu<T>(p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), p.numel(),
                                s);
  });
}

}  // namespace lensflow::ad
