// autodiff/ops_reduce.cpp — sums, means, logsumexp and softmax along an axis.
#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/reduce.hpp"

namespace lensflow::ad {

using kernels::Reduce;

namespace {

struct AxisView {
  int axis;
  int64_t outer, n, inner;
  Shape kept, dropped;  // output shapes with keepdim true / false
};

AxisView view_of(const char* op, const Tensor& a, int axis) {
  check_same(op, {&a});
  AxisView v;
  v.axis = normalize_axis(op, axis, a.ndim());
  const Shape& s = a.shape();
  v.outer = prod(s, 0, v.axis);
  v.n = s[size_t(v.axis)];
  v.inner = prod(s, v.axis + 1, a.ndim());
  v.kept = s;
  v.kept[size_t(v.axis)] = 1;
  v.dropped = s;
  v.dropped.erase(v.dropped.begin() + v.axis);
  return v;
}

Tensor reduce_raw(Reduce op, const Tensor& a, const AxisView& v) {
  Tensor y = Tensor::empty(v.kept, a.dtype(), a.device());
  on_device(a, [&] {
    kernels::reduce_cuda(op, a.data<float>(), y.data<float>(), v.outer, v.n, v.inner);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::reduce_cpu<T>(op, a.data<T>(), y.data<T>(), v.outer, v.n, v.inner);
  });
  return y;
}

Tensor softmax_impl(const char* name, bool log, const Tensor& a, int axis) {
  const AxisView v = view_of(name, a, axis);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  on_device(a, [&] {
    kernels::softmax_cuda(log, a.data<float>(), y.data<float>(), v.outer, v.n, v.inner);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::softmax_cpu<T>(log, a.data<T>(), y.data<T>(), v.outer, v.n, v.inner);
  });
  if (!needs_grad({a})) return y;
  const Tensor ys = y.detach();
  return record(y, name, {a}, [=](const Tensor& g) {
    Tensor gx = Tensor::empty(ys.shape(), ys.dtype(), ys.device());
    on_device(ys, [&] {
      kernels::softmax_backward_cuda(log, ys.data<float>(), g.data<float>(),
                                     gx.data<float>(), v.outer, v.n, v.inner);
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::softmax_backward_cpu<T>(log, ys.data<T>(), g.data<T>(), gx.data<T>(), v.outer,
                                       v.n, v.inner);
    });
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor sum(const Tensor& a, int axis, bool keepdim) {
  const AxisView v = view_of("sum", a, axis);
  Tensor y = reduce_raw(Reduce::Sum, a, v);
  if (!keepdim) y = y.detach().reshape(v.dropped);
  const Shape from = a.shape(), kept = v.kept;
  return record(y, "sum", {a}, [from, kept](const Tensor& g) {
    return std::vector<Tensor>{expand(g.reshape(kept), from)};
  });
}

Tensor sum(const Tensor& a) {
  check_same("sum", {&a});
  return sum(a.reshape({-1}), 0, false);
}

Tensor sum_squares(const Tensor& a) {
  check_same("sum_squares", {&a});
  const Tensor flat = a.reshape({-1});
  const AxisView v = view_of("sum_squares", flat, 0);
  const Tensor y = reduce_raw(Reduce::SumSquares, flat, v).detach().reshape({});
  const Tensor xs = a.detach();
  return record(y, "sum_squares", {a}, [xs](const Tensor& g) {
    return std::vector<Tensor>{mul(xs, mul(g, 2.0))};
  });
}

Tensor mean(const Tensor& a, int axis, bool keepdim) {
  const int64_t n = a.dim(axis);
  return mul(sum(a, axis, keepdim), 1.0 / double(n));
}

Tensor mean(const Tensor& a) {
  check_same("mean", {&a});
  return mul(sum(a), 1.0 / double(a.numel()));
}

Tensor logsumexp(const Tensor& a, int axis, bool keepdim) {
  const AxisView v = view_of("logsumexp", a, axis);
  Tensor y = reduce_raw(Reduce::LogSumExp, a, v);
  const Tensor xs = a.detach(), yk = y.detach();
  if (!keepdim) y = y.detach().reshape(v.dropped);
  const Shape kept = v.kept;
  return record(y, "logsumexp", {a}, [=](const Tensor& g) {
    // d lse / d x_j = exp(x_j - lse)
    const Tensor w = exp(sub(xs, yk));
    return std::vector<Tensor>{mul(w, g.reshape(kept))};
  });
}

Tensor log_softmax(const Tensor& a, int axis) { return softmax_impl("log_softmax", true, a, axis); }
Tensor softmax(const Tensor& a, int axis) { return softmax_impl("softmax", false, a, axis); }

}  // namespace lensflow::ad
