// kernels/conv_ln_rows.hpp — the row-wise parts of the fused convolution (kernels/conv_ln.cpp),
// internal to it: the forward epilogue (bias, layer norm, residual, ReLU) and the backward
// prologue (ReLU mask, layer-norm adjoint, parameter partial sums) on a tile of rows in cache.
//
// Row sums (mean, variance, the adjoint's two dot products) run in one fixed order whatever the
// code path: 8 interleaved partial sums (element c goes to lane c % 8, in increasing c), then a
// fixed tree over the lanes. The float rows of 8k channels use GCC vector types (8 floats: one
// AVX register, two SSE ones) in that same order; other widths and doubles use plain loops.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__)
// 32-byte vectors pass only between always-inlined helpers. Left on for the including file
// (conv_ln.cpp alone): GCC reports this at the end of the translation unit.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace lensflow::kernels::conv_rows {

constexpr int kLanes = 8;
template <class T> inline T lanes_total(const T* acc) {
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}
template <class T, class F> inline T row_sum(int64_t C, F f) {
  T acc[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= C; c += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += f(c + j);
  for (int j = 0; c + j < C; ++j) acc[j] += f(c + j);
  return lanes_total(acc);
}

// ---- plain loops: any width, float or double ----

// z[i, :] = a[i*lda .. i*lda + KC) w (w [KC, C]), summed over j in order: the direct
// convolution, on im2col rows (lda = KC) or on a zero-padded run of input rows, where row i's
// window of K rows starts at row i (lda = Cin).
template <class T>
void direct_rows(int64_t n, int64_t KC, int64_t lda, int64_t C, const T* a, const T* w, T* z) {
  for (int64_t i = 0; i < n; ++i) {
    T* zr = z + i * C;
    const T* ar = a + i * lda;
    for (int64_t c = 0; c < C; ++c) zr[c] = ar[0] * w[c];
    for (int64_t j = 1; j < KC; ++j)
      for (int64_t c = 0; c < C; ++c) zr[c] += ar[j] * w[j * C + c];
  }
}

// pw[j, :] += sum_i a[i*lda + j] gz[i, :] (the weight gradient of direct_rows), summed over i in
// order.
template <class T>
void direct_grad_rows(int64_t n, int64_t KC, int64_t lda, int64_t C, const T* a, const T* gz,
                      T* pw) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < KC; ++j)
      for (int64_t c = 0; c < C; ++c) pw[j * C + c] += a[i * lda + j] * gz[i * C + c];
}

// Forward epilogue on n rows. z holds the bare convolution and gets the bias; with gamma the
// normalised rows go to y (statistics to mean/rstd), else y is z. Then + res, then ReLU.
template <class T>
void finish_rows(int64_t n, int64_t C, T* z, const T* b, const T* gamma, const T* beta,
                 const T* res, bool relu, T eps, T* mean, T* rstd, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    T* zr = z + i * C;
    T* yr = y + i * C;
    if (b)
      for (int64_t c = 0; c < C; ++c) zr[c] += b[c];
    if (gamma) {
      const T m = row_sum<T>(C, [&](int64_t c) { return zr[c]; }) / T(C);
      const T v = row_sum<T>(C, [&](int64_t c) { return (zr[c] - m) * (zr[c] - m); }) / T(C);
      const T rs = T(1) / std::sqrt(v + eps);
      mean[i] = m;
      rstd[i] = rs;
      for (int64_t c = 0; c < C; ++c) yr[c] = (zr[c] - m) * rs * gamma[c] + beta[c];
    }
    if (res)
      for (int64_t c = 0; c < C; ++c) yr[c] += res[i * C + c];
    if (relu)
      for (int64_t c = 0; c < C; ++c) yr[c] = yr[c] > T(0) ? yr[c] : T(0);
  }
}

