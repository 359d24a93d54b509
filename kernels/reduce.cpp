// kernels/reduce.cpp — CPU twins of the axis reductions. Threads split the [outer, inner] outputs;
// for a few outputs over a long axis (e.g. bias gradients) they split the axis and add partials.
#include "kernels/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {
namespace {

// The summand of x for Sum (x) and SumSquares (x * x, rounded to T as a separate square would be).
template <bool Sq, class T> inline T term(T x) {
  if constexpr (Sq) return x * x;
  else return x;
}

// Sum of p[0..n) (or of their squares) with 8 independent accumulators (vectorises; no serial
// dependency chain).
template <bool Sq, class T> T sum_contiguous(const T* p, int64_t n) {
  T a[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int q = 0; q < 8; ++q) a[q] += term<Sq>(p[j + q]);
  T s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  for (; j < n; ++j) s += term<Sq>(p[j]);
  return s;
}

// Sum of x[o, j, i] (or its square) over j in [j0, j1) for i in [0, inner) into acc[0..inner).
template <bool Sq, class T>
void sum_range(const T* x, int64_t o, int64_t n, int64_t inner, int64_t j0, int64_t j1, T* acc) {
  if (inner == 1) {
    acc[0] += sum_contiguous<Sq>(x + o * n + j0, j1 - j0);
    return;
  }
  for (int64_t j = j0; j < j1; ++j) {
    const T* row = x + (o * n + j) * inner;
    for (int64_t i = 0; i < inner; ++i) acc[i] += term<Sq>(row[i]);
  }
}

template <class T>
void sum_range_of(Reduce op, const T* x, int64_t o, int64_t n, int64_t inner, int64_t j0,
                  int64_t j1, T* acc) {
  if (op == Reduce::SumSquares) sum_range<true>(x, o, n, inner, j0, j1, acc);
  else sum_range<false>(x, o, n, inner, j0, j1, acc);
}

template <bool Sq, class T> T sum_strided(const T* p, int64_t n, int64_t inner) {
  if (inner == 1) return sum_contiguous<Sq>(p, n);
  T s = 0;
  for (int64_t j = 0; j < n; ++j) s += term<Sq>(p[j * inner]);
  return s;
}

template <class T>
void reduce_one(Reduce op, const T* x, T* y, int64_t o, int64_t i, int64_t n, int64_t inner) {
  const T* p = x + o * n * inner + i;
  if (op == Reduce::Sum || op == Reduce::SumSquares) {
    y[o * inner + i] = op == Reduce::Sum ? sum_strided<false>(p, n, inner)
                                         : sum_strided<true>(p, n, inner);
    return;
  }
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j * inner]);
  if (op == Reduce::Max) {
    y[o * inner + i] = m;
    return;
  }
  if (std::isinf(m)) {  // all -inf (or +inf present): the value is m itself
    y[o * inner + i] = m;
    return;
  }
  T s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(p[j * inner] - m);
  y[o * inner + i] = m + std::log(s);
}

}  // namespace

template <class T>
void reduce_cpu(Reduce op, const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  const int64_t outputs = outer * inner;
  const bool sum = op == Reduce::Sum || op == Reduce::SumSquares;
  if (sum && outputs < 128 && n >= 4096) {
    // Long axis, few outputs: split the axis into a fixed number of parts (not one per thread:
    // the sum then does not depend on the thread count), sum rows (vectorised over inner), add
    // the partials in order.
    const int64_t parts = std::min<int64_t>(8, n / 1024);
    const int64_t step = (n + parts - 1) / parts;
    std::vector<T> partial(size_t(parts * outer * inner), T(0));
    core::parallel_for(parts, 1, [&](int64_t s, int64_t e) {
      for (int64_t p = s; p < e; ++p)
        for (int64_t o = 0; o < outer; ++o)
          sum_range_of(op, x, o, n, inner, p * step, std::min(n, (p + 1) * step),
                       partial.data() + (p * outer + o) * inner);
    });
    for (int64_t k = 0; k < outputs; ++k) {
      T s = 0;
      for (int64_t p = 0; p < parts; ++p) s += partial[size_t(p * outputs + k)];
      y[k] = s;
    }
    return;
  }
  if (sum && inner > 1) {
    // Row-wise accumulation keeps memory access contiguous.
    core::parallel_for(outer, 1, [&](int64_t s, int64_t e) {
      for (int64_t o = s; o < e; ++o) {
        std::fill(y + o * inner, y + (o + 1) * inner, T(0));
        sum_range_of(op, x, o, n, inner, 0, n, y + o * inner);
      }
    });
    return;
  }
  core::parallel_for(outputs, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
               [&](int64_t s, int64_t e) {
                 for (int64_t k = s; k < e; ++k) reduce_one(op, x, y, k / inner, k % inner, n, inner);
               });
}

template <class T>
void softmax_cpu(bool log, const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  core::parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
               [&](int64_t s, int64_t e) {
                 for (int64_t k = s; k < e; ++k) {
                   const int64_t o = k / inner, i = k % inner;
                   const T* p = x + o * n * inner + i;
                   T* q = y + o * n * inner + i;
                   T m = -std::numeric_limits<T>::infinity();
                   for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j * inner]);
                   T sum = 0;
                   for (int64_t j = 0; j < n; ++j) sum += std::exp(p[j * inner] - m);
                   const T lse = m + std::log(sum);
                   for (int64_t j = 0; j < n; ++j)
                     q[j * inner] = log ? p[j * inner] - lse : std::exp(p[j * inner] - lse);
                 }
               });
}

template <class T>
void softmax_backward_cpu(bool log, const T* y, const T* gy, T* gx, int64_t outer, int64_t n,
                          int64_t inner) {
  core::parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
               [&](int64_t s, int64_t e) {
                 for (int64_t k = s; k < e; ++k) {
                   const int64_t base = (k / inner) * n * inner + k % inner;
                   T dot = 0;
                   for (int64_t j = 0; j < n; ++j) {
                     const int64_t t = base + j * inner;
                     dot += log ? gy[t] : gy[t] * y[t];
                   }
                   for (int64_t j = 0; j < n; ++j) {
                     const int64_t t = base + j * inner;
                     // log_softmax: gx = gy - softmax * sum(gy); softmax: gx = y (gy - <gy, y>)
                     gx[t] = log ? gy[t] - std::exp(y[t]) * dot : y[t] * (gy[t] - dot);
                   }
                 }
               });
}

#define LF_INSTANTIATE(T)                                                                   \
  template void reduce_cpu<T>(Reduce, const T*, T*, int64_t, int64_t, int64_t);             \
  template void softmax_cpu<T>(bool, const T*, T*, int64_t, int64_t, int64_t);              \
  template void softmax_backward_cpu<T>(bool, const T*, const T*, T*, int64_t, int64_t, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
