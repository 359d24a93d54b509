// kernels/conv_winograd.hpp — Winograd F(4,3) for the 3-tap 'same' convolution over channels
// (internal to kernels/conv_ln.cpp): four output rows y0..y3 from six input rows d0..d5 and the
// taps w0, w1, w2 [Cin, Cout] with six products m_i = U_i G_i instead of twelve (interpolation
// points 0, 1, -1, 2, -2 and infinity):
//   U0 = 4 d0 - 5 d2 + d4           G0 = w0 / 4
//   U1 = -4 (d1 + d2) + d3 + d4     G1 = -(w0 + w1 + w2) / 6
//   U2 = 4 (d1 - d2) - d3 + d4      G2 = -(w0 - w1 + w2) / 6
//   U3 = 2 (d3 - d1) - d2 + d4      G3 = (w0 + 2 w1 + 4 w2) / 24
//   U4 = 2 (d1 - d3) - d2 + d4      G4 = (w0 - 2 w1 + 4 w2) / 24
//   U5 = 4 d1 - 5 d3 + d5           G5 = w2
//   y0 = m0 + m1 + m2 + m3 + m4,  y1 = m1 - m2 + 2 (m3 - m4),
//   y2 = m1 + m2 + 4 (m3 + m4),   y3 = m1 - m2 + 8 (m3 - m4) + m5.
// Over a tile each m_i is one GEMM [quads, Cin] x [Cin, Cout]: half the direct multiply-adds.
// The input gradient is the same algorithm on the output gradient with the taps reversed and
// transposed; the weight gradient its adjoint: dG_i = U_i^T E_i with E_i = sum_j A[j][i] g_j
// (g0..g3 a quad's output gradients, A the output transform above), then dw_k = sum_i G[i][k] dG_i.
// The sums run in another order than the direct convolution's: equal to float round-off (the
// transforms' small integer weights add a few ulps; tests/kernels/conv_ln_test bounds it).
#pragma once

#include <cstdint>

namespace lensflow::kernels::winograd {

// Forced inline so that a caller compiled for a wider instruction set (target clones in
// conv_ln.cpp) gets these loops compiled for it too.
#define LF_WINO_INLINE inline __attribute__((always_inline))
// The planes written never overlap the rows read: tell GCC so that the loops vectorise.
#define LF_WINO_VECTOR _Pragma("GCC ivdep")

constexpr int64_t kOut = 4;     // output rows per transform
constexpr int64_t kIn = 6;      // input rows it reads
constexpr int64_t kPlanes = 6;  // products

// Transformed filters G [6][Cin][Cout] from the taps w0, w1, w2 (each [Cin][Cout], n = Cin * Cout).
// The input gradient passes them reversed (w2, w1, w0).
template <class T>
LF_WINO_INLINE void filters(const T* w0, const T* w1, const T* w2, int64_t n, T* G) {
  LF_WINO_VECTOR
  for (int64_t e = 0; e < n; ++e) {
    const T a = w0[e], b = w1[e], c = w2[e];
    G[e] = a * T(0.25);
    G[n + e] = -(a + b + c) / T(6);
    G[2 * n + e] = -(a - b + c) / T(6);
    G[3 * n + e] = (a + T(2) * b + T(4) * c) / T(24);
    G[4 * n + e] = (a - T(2) * b + T(4) * c) / T(24);
    G[5 * n + e] = c;
  }
}

// The taps' gradient dw [3][Cin][Cout] from the transformed filters' gradient dG [6][Cin][Cout].
template <class T> LF_WINO_INLINE void filter_grads(const T* dG, int64_t n, T* dw) {
  LF_WINO_VECTOR
  for (int64_t e = 0; e < n; ++e) {
    const T g0 = dG[e], g1 = dG[n + e], g2 = dG[2 * n + e], g3 = dG[3 * n + e],
            g4 = dG[4 * n + e], g5 = dG[5 * n + e];
    const T s12 = (g1 + g2) / T(6), s34 = g3 + g4;
    dw[e] = g0 * T(0.25) - s12 + s34 / T(24);
    dw[n + e] = (g2 - g1) / T(6) + (g3 - g4) / T(12);
    dw[2 * n + e] = s34 / T(6) - s12 + g5;
  }
}

// U [6][quads][C]: quad q reads rows first + 4q .. first + 4q + 5 of src (C values a row); rows
// outside [0, avail) are zero (padding, or beyond what the caller has).
template <class T>
LF_WINO_INLINE void inputs(const T* src, int64_t first, int64_t avail, int64_t quads, int64_t C,
                           T* U) {
  const int64_t plane = quads * C;
  for (int64_t q = 0; q < quads; ++q) {
    const int64_t r0 = first + kOut * q;
    T* __restrict u0 = U + q * C;
    T* __restrict u1 = u0 + plane;
    T* __restrict u2 = u1 + plane;
    T* __restrict u3 = u2 + plane;
    T* __restrict u4 = u3 + plane;
    T* __restrict u5 = u4 + plane;
    if (r0 >= 0 && r0 + kIn <= avail) {
      const T* __restrict d = src + r0 * C;
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        const T d0 = d[c], d1 = d[C + c], d2 = d[2 * C + c], d3 = d[3 * C + c], d4 = d[4 * C + c],
                d5 = d[5 * C + c];
        u0[c] = T(4) * d0 - T(5) * d2 + d4;
        u1[c] = d3 + d4 - T(4) * (d1 + d2);
        u2[c] = T(4) * (d1 - d2) - d3 + d4;
        u3[c] = T(2) * (d3 - d1) - d2 + d4;
        u4[c] = T(2) * (d1 - d3) - d2 + d4;
        u5[c] = T(4) * d1 - T(5) * d3 + d5;
      }
      continue;
    }
    // A quad at an edge: missing rows read as zero.
    const T* rows[kIn];
    for (int j = 0; j < kIn; ++j)
      rows[j] = r0 + j >= 0 && r0 + j < avail ? src + (r0 + j) * C : nullptr;
    for (int64_t c = 0; c < C; ++c) {
      T v[kIn];
      for (int j = 0; j < kIn; ++j) v[j] = rows[j] ? rows[j][c] : T(0);
      u0[c] = T(4) * v[0] - T(5) * v[2] + v[4];
      u1[c] = v[3] + v[4] - T(4) * (v[1] + v[2]);
      u2[c] = T(4) * (v[1] - v[2]) - v[3] + v[4];
      u3[c] = T(2) * (v[3] - v[1]) - v[2] + v[4];
      u4[c] = T(2) * (v[1] - v[3]) - v[2] + v[4];
      u5[c] = T(4) * v[1] - T(5) * v[3] + v[5];
    }
  }
}