// Backward prologue on n rows: o = dL/dz from gy through the ReLU mask (y > 0) and the norm's
// adjoint. Rows own0 <= i < own1 also copy dL/d(pre-activation) to gres (when given) and add to
// the partial sums pb (bias), pg (gamma), pbeta (beta).
template <class T>
void grad_rows(int64_t n, int64_t own0, int64_t own1, int64_t C, const T* gy, const T* y,
               const T* z, const T* mean, const T* rstd, const T* gamma, bool relu, T* o, T* gres,
               T* pb, T* pg, T* pbeta) {
  for (int64_t i = 0; i < n; ++i) {
    const bool own = i >= own0 && i < own1;
    const T* g = gy + i * C;
    T* orow = o + i * C;
    for (int64_t c = 0; c < C; ++c) orow[c] = relu && !(y[i * C + c] > T(0)) ? T(0) : g[c];
    if (own && gres) std::memcpy(gres + i * C, orow, sizeof(T) * size_t(C));
    if (gamma) {
      const T* zr = z + i * C;
      const T m = mean[i], rs = rstd[i];
      const T a = row_sum<T>(C, [&](int64_t c) { return orow[c] * gamma[c]; }) / T(C);
      const T s =
          row_sum<T>(C, [&](int64_t c) { return orow[c] * gamma[c] * ((zr[c] - m) * rs); }) / T(C);
      if (own)
        for (int64_t c = 0; c < C; ++c) {
          pg[c] += orow[c] * ((zr[c] - m) * rs);
          pbeta[c] += orow[c];
        }
      for (int64_t c = 0; c < C; ++c)
        orow[c] = rs * (orow[c] * gamma[c] - a - (zr[c] - m) * rs * s);
    }
    if (own)
      for (int64_t c = 0; c < C; ++c) pb[c] += orow[c];
  }
}

// ---- float rows of V * 8 channels in GCC vectors (the same operations in the same order) ----

using v8f = float __attribute__((vector_size(32)));
#define LF_VEC_INLINE inline __attribute__((always_inline))
LF_VEC_INLINE v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
LF_VEC_INLINE void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
using v8i = int __attribute__((vector_size(32)));
#if defined(__clang__)
#define LF_SHUFFLE8(a, ...) __builtin_shufflevector(a, a, __VA_ARGS__)
#else
#define LF_SHUFFLE8(a, ...) __builtin_shuffle(a, v8i{__VA_ARGS__})
#endif
// The lanes' total in lanes_total's order ((0+4)+(2+6)) + ((1+5)+(3+7)), in every lane (three
// shuffle-adds, no scalar extraction).
LF_VEC_INLINE v8f total8(v8f a) {
  const v8f s1 = a + LF_SHUFFLE8(a, 4, 5, 6, 7, 0, 1, 2, 3);
  const v8f s2 = s1 + LF_SHUFFLE8(s1, 2, 3, 0, 1, 6, 7, 4, 5);
  return s2 + LF_SHUFFLE8(s2, 1, 0, 3, 2, 5, 4, 7, 6);
}
#undef LF_SHUFFLE8
LF_VEC_INLINE v8f relu8(v8f a) { return a > 0.0f ? a : v8f{}; }

// direct_rows for C = 8V, R rows at a time (each weight vector loaded once for R rows).
template <int V, int R>
LF_VEC_INLINE void direct_rows_block(int64_t KC, int64_t lda, const float* a, const float* w,
                                     float* z) {
  constexpr int C = 8 * V;
  v8f acc[R][V];
  for (int v = 0; v < V; ++v) {
    const v8f wv = load8(w + 8 * v);
    for (int r = 0; r < R; ++r) acc[r][v] = a[r * lda] * wv;
  }
  for (int64_t j = 1; j < KC; ++j)
    for (int v = 0; v < V; ++v) {
      const v8f wv = load8(w + j * C + 8 * v);
      for (int r = 0; r < R; ++r) acc[r][v] += a[r * lda + j] * wv;
    }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store8(z + r * C + 8 * v, acc[r][v]);
}

template <int V>
LF_VEC_INLINE void direct_rows_v(int64_t n, int64_t KC, int64_t lda, const float* a,
                                 const float* w, float* z) {
  constexpr int C = 8 * V, R = V >= 4 ? 2 : 4;  // R * V accumulators fit the registers
  int64_t i = 0;
  for (; i + R <= n; i += R) direct_rows_block<V, R>(KC, lda, a + i * lda, w, z + i * C);
  for (; i < n; ++i) direct_rows_block<V, 1>(KC, lda, a + i * lda, w, z + i * C);
}

