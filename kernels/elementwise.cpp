// kernels/elementwise.cpp — CPU twins of the elementwise kernels (threads over index ranges).
#include "kernels/elementwise.hpp"

#include <algorithm>
#include <type_traits>

#include "core/thread_pool.hpp"
#include "kernels/elementwise_math.hpp"

namespace lensflow::kernels {
namespace {
constexpr int64_t kGrain = 1 << 15;

// Walks output elements [s, e) of an n-dim index space, calling run(i, offs, len, steps) for each
// stretch along the last dim: output i..i+len, source offsets start at offs[] and advance by
// steps[] per element. Coordinates are decoded once per chunk (an odometer instead of a div/mod
// per element).
template <int kSources, class Run>
void walk(int ndim, const int64_t* shape, const int64_t* const* strides, int64_t s, int64_t e,
          Run&& run) {
  if (ndim == 0) {
    int64_t offs[kSources] = {};
    int64_t steps[kSources] = {};
    if (s < e) run(s, offs, e - s, steps);
    return;
  }
  int64_t coord[kMaxDims];
  int64_t rem = s;
  for (int k = ndim - 1; k >= 0; --k) {
    coord[k] = rem % shape[k];
    rem /= shape[k];
  }
  const int last = ndim - 1;
  int64_t steps[kSources];
  for (int q = 0; q < kSources; ++q) steps[q] = strides[q][last];
  int64_t i = s;
  while (i < e) {
    int64_t offs[kSources];
    for (int q = 0; q < kSources; ++q) {
      int64_t o = 0;
      for (int k = 0; k < ndim; ++k) o += coord[k] * strides[q][k];
      offs[q] = o;
    }
    const int64_t len = std::min<int64_t>(shape[last] - coord[last], e - i);
    run(i, offs, len, steps);
    i += len;
    coord[last] += len;
    for (int k = last; k > 0 && coord[k] >= shape[k]; --k) {
      coord[k] = 0;
      ++coord[k - 1];
    }
  }
}
}  // namespace

// Calls f(std::integral_constant<Unary, OP>{}) for the runtime op, so that each loop body is
// compiled for one op (the switch in unary_value folds away and simple ops vectorise).
template <class F>
void with_unary(Unary op, F&& f) {
  switch (op) {
#define LF_CASE(OP) \
  case Unary::OP:   \
    return f(std::integral_constant<Unary, Unary::OP>{});
    // clang-format off
    LF_CASE(Neg) LF_CASE(Exp) LF_CASE(Log) LF_CASE(Sqrt) LF_CASE(Square) LF_CASE(Relu)
    LF_CASE(Tanh) LF_CASE(Sigmoid) LF_CASE(Softplus) LF_CASE(Clamp) LF_CASE(AddScalar)
    LF_CASE(MulScalar) LF_CASE(RSubScalar) LF_CASE(RDivScalar)
    // clang-format on
#undef LF_CASE
  }
}
template <class F>
void with_binary(Binary op, F&& f) {
  switch (op) {
    case Binary::Add:
      return f(std::integral_constant<Binary, Binary::Add>{});
    case Binary::Sub:
      return f(std::integral_constant<Binary, Binary::Sub>{});
    case Binary::Mul:
      return f(std::integral_constant<Binary, Binary::Mul>{});
    case Binary::Div:
      return f(std::integral_constant<Binary, Binary::Div>{});
  }
}

template <class T>
void unary_cpu(Unary op, const T* x, T* y, int64_t n, double a, double b) {
  const T ta = T(a), tb = T(b);
  with_unary(op, [&](auto opc) {
    core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      // __restrict: outputs never alias inputs here, which lets the loop vectorise (branch-free
      // compares for relu/clamp instead of a mispredicted branch per element).
      const T* __restrict xr = x;
      T* __restrict yr = y;
      for (int64_t i = s; i < e; ++i) yr[i] = unary_value<T>(opc.value, xr[i], ta, tb);
    });
  });
}

