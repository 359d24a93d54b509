// kernels/elementwise.cpp — CPU twins of the elementwise kernels (threads over index ranges).
#include "kernels/elementwise.hpp"

#include "kernels/elementwise_math.hpp"
#include "kernels/thread_pool.hpp"

namespace lensflow::kernels {
namespace {
constexpr int64_t kGrain = 1 << 15;
}

template <class T> void unary_cpu(Unary op, const T* x, T* y, int64_t n, double a, double b) {
  const T ta = T(a), tb = T(b);
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = unary_value<T>(op, x[i], ta, tb);
  });
}

template <class T>
void unary_backward_cpu(Unary op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a,
                        double b) {
  const T ta = T(a), tb = T(b);
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) gx[i] = gy[i] * unary_derivative<T>(op, x[i], y[i], ta, tb);
  });
}

template <class T>
void binary_cpu(Binary op, const T* a, const T* b, T* y, const BroadcastIndex& ix, int64_t n,
                bool same_shape) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    if (same_shape) {
      for (int64_t i = s; i < e; ++i) y[i] = binary_value<T>(op, a[i], b[i]);
      return;
    }
    for (int64_t i = s; i < e; ++i) {
      int64_t oa, ob;
      broadcast_offsets(ix, i, oa, ob);
      y[i] = binary_value<T>(op, a[oa], b[ob]);
    }
  });
}

template <class T> void strided_copy_cpu(const T* x, T* y, const StridedIndex& ix, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = x[strided_offset(ix, i)];
  });
}

template <class T> void fill_cpu(T* y, int64_t n, double value) {
  const T v = T(value);
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = v;
  });
}

void cast_cpu(const float* x, double* y, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = x[i];
  });
}
void cast_cpu(const double* x, float* y, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = static_cast<float>(x[i]);
  });
}

template <class T> void add_inplace_cpu(T* y, const T* x, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] += x[i];
  });
}

#define LF_INSTANTIATE(T)                                                                      \
  template void unary_cpu<T>(Unary, const T*, T*, int64_t, double, double);                    \
  template void unary_backward_cpu<T>(Unary, const T*, const T*, const T*, T*, int64_t, double, \
                                      double);                                                 \
  template void binary_cpu<T>(Binary, const T*, const T*, T*, const BroadcastIndex&, int64_t,  \
                              bool);                                                           \
  template void strided_copy_cpu<T>(const T*, T*, const StridedIndex&, int64_t);              \
  template void fill_cpu<T>(T*, int64_t, double);                                              \
  template void add_inplace_cpu<T>(T*, const T*, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