// out rows 0 .. n-1 (n <= 4 quads) from the products M [6][quads][C].
template <class T>
LF_WINO_INLINE void outputs(const T* M, int64_t quads, int64_t n, int64_t C, T* out) {
  const int64_t plane = quads * C;
  for (int64_t q = 0; q < quads; ++q) {
    const T* __restrict m0 = M + q * C;
    const T* __restrict m1 = m0 + plane;
    const T* __restrict m2 = m1 + plane;
    const T* __restrict m3 = m2 + plane;
    const T* __restrict m4 = m3 + plane;
    const T* __restrict m5 = m4 + plane;
    T* __restrict y = out + kOut * q * C;
    const int64_t rows = n - kOut * q;
    if (rows >= kOut) {
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        const T a = m1[c] + m2[c], b = m1[c] - m2[c], s = m3[c] + m4[c], t = m3[c] - m4[c];
        y[c] = m0[c] + a + s;
        y[C + c] = b + T(2) * t;
        y[2 * C + c] = a + T(4) * s;
        y[3 * C + c] = b + T(8) * t + m5[c];
      }
      continue;
    }
    for (int64_t c = 0; c < C; ++c) {
      const T a = m1[c] + m2[c], b = m1[c] - m2[c], s = m3[c] + m4[c], t = m3[c] - m4[c];
      const T v[kOut] = {m0[c] + a + s, b + T(2) * t, a + T(4) * s, b + T(8) * t + m5[c]};
      for (int64_t j = 0; j < rows; ++j) y[j * C + c] = v[j];
    }
  }
}

// E [6][quads][C] from the output gradients g (n rows; rows of the last quad past n are 0).
template <class T>
LF_WINO_INLINE void output_grads(const T* g, int64_t quads, int64_t n, int64_t C, T* E) {
  const int64_t plane = quads * C;
  for (int64_t q = 0; q < quads; ++q) {
    const T* __restrict gq = g + kOut * q * C;
    T* __restrict e0 = E + q * C;
    T* __restrict e1 = e0 + plane;
    T* __restrict e2 = e1 + plane;
    T* __restrict e3 = e2 + plane;
    T* __restrict e4 = e3 + plane;
    T* __restrict e5 = e4 + plane;
    const int64_t rows = n - kOut * q;
    if (rows >= kOut) {
      LF_WINO_VECTOR
      for (int64_t c = 0; c < C; ++c) {
        const T g0 = gq[c], g1 = gq[C + c], g2 = gq[2 * C + c], g3 = gq[3 * C + c];
        const T ev = g0 + g2, od = g1 + g3, ev4 = g0 + T(4) * g2, od8 = T(2) * g1 + T(8) * g3;
        e0[c] = g0;
        e1[c] = ev + od;
        e2[c] = ev - od;
        e3[c] = ev4 + od8;
        e4[c] = ev4 - od8;
        e5[c] = g3;
      }
      continue;
    }
    for (int64_t c = 0; c < C; ++c) {
      T v[kOut];
      for (int64_t j = 0; j < kOut; ++j) v[j] = j < rows ? gq[j * C + c] : T(0);
      const T ev = v[0] + v[2], od = v[1] + v[3], ev4 = v[0] + T(4) * v[2],
              od8 = T(2) * v[1] + T(8) * v[3];
      e0[c] = v[0];
      e1[c] = ev + od;
      e2[c] = ev - od;
      e3[c] = ev4 + od8;
      e4[c] = ev4 - od8;
      e5[c] = v[3];
    }
  }
}

#undef LF_WINO_INLINE
#undef LF_WINO_VECTOR

}  // namespace lensflow::kernels::winograd
