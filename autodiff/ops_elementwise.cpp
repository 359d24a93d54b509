// autodiff/ops_elementwise.cpp — unary maps, broadcasting binaries, scalar forms, operators.
#include <stdexcept>

#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/elementwise.hpp"

namespace lensflow::ad {

using kernels::Binary;
using kernels::Unary;

namespace {

Tensor unary(const char* name, Unary op, const Tensor& a, double p = 0, double q = 0) {
  check_same(name, {&a});
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  const int64_t n = a.numel();
  on_device(a, [&] {
    kernels::unary_cuda(op, a.data<float>(), y.data<float>(), n, p, q);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::unary_cpu<T>(op, a.data<T>(), y.data<T>(), n, p, q);
  });
  if (!needs_grad({a})) return y;
  const Tensor xs = a.detach(), ys = y.detach();
  return record(y, name, {a}, [=](const Tensor& g) {
    Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
    on_device(xs, [&] {
      kernels::unary_backward_cuda(op, xs.data<float>(), ys.data<float>(), g.data<float>(),
                                   gx.data<float>(), n, p, q);
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::unary_backward_cpu<T>(op, xs.data<T>(), ys.data<T>(), g.data<T>(), gx.data<T>(),
                                     n, p, q);
    });
    return std::vector<Tensor>{gx};
  });
}

kernels::BroadcastIndex broadcast_index(const Shape& out, const Shape& a, const Shape& b) {
  kernels::BroadcastIndex ix;
  ix.ndim = int(out.size());
  int64_t sa = 1, sb = 1;
  for (int k = ix.ndim - 1; k >= 0; --k) {
    const int ka = k - (ix.ndim - int(a.size())), kb = k - (ix.ndim - int(b.size()));
    const int64_t da = ka >= 0 ? a[size_t(ka)] : 1, db = kb >= 0 ? b[size_t(kb)] : 1;
    ix.shape[k] = out[size_t(k)];
    ix.a_stride[k] = da == 1 ? 0 : sa;
    ix.b_stride[k] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  return ix;
}

Tensor binary_raw(const char* name, Binary op, const Tensor& a, const Tensor& b) {
  check_same(name, {&a, &b});
  const Shape out = broadcast_shapes(name, a, b);
  if (out.size() > size_t(kernels::kMaxDims))
    shape_error(name, "more than 8 dims", {&a, &b});
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  const bool same = a.shape() == b.shape();
  const kernels::BroadcastIndex ix = broadcast_index(out, a.shape(), b.shape());
  const int64_t n = y.numel();
  on_device(a, [&] {
    kernels::binary_cuda(op, a.data<float>(), b.data<float>(), y.data<float>(), ix, n,
                         same);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::binary_cpu<T>(op, a.data<T>(), b.data<T>(), y.data<T>(), ix, n, same);
  });
  return y;
}

}  // namespace

Shape broadcast_shapes(const char* op, const Tensor& a, const Tensor& b) {
  const Shape &sa = a.shape(), &sb = b.shape();
  const size_t n = std::max(sa.size(), sb.size());
  Shape out(n);
  for (size_t k = 0; k < n; ++k) {
    const int64_t da = k + sa.size() >= n ? sa[k + sa.size() - n] : 1;
    const int64_t db = k + sb.size() >= n ? sb[k + sb.size() - n] : 1;
    if (da != db && da != 1 && db != 1) shape_error(op, "shapes do not broadcast", {&a, &b});
    out[k] = da == 1 ? db : da;
  }
  return out;
}

Tensor expand(const Tensor& a, const Shape& shape) {
  check_same("expand", {&a});
  if (a.shape() == shape) return a;
  const Tensor probe = Tensor::empty(shape, a.dtype(), a.device());
  if (broadcast_shapes("expand", a, probe) != shape)
    shape_error("expand", "cannot expand to " + to_string(shape), {&a});
  kernels::StridedIndex ix;
  const kernels::BroadcastIndex b = broadcast_index(shape, a.shape(), shape);
  ix.ndim = b.ndim;
  for (int k = 0; k < b.ndim; ++k) {
    ix.shape[k] = b.shape[k];
    ix.stride[k] = b.a_stride[k];
  }
  Tensor y = probe;
  const int64_t n = y.numel();
  on_device(a, [&] {
    kernels::strided_copy_cuda(a.data<float>(), y.data<float>(), ix, n);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::strided_copy_cpu<T>(a.data<T>(), y.data<T>(), ix, n);
  });
  const Shape from = a.shape();
  return record(y, "expand", {a},
                [from](const Tensor& g) { return std::vector<Tensor>{sum_to(g, from)}; });
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor r = g;
  const int lead = r.ndim() - int(shape.size());
  if (lead < 0) shape_error("sum_to", "target " + to_string(shape) + " has more dims", {&g});
  if (lead > 0) {
    Shape s{-1};
    s.insert(s.end(), r.shape().begin() + lead, r.shape().end());
    r = sum(r.reshape(s), 0);
  }
  for (size_t k = 0; k < shape.size(); ++k)
    if (shape[k] == 1 && r.shape()[k] != 1) r = sum(r, int(k), true);
  if (r.shape() != shape) shape_error("sum_to", "cannot reduce to " + to_string(shape), {&g});
  return r;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw("add", Binary::Add, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  return record(y, "add", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw("sub", Binary::Sub, a, b);
  const Shape sa = a.shape(), sb = b.shape();
  return record(y, "sub", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), neg(sum_to(g, sb))};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw("mul", Binary::Mul, a, b);
  if (!needs_grad({a, b})) return y;
  const Tensor ad = a.detach(), bd = b.detach();
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(y, "mul", {a, b}, [=](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(mul(g, bd), ad.shape()) : Tensor(),
                               gb ? sum_to(mul(g, ad), bd.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw("div", Binary::Div, a, b);
  if (!needs_grad({a, b})) return y;
  const Tensor bd = b.detach(), yd = y.detach();
  const Shape sa = a.shape();
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(y, "div", {a, b}, [=](const Tensor& g) {
    // d(a/b)/da = 1/b, d(a/b)/db = -y/b.
    const Tensor gab = div(g, bd);
    return std::vector<Tensor>{ga ? sum_to(gab, sa) : Tensor(),
                               gb ? neg(sum_to(mul(gab, yd), bd.shape())) : Tensor()};
  });
}

Tensor add(const Tensor& a, double s) { return unary("add_scalar", Unary::AddScalar, a, s); }
Tensor mul(const Tensor& a, double s) { return unary("mul_scalar", Unary::MulScalar, a, s); }
Tensor rsub(double s, const Tensor& a) { return unary("rsub_scalar", Unary::RSubScalar, a, s); }
Tensor rdiv(double s, const Tensor& a) { return unary("rdiv_scalar", Unary::RDivScalar, a, s); }

Tensor neg(const Tensor& a) { return unary("neg", Unary::Neg, a); }
Tensor exp(const Tensor& a) { return unary("exp", Unary::Exp, a); }
Tensor log(const Tensor& a) { return unary("log", Unary::Log, a); }
Tensor sqrt(const Tensor& a) { return unary("sqrt", Unary::Sqrt, a); }
Tensor square(const Tensor& a) { return unary("square", Unary::Square, a); }
Tensor relu(const Tensor& a) { return unary("relu", Unary::Relu, a); }
Tensor tanh(const Tensor& a) { return unary("tanh", Unary::Tanh, a); }
Tensor sigmoid(const Tensor& a) { return unary("sigmoid", Unary::Sigmoid, a); }
Tensor softplus(const Tensor& a) { return unary("softplus", Unary::Softplus, a); }
Tensor clamp(const Tensor& a, double lo, double hi) {
  if (!(lo <= hi)) throw std::invalid_argument("clamp: need lo <= hi");
  return unary("clamp", Unary::Clamp, a, lo, hi);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
Tensor operator-(double s, const Tensor& a) { return rsub(s, a); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
Tensor operator/(double s, const Tensor& a) { return rdiv(s, a); }

}  // namespace lensflow::ad
