// kernels/conv_winograd.hpp — Winograd F(2,3) for the 3-tap 'same' convolution over channels
// (internal to kernels/conv_ln.cpp): two output rows from four input rows d0..d3 and the taps
// w0, w1, w2 [Cin, Cout] with four products instead of six,
//   m1 = (d0 - d2) G1,  m2 = (d1 + d2) G2,  m3 = (d2 - d1) G3,  m4 = (d1 - d3) G4,
//   G1 = w0, G2 = (w0 + w1 + w2) / 2, G3 = (w0 - w1 + w2) / 2, G4 = w2,
//   y0 = m1 + m2 + m3,  y1 = m2 - m3 - m4.
// Over a tile each m_i is one GEMM [pairs, Cin] x [Cin, Cout]: 2/3 of the direct multiply-adds.
// The input gradient is the same algorithm on the output gradient with the taps reversed and
// transposed (G4^T, G2^T, G3^T, G1^T); the weight gradient its adjoint: dG_i = U_i^T E_i with
// E1 = g0, E2 = g0 + g1, E3 = g0 - g1, E4 = -g1 (g0, g1 the two rows' output gradients), then
// dw0 = dG1 + (dG2 + dG3) / 2, dw1 = (dG2 - dG3) / 2, dw2 = (dG2 + dG3) / 2 + dG4.
// The sums run in another order than the direct convolution's: equal to float round-off.
#pragma once

#include <cstdint>

namespace lensflow::kernels::winograd {

// Forced inline so that a caller compiled for a wider instruction set (target clones in
// conv_ln.cpp) gets these loops compiled for it too.
#define LF_WINO_INLINE inline __attribute__((always_inline))
// The planes written never overlap the rows read: tell GCC so that the loops vectorise.
#define LF_WINO_VECTOR _Pragma("GCC ivdep")

// Transformed filters G [4][Cin][Cout] from w [3][Cin][Cout].
template <class T> LF_WINO_INLINE void filters(const T* w, int64_t n, T* G) {  // n = Cin * Cout
  const T* w0 = w;
  const T* w1 = w + n;
  const T* w2 = w + 2 * n;
  LF_WINO_VECTOR
  for (int64_t e = 0; e < n; ++e) {
    G[e] = w0[e];
    G[n + e] = (w0[e] + w1[e] + w2[e]) * T(0.5);
    G[2 * n + e] = (w0[e] - w1[e] + w2[e]) * T(0.5);
    G[3 * n + e] = w2[e];
  }
}

// The taps' gradient from the transformed filters' gradient dG [4][Cin][Cout].
template <class T> LF_WINO_INLINE void filter_grads(const T* dG, int64_t n, T* dw) {
  LF_WINO_VECTOR
  for (int64_t e = 0; e < n; ++e) {
    const T half_sum = (dG[n + e] + dG[2 * n + e]) * T(0.5);
    dw[e] = dG[e] + half_sum;
    dw[n + e] = (dG[n + e] - dG[2 * n + e]) * T(0.5);
    dw[2 * n + e] = half_sum + dG[3 * n + e];
  }
}

// U [4][pairs][C]: pair p reads rows first + 2p .. first + 2p + 3 of src (C values a row); rows
// outside [0, avail) are zero (padding, or beyond what the caller has).
template <class T>
LF_WINO_INLINE void inputs(const T* src, int64_t first, int64_t avail, int64_t pairs, int64_t C,
                           T* U) {
  const int64_t plane = pairs * C;
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t r0 = first + 2 * p;
    T* __restrict u0 = U + p * C;
    T* __restrict u1 = u0 + plane;
    T* __restrict u2 = u1 + plane;
    T* __restrict u3 = u2 + plane;
    if (r0 >= 0 && r0 + 4 <= avail) {
      const T* __restrict d0 = src + r0 * C;
      const T* __restrict d1 = d0 + C;
      const T* __restrict d2 = d1 + C;
      const T* __restrict d3 = d2 + C;
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        u0[c] = d0[c] - d2[c];
        u1[c] = d1[c] + d2[c];
        u2[c] = d2[c] - d1[c];
        u3[c] = d1[c] - d3[c];
      }
      continue;
    }
    const T* d[4];
    bool in[4];
    for (int j = 0; j < 4; ++j) {
      in[j] = r0 + j >= 0 && r0 + j < avail;
      d[j] = in[j] ? src + (r0 + j) * C : nullptr;
    }
    T* u = u0;
    LF_WINO_VECTOR
    for (int64_t c = 0; c < C; ++c) {
      const T v0 = in[0] ? d[0][c] : T(0), v1 = in[1] ? d[1][c] : T(0),
              v2 = in[2] ? d[2][c] : T(0), v3 = in[3] ? d[3][c] : T(0);
      u[c] = v0 - v2;
      u[plane + c] = v1 + v2;
      u[2 * plane + c] = v2 - v1;
      u[3 * plane + c] = v1 - v3;
    }
  }
}

// out rows 0 .. n-1 (n <= 2 pairs) from the products M [4][pairs][C].
template <class T>
LF_WINO_INLINE void outputs(const T* M, int64_t pairs, int64_t n, int64_t C, T* out) {
  const int64_t plane = pairs * C;
  for (int64_t p = 0; p < pairs; ++p) {
    const T* __restrict m1 = M + p * C;
    const T* __restrict m2 = m1 + plane;
    const T* __restrict m3 = m2 + plane;
    const T* __restrict m4 = m3 + plane;
    T* __restrict y0 = out + 2 * p * C;
    LF_WINO_VECTOR
    for (int64_t c = 0; c < C; ++c) y0[c] = m1[c] + m2[c] + m3[c];
    if (2 * p + 1 >= n) continue;
    T* __restrict y1 = y0 + C;
    LF_WINO_VECTOR
    for (int64_t c = 0; c < C; ++c) y1[c] = m2[c] - m3[c] - m4[c];
  }
}

// E [4][pairs][C] from the output gradients g (n rows; a missing second row of the last pair is 0).
template <class T>
LF_WINO_INLINE void output_grads(const T* g, int64_t pairs, int64_t n, int64_t C, T* E) {
  const int64_t plane = pairs * C;
  for (int64_t p = 0; p < pairs; ++p) {
    const T* __restrict g0 = g + 2 * p * C;
    T* __restrict e1 = E + p * C;
    T* __restrict e2 = e1 + plane;
    T* __restrict e3 = e2 + plane;
    T* __restrict e4 = e3 + plane;
    if (2 * p + 1 < n) {
      const T* __restrict g1 = g0 + C;
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        e1[c] = g0[c];
        e2[c] = g0[c] + g1[c];
        e3[c] = g0[c] - g1[c];
        e4[c] = -g1[c];
      }
    } else {
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        e1[c] = e2[c] = e3[c] = g0[c];
        e4[c] = T(0);
      }
    }
  }
}

#undef LF_WINO_INLINE
#undef LF_WINO_VECTOR

}  // namespace lensflow::kernels::winograd
