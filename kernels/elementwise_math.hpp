// kernels/elementwise_math.hpp — the scalar formulas shared by the CPU and CUDA elementwise kernels
// (one definition, so the twins cannot drift).
#pragma once

#include <cmath>

#include "core/hd.hpp"
#include "kernels/elementwise.hpp"

// Host side always inlined: the per-op CPU loops rely on the op switch folding away (a call per
// element with a switch inside is ~10x slower for relu/clamp on random data).
#if defined(__CUDACC__)
#define LF_OP_HD LENSFLOW_HD
#else
#define LF_OP_HD inline __attribute__((always_inline))
#endif

namespace lensflow::kernels {

// Precision-matched math: expf/logf/... for float, exp/log/... for double, on host and device.
#define LF_MATH(name, fname)                                        \
  LENSFLOW_HD float m_##name(float x) { return ::fname(x); }        \
  LENSFLOW_HD double m_##name(double x) { return ::name(x); }
LF_MATH(exp, expf)
LF_MATH(log, logf)
LF_MATH(log1p, log1pf)
LF_MATH(sqrt, sqrtf)
LF_MATH(tanh, tanhf)
LF_MATH(fabs, fabsf)
#undef LF_MATH

template <class T> LF_OP_HD T softplus_value(T x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}): no overflow for large |x|.
  return (x > T(0) ? x : T(0)) + m_log1p(m_exp(-m_fabs(x)));
}
template <class T> LF_OP_HD T sigmoid_value(T x) {
  if (x >= T(0)) return T(1) / (T(1) + m_exp(-x));
  const T e = m_exp(x);
  return e / (T(1) + e);
}

template <class T> LF_OP_HD T unary_value(Unary op, T x, T a, T b) {
  switch (op) {
    case Unary::Neg: return -x;
    case Unary::Exp: return m_exp(x);
    case Unary::Log: return m_log(x);
    case Unary::Sqrt: return m_sqrt(x);
    case Unary::Square: return x * x;
    case Unary::Relu: return x > T(0) ? x : T(0);
    case Unary::Tanh: return m_tanh(x);
    case Unary::Sigmoid: return sigmoid_value(x);
    case Unary::Softplus: return softplus_value(x);
    case Unary::Clamp: return x < a ? a : (x > b ? b : x);
    case Unary::AddScalar: return x + a;
    case Unary::MulScalar: return x * a;
    case Unary::RSubScalar: return a - x;
    case Unary::RDivScalar: return a / x;
  }
  return x;
}

// d f / d x given x and y = f(x).
template <class T> LF_OP_HD T unary_derivative(Unary op, T x, T y, T a, T b) {
  switch (op) {
    case Unary::Neg: return T(-1);
    case Unary::Exp: return y;
    case Unary::Log: return T(1) / x;
    case Unary::Sqrt: return T(0.5) / y;
    case Unary::Square: return T(2) * x;
    case Unary::Relu: return x > T(0) ? T(1) : T(0);
    case Unary::Tanh: return T(1) - y * y;
    case Unary::Sigmoid: return y * (T(1) - y);
    case Unary::Softplus: return sigmoid_value(x);
    case Unary::Clamp: return (x >= a && x <= b) ? T(1) : T(0);
    case Unary::AddScalar: return T(1);
    case Unary::MulScalar: return a;
    case Unary::RSubScalar: return T(-1);
    case Unary::RDivScalar: return -y / x;
  }
  return T(0);
}

// gx = gy * f'(x). Relu and clamp select gy or 0 (a select vectorises; gy * 0-or-1 compiles to a
// mispredicted branch per element, as the compiler keeps the NaN semantics of the product).
template <class T> LF_OP_HD T unary_grad(Unary op, T x, T y, T gy, T a, T b) {
  if (op == Unary::Relu) return x > T(0) ? gy : T(0);
  if (op == Unary::Clamp) return (x >= a && x <= b) ? gy : T(0);
  return gy * unary_derivative(op, x, y, a, b);
}

template <class T> LF_OP_HD T binary_value(Binary op, T a, T b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
  }
  return a;
}

// Source offsets of output element `i` for a broadcasting binary op.
LENSFLOW_HD void broadcast_offsets(const BroadcastIndex& ix, int64_t i, int64_t& oa, int64_t& ob) {
  oa = 0;
  ob = 0;
  for (int k = ix.ndim - 1; k >= 0; --k) {
    const int64_t c = i % ix.shape[k];
    i /= ix.shape[k];
    oa += c * ix.a_stride[k];
    ob += c * ix.b_stride[k];
  }
}
LENSFLOW_HD int64_t strided_offset(const StridedIndex& ix, int64_t i) {
  int64_t o = 0;
  for (int k = ix.ndim - 1; k >= 0; --k) {
    const int64_t c = i % ix.shape[k];
    i /= ix.shape[k];
    o += c * ix.stride[k];
  }
  return o;
}

}  // namespace lensflow::kernels