template <class T>
void unary_backward_cpu(Unary op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a,
                        double b) {
  const T ta = T(a), tb = T(b);
  with_unary(op, [&](auto opc) {
    core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      const T* __restrict xr = x;
      const T* __restrict yr = y;
      const T* __restrict gyr = gy;
      T* __restrict gxr = gx;
      for (int64_t i = s; i < e; ++i)
        gxr[i] = unary_grad<T>(opc.value, xr[i], yr[i], gyr[i], ta, tb);
    });
  });
}

template <class T>
void binary_cpu(Binary op, const T* a, const T* b, T* y, const BroadcastIndex& ix, int64_t n,
                bool same_shape) {
  with_binary(op, [&](auto opc) {
    constexpr Binary kOp = decltype(opc)::value;
    core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      if (same_shape) {
        for (int64_t i = s; i < e; ++i) y[i] = binary_value<T>(kOp, a[i], b[i]);
        return;
      }
      const int64_t* strides[2] = {ix.a_stride, ix.b_stride};
      walk<2>(ix.ndim, ix.shape, strides, s, e,
              [&](int64_t i, const int64_t* off, int64_t len, const int64_t* step) {
                const T* pa = a + off[0];
                const T* pb = b + off[1];
                T* py = y + i;
                const int64_t sa = step[0], sb = step[1];
                if (sa == 1 && sb == 1) {
                  for (int64_t j = 0; j < len; ++j) py[j] = binary_value<T>(kOp, pa[j], pb[j]);
                } else if (sa == 1 && sb == 0) {
                  const T vb = *pb;
                  for (int64_t j = 0; j < len; ++j) py[j] = binary_value<T>(kOp, pa[j], vb);
                } else if (sa == 0 && sb == 1) {
                  const T va = *pa;
                  for (int64_t j = 0; j < len; ++j) py[j] = binary_value<T>(kOp, va, pb[j]);
                } else {
                  for (int64_t j = 0; j < len; ++j)
                    py[j] = binary_value<T>(kOp, pa[j * sa], pb[j * sb]);
                }
              });
    });
  });
}

template <class T>
void strided_copy_cpu(const T* x, T* y, const StridedIndex& ix, int64_t n) {
  core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    const int64_t* strides[1] = {ix.stride};
    walk<1>(ix.ndim, ix.shape, strides, s, e,
            [&](int64_t i, const int64_t* off, int64_t len, const int64_t* step) {
              const T* px = x + off[0];
              T* py = y + i;
              const int64_t st = step[0];
              if (st == 0) {
                std::fill(py, py + len, *px);
              } else if (st == 1) {
                std::copy(px, px + len, py);
              } else {
                for (int64_t j = 0; j < len; ++j) py[j] = px[j * st];
              }
            });
  });
}

template <class T>
void fill_cpu(T* y, int64_t n, double value) {
  const T v = T(value);
  core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = v;
  });
}

void cast_cpu(const float* x, double* y, int64_t n) {
  core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = x[i];
  });
}
void cast_cpu(const double* x, float* y, int64_t n) {
  core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = static_cast<float>(x[i]);
  });
}

template <class T>
void add_inplace_cpu(T* y, const T* x, int64_t n) {
  core::parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] += x[i];
  });
}

#define LF_INSTANTIATE(T)                                                                       \
  template void unary_cpu<T>(Unary, const T*, T*, int64_t, double, double);                     \
  template void unary_backward_cpu<T>(Unary, const T*, const T*, const T*, T*, int64_t, double, \
                                      double);                                                  \
  template void binary_cpu<T>(Binary, const T*, const T*, T*, const BroadcastIndex&, int64_t,   \
                              bool);                                                            \
  template void strided_copy_cpu<T>(const T*, T*, const StridedIndex&, int64_t);                \
  template void fill_cpu<T>(T*, int64_t, double);                                               \
  template void add_inplace_cpu<T>(T*, const T*, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