// direct_grad_rows for C = 8V: J weight rows' sums held in registers across the n rows.
template <int V>
LF_VEC_INLINE void direct_grad_rows_v(int64_t n, int64_t KC, int64_t lda, const float* a,
                                      const float* gz, float* pw) {
  constexpr int C = 8 * V, J = V >= 2 ? 4 : 8;
  int64_t j0 = 0;
  for (; j0 + J <= KC; j0 += J) {
    v8f acc[J][V];
    for (int jj = 0; jj < J; ++jj)
      for (int v = 0; v < V; ++v) acc[jj][v] = load8(pw + (j0 + jj) * C + 8 * v);
    for (int64_t i = 0; i < n; ++i)
      for (int v = 0; v < V; ++v) {
        const v8f g = load8(gz + i * C + 8 * v);
        for (int jj = 0; jj < J; ++jj) acc[jj][v] += a[i * lda + j0 + jj] * g;
      }
    for (int jj = 0; jj < J; ++jj)
      for (int v = 0; v < V; ++v) store8(pw + (j0 + jj) * C + 8 * v, acc[jj][v]);
  }
  for (; j0 < KC; ++j0) {
    v8f acc[V];
    for (int v = 0; v < V; ++v) acc[v] = load8(pw + j0 * C + 8 * v);
    for (int64_t i = 0; i < n; ++i)
      for (int v = 0; v < V; ++v) acc[v] += a[i * lda + j0] * load8(gz + i * C + 8 * v);
    for (int v = 0; v < V; ++v) store8(pw + j0 * C + 8 * v, acc[v]);
  }
}

template <int V>
LF_VEC_INLINE void finish_rows_v(int64_t n, float* z, const float* b, const float* gamma,
                                 const float* beta, const float* res, bool relu, float eps,
                                 float* mean, float* rstd, float* y) {
  constexpr int C = 8 * V;
  for (int64_t i = 0; i < n; ++i) {
    float* zr = z + i * C;
    v8f t[V];
    for (int v = 0; v < V; ++v) t[v] = load8(zr + 8 * v);
    if (b)
      for (int v = 0; v < V; ++v) t[v] += load8(b + 8 * v);
    if (gamma) {
      v8f s = t[0];
      for (int v = 1; v < V; ++v) s += t[v];
      const v8f m = total8(s) / float(C);
      v8f q = (t[0] - m) * (t[0] - m);
      for (int v = 1; v < V; ++v) q += (t[v] - m) * (t[v] - m);
      const float rs = 1.0f / std::sqrt(total8(q)[0] / float(C) + eps);
      mean[i] = m[0];
      rstd[i] = rs;
      for (int v = 0; v < V; ++v) {
        if (b) store8(zr + 8 * v, t[v]);
        t[v] = (t[v] - m) * rs * load8(gamma + 8 * v) + load8(beta + 8 * v);
      }
    }
    if (res)
      for (int v = 0; v < V; ++v) t[v] += load8(res + i * C + 8 * v);
    if (relu)
      for (int v = 0; v < V; ++v) t[v] = relu8(t[v]);
    for (int v = 0; v < V; ++v) store8(y + i * C + 8 * v, t[v]);
  }
}

template <int V>
LF_VEC_INLINE void grad_rows_v(int64_t n, int64_t own0, int64_t own1, const float* gy,
                               const float* y, const float* z, const float* mean,
                               const float* rstd, const float* gamma, bool relu, float* o,
                               float* gres, float* pb, float* pg, float* pbeta) {
  constexpr int C = 8 * V;
  for (int64_t i = 0; i < n; ++i) {
    const bool own = i >= own0 && i < own1;
    v8f t[V];
    for (int v = 0; v < V; ++v) {
      t[v] = load8(gy + i * C + 8 * v);
      if (relu) t[v] = load8(y + i * C + 8 * v) > 0.0f ? t[v] : v8f{};
    }
    if (own && gres)
      for (int v = 0; v < V; ++v) store8(gres + i * C + 8 * v, t[v]);
    if (gamma) {
      const float m = mean[i], rs = rstd[i];
      v8f xh[V], gh[V];
      for (int v = 0; v < V; ++v) {
        xh[v] = (load8(z + i * C + 8 * v) - m) * rs;
        gh[v] = t[v] * load8(gamma + 8 * v);
      }
      v8f sa = gh[0], ss = gh[0] * xh[0];
      for (int v = 1; v < V; ++v) {
        sa += gh[v];
        ss += gh[v] * xh[v];
      }
      const v8f a = total8(sa) / float(C), s = total8(ss) / float(C);
      if (own)
        for (int v = 0; v < V; ++v) {
          store8(pg + 8 * v, load8(pg + 8 * v) + t[v] * xh[v]);
          store8(pbeta + 8 * v, load8(pbeta + 8 * v) + t[v]);
        }
      for (int v = 0; v < V; ++v) t[v] = rs * (gh[v] - a - xh[v] * s);
    }
    if (own)
      for (int v = 0; v < V; ++v) store8(pb + 8 * v, load8(pb + 8 * v) + t[v]);
    for (int v = 0; v < V; ++v) store8(o + i * C + 8 * v, t[v]);
  }
}
#undef LF_VEC_INLINE

}  // namespace lensflow::kernels::conv_rows
