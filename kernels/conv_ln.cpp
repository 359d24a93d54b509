// kernels/conv_ln.cpp — CPU twin of the fused convolution + layer norm + residual + ReLU on cache
// tiles of rows. A tile's product is, by layer width: direct vector loops (narrow layers),
// Winograd F(4,3) (3 taps, >= 32 channels), or one single-threaded BLAS call per kernel tap on
// rows of x shifted by the tap; the row-wise parts run while the tile is in cache.
#include "kernels/conv_ln.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/thread_pool.hpp"
#include "kernels/conv_ln_rows.hpp"
#include "kernels/conv_winograd.hpp"
#include "kernels/gemm.hpp"
#include "kernels/host_pool.hpp"

namespace lensflow::kernels {
namespace {

// Rows per tile: the rows a tile reads and writes (about 3 x max(Cin, Cout) floats a row) within
// ~768 KiB, so they stay in the L2 cache; at least 64 and at most 512 rows (256 at 256 channels:
// the per-tap GEMMs ran ~4% faster than at 85 rows).
struct Tiling {
  int64_t rows, per_seq, count;
  explicit Tiling(const ConvLnDims& d) {
    const int64_t width = std::max(d.Cin, d.Cout);
    rows = std::min<int64_t>(d.L, std::clamp<int64_t>(65536 / std::max<int64_t>(width, 1), 64, 512));
    per_seq = rows > 0 ? (d.L + rows - 1) / rows : 0;
    count = d.B * per_seq;
  }
};

// Narrow layers run the direct loops of kernels/conv_ln_rows.hpp on zero-padded input rows (no
// im2col, no BLAS call): products whose output is 8 or 16 channels wide with at most this many
// terms (K * input channels), or any product of at most kDirectWidth terms (the first layer,
// K * Cin = 3).
constexpr int64_t kDirectMaxTerms = 48;
constexpr int64_t kDirectWidth = 4;
bool vector_width(int64_t C) { return C == 8 || C == 16; }
bool direct_product(int64_t terms, int64_t width) {
  return terms <= kDirectWidth || (vector_width(width) && terms <= kDirectMaxTerms);
}
// 3-tap layers with at least this many input and output channels use Winograd F(4,3)
// (kernels/conv_winograd.hpp): half the multiply-adds; the transforms cost O(Cin + Cout) a row.
// From 32 channels on the products' GEMMs are wide enough to beat the per-tap ones (bench:
// bench_train_bench --profile, the 32- and 64-channel blocks ~10% faster).
constexpr int64_t kWinogradMinChannels = 32;
bool use_winograd(const ConvLnDims& d) {
  return d.K == 3 && d.Cin >= kWinogradMinChannels && d.Cout >= kWinogradMinChannels;
}

// out[r] = src row first + r for r in [0, rows) (C values a row), zero where that row is outside
// [0, avail): the K-row windows of a tile, padded, so row i's window starts at out + i * C.
template <class T>
void padded_rows(const T* src, int64_t first, int64_t avail, int64_t rows, int64_t C, T* out) {
  const int64_t lo = std::clamp<int64_t>(-first, 0, rows);
  const int64_t hi = std::clamp<int64_t>(avail - first, lo, rows);
  std::fill(out, out + lo * C, T(0));
  if (hi > lo) std::memcpy(out + lo * C, src + (first + lo) * C, sizeof(T) * size_t((hi - lo) * C));
  std::fill(out + hi * C, out + rows * C, T(0));
}

// Tap order for the shifted products: the centre tap first (it covers every row of a tile, so it
// initialises the output with beta = 0), then the others in increasing k.
inline int64_t tap(int64_t j, int64_t pad) { return j == 0 ? pad : (j <= pad ? j - 1 : j); }

// The row-wise tile functions (kernels/conv_ln_rows.hpp). Float rows of 8, 16, ..., 256
// channels take the vector code, compiled twice on x86-64 (AVX2 + FMA, and the baseline) with
// the CPU's version picked at load time; everything else the plain loops.
// Everything between a cloned function and the vector code is forced inline, so that it is
// compiled for the clone's instruction set.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LF_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LF_CPU_CLONES
#endif
#define LF_ALWAYS_INLINE __attribute__((always_inline))

// Calls f(std::integral_constant<int, C / 8>{}) for the vector widths; false for the others.
template <class F> inline LF_ALWAYS_INLINE bool with_vectors(int64_t C, F&& f) {
  switch (C) {
    case 8: f(std::integral_constant<int, 1>{}); return true;
    case 16: f(std::integral_constant<int, 2>{}); return true;
    case 32: f(std::integral_constant<int, 4>{}); return true;
    case 64: f(std::integral_constant<int, 8>{}); return true;
    case 128: f(std::integral_constant<int, 16>{}); return true;
    case 256: f(std::integral_constant<int, 32>{}); return true;
    default: return false;
  }
}

LF_CPU_CLONES void direct_tile(int64_t n, int64_t KC, int64_t lda, int64_t C, const float* a,
                               const float* w, float* z) {
  if (C > 32 || !with_vectors(C, [&](auto v) LF_ALWAYS_INLINE {
        conv_rows::direct_rows_v<decltype(v)::value>(n, KC, lda, a, w, z);
      }))
    conv_rows::direct_rows<float>(n, KC, lda, C, a, w, z);
}
void direct_tile(int64_t n, int64_t KC, int64_t lda, int64_t C, const double* a, const double* w,
                 double* z) {
  conv_rows::direct_rows<double>(n, KC, lda, C, a, w, z);
}

LF_CPU_CLONES void direct_grad_tile(int64_t n, int64_t KC, int64_t lda, int64_t C, const float* a,
                                    const float* gz, float* pw) {
  if (C > 32 || !with_vectors(C, [&](auto v) LF_ALWAYS_INLINE {
        conv_rows::direct_grad_rows_v<decltype(v)::value>(n, KC, lda, a, gz, pw);
      }))
    conv_rows::direct_grad_rows<float>(n, KC, lda, C, a, gz, pw);
}
void direct_grad_tile(int64_t n, int64_t KC, int64_t lda, int64_t C, const double* a,
                      const double* gz, double* pw) {
  conv_rows::direct_grad_rows<double>(n, KC, lda, C, a, gz, pw);
}

LF_CPU_CLONES void finish_tile(int64_t n, int64_t C, float* z, const float* b, const float* gamma,
                               const float* beta, const float* res, bool relu, float eps,
                               float* mean, float* rstd, float* y) {
  if (!with_vectors(C, [&](auto v) LF_ALWAYS_INLINE {
        conv_rows::finish_rows_v<decltype(v)::value>(n, z, b, gamma, beta, res, relu, eps, mean,
                                                     rstd, y);
      }))
    conv_rows::finish_rows<float>(n, C, z, b, gamma, beta, res, relu, eps, mean, rstd, y);
}
void finish_tile(int64_t n, int64_t C, double* z, const double* b, const double* gamma,
                 const double* beta, const double* res, bool relu, double eps, double* mean,
                 double* rstd, double* y) {
  conv_rows::finish_rows<double>(n, C, z, b, gamma, beta, res, relu, eps, mean, rstd, y);
}

LF_CPU_CLONES void grad_tile(int64_t n, int64_t own0, int64_t own1, int64_t C, const float* gy,
                             const float* y, const float* z, const float* mean, const float* rstd,
                             const float* gamma, bool relu, float* o, float* gres, float* pb,
                             float* pg, float* pbeta) {
  if (!with_vectors(C, [&](auto v) LF_ALWAYS_INLINE {
        conv_rows::grad_rows_v<decltype(v)::value>(n, own0, own1, gy, y, z, mean, rstd, gamma,
                                                   relu, o, gres, pb, pg, pbeta);
      }))
    conv_rows::grad_rows<float>(n, own0, own1, C, gy, y, z, mean, rstd, gamma, relu, o, gres, pb,
                                pg, pbeta);
}
void grad_tile(int64_t n, int64_t own0, int64_t own1, int64_t C, const double* gy,
               const double* y, const double* z, const double* mean, const double* rstd,
               const double* gamma, bool relu, double* o, double* gres, double* pb, double* pg,
               double* pbeta) {
  conv_rows::grad_rows<double>(n, own0, own1, C, gy, y, z, mean, rstd, gamma, relu, o, gres, pb,
                               pg, pbeta);
}

// The Winograd transforms, cloned like the row functions.
LF_CPU_CLONES void wino_inputs(const float* src, int64_t first, int64_t avail, int64_t quads,
                               int64_t C, float* U) {
  winograd::inputs(src, first, avail, quads, C, U);
}
void wino_inputs(const double* src, int64_t first, int64_t avail, int64_t quads, int64_t C,
                 double* U) {
  winograd::inputs(src, first, avail, quads, C, U);
}
LF_CPU_CLONES void wino_outputs(const float* M, int64_t quads, int64_t n, int64_t C, float* out) {
  winograd::outputs(M, quads, n, C, out);
}
void wino_outputs(const double* M, int64_t quads, int64_t n, int64_t C, double* out) {
  winograd::outputs(M, quads, n, C, out);
}
LF_CPU_CLONES void wino_output_grads(const float* g, int64_t quads, int64_t n, int64_t C,
                                     float* E) {
  winograd::output_grads(g, quads, n, C, E);
}
void wino_output_grads(const double* g, int64_t quads, int64_t n, int64_t C, double* E) {
  winograd::output_grads(g, quads, n, C, E);
}

// Winograd products per tile: M_i = U_i G_i (or U_i G_i^T) for the six planes.
template <class T>
void wino_products(bool trans_g, int64_t quads, int64_t n_out, int64_t k, const T* U, const T* G,
                   T* M) {
  for (int64_t i = 0; i < winograd::kPlanes; ++i)
    gemm_serial_cpu<T>(false, trans_g, quads, n_out, k, T(1), U + i * quads * k, k,
                       G + i * k * n_out, trans_g ? k : n_out, T(0), M + i * quads * n_out, n_out);
}

}  // namespace

template <class T>
void conv_ln_forward_cpu(const ConvLnDims& d, const T* x, const T* w, const T* b, const T* gamma,
                         const T* beta, const T* res, bool relu, double eps, T* z, T* mean,
                         T* rstd, T* y) {
  const Tiling tl(d);
  const int64_t KC = d.K * d.Cin, C = d.Cout, pad = (d.K - 1) / 2;
  const bool wino = use_winograd(d);
  const bool direct = !wino && direct_product(KC, C);
  const int64_t max_quads = (tl.rows + winograd::kOut - 1) / winograd::kOut;
  const int64_t n_w = d.Cin * C;
  HostBuffer<T> G(wino ? size_t(winograd::kPlanes * n_w) : 0);
  if (wino) winograd::filters(w, w + n_w, w + 2 * n_w, n_w, G.get());
  T* conv_out = gamma ? z : y;  // without a norm the convolution is finished in place in y
  core::parallel_for(tl.count, 1, [&](int64_t t0, int64_t t1) {
    HostBuffer<T> xp(direct ? size_t((tl.rows + 2 * pad) * d.Cin) : 0);
    HostBuffer<T> U(wino ? size_t(winograd::kPlanes * max_quads * d.Cin) : 0),
        M(wino ? size_t(winograd::kPlanes * max_quads * C) : 0);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bi = t / tl.per_seq, l0 = (t % tl.per_seq) * tl.rows;
      const int64_t l1 = std::min(d.L, l0 + tl.rows), n = l1 - l0, row0 = bi * d.L + l0;
      const T* xb = x + bi * d.L * d.Cin;
      T* out = conv_out + row0 * C;
      if (wino) {
        const int64_t quads = (n + winograd::kOut - 1) / winograd::kOut;
        wino_inputs(xb, l0 - 1, d.L, quads, d.Cin, U.get());
        wino_products(false, quads, C, d.Cin, U.get(), G.get(), M.get());
        wino_outputs(M.get(), quads, n, C, out);
      } else if (direct) {
        padded_rows(xb, l0 - pad, d.L, n + 2 * pad, d.Cin, xp.get());
        direct_tile(n, KC, d.Cin, C, xp.get(), w, out);
      } else {
        // z[l] += x[l + k - pad] w_k over the rows whose tap k stays inside the light curve
        // (zero padding): one GEMM per tap straight from x, no im2col copy.
        for (int64_t j = 0; j < d.K; ++j) {
          const int64_t k = tap(j, pad);
          const int64_t lo = std::max(l0, pad - k), hi = std::min(l1, d.L + pad - k);
          if (hi <= lo) continue;
          gemm_serial_cpu<T>(false, false, hi - lo, C, d.Cin, T(1),
                             xb + (lo + k - pad) * d.Cin, d.Cin, w + k * d.Cin * C, C,
                             j == 0 ? T(0) : T(1), out + (lo - l0) * C, C);
        }
      }
      finish_tile(n, C, out, b, gamma, beta, res ? res + row0 * C : nullptr, relu, T(eps),
                  gamma ? mean + row0 : nullptr, gamma ? rstd + row0 : nullptr, y + row0 * C);
    }
  });
}

template <class T>
void conv_ln_backward_cpu(const ConvLnDims& d, const T* x, const T* w, const T* gamma, const T* z,
                          const T* mean, const T* rstd, const T* y, const T* gy, bool relu, T* gx,
                          T* gw, T* gb, T* ggamma, T* gbeta, T* gres) {
  const Tiling tl(d);
  const int64_t KC = d.K * d.Cin, C = d.Cout, pad = (d.K - 1) / 2;
  const bool wino = use_winograd(d);
  const bool direct_w = !wino && direct_product(KC, C) && C <= 16;  // J x V sums in registers
  const bool direct_x = !wino && direct_product(d.K * C, d.Cin);
  // Parameter-gradient partial sums per chunk of consecutive tiles: a number of chunks fixed by the
  // shape (so the sums do not depend on the thread count), at least two tiles a chunk from four
  // tiles on (each chunk's partial is a full weight gradient to add up), at most 4.
  const int64_t chunks = tl.count <= 2 ? tl.count : std::clamp<int64_t>(tl.count / 2, 2, 4);
  const int64_t vec = 3 * C;  // gb, ggamma, gbeta partials
  const int64_t n_w = d.Cin * C;
  const int64_t wsize = wino ? winograd::kPlanes * n_w : KC * C;  // weight-gradient partial (dG for Winograd)
  const int64_t max_quads = (tl.rows + winograd::kOut - 1) / winograd::kOut;
  HostBuffer<T> part_w(gw ? size_t(chunks * wsize) : 0), part_v(size_t(chunks * vec));
  // (Winograd partials need no zeroing: each chunk's first tile writes them with beta = 0.)
  if (gw && !wino) std::fill(part_w.get(), part_w.get() + chunks * wsize, T(0));
  std::fill(part_v.get(), part_v.get() + chunks * vec, T(0));
  // The input gradient's filters: the taps reversed (transposed in the products).
  HostBuffer<T> G(wino && gx ? size_t(winograd::kPlanes * n_w) : 0);
  if (wino && gx) winograd::filters(w + 2 * n_w, w + n_w, w, n_w, G.get());
  // The direct input gradient is the forward loop on gz with the taps reversed and transposed:
  // gx[l] = sum_j gz[l - pad + j] wr[j], wr[j][co][ci] = w[K - 1 - j][ci][co].
  HostBuffer<T> wr(gx && direct_x ? size_t(d.K * C * d.Cin) : 0);
  if (gx && direct_x)
    for (int64_t j = 0; j < d.K; ++j)
      for (int64_t co = 0; co < C; ++co)
        for (int64_t ci = 0; ci < d.Cin; ++ci)
          wr.get()[(j * C + co) * d.Cin + ci] = w[((d.K - 1 - j) * d.Cin + ci) * C + co];
  const bool halo = gx && d.K > 1;  // the input gradient needs neighbour rows' output gradients

  core::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    HostBuffer<T> xp(gw && direct_w ? size_t((tl.rows + 2 * pad) * d.Cin) : 0);
    // dL/dz for rows l0 - pad .. l1 + pad - 1 of a tile (row l at (l - l0 + pad) * C); rows
    // outside the light curve, or not needed, are zero.
    HostBuffer<T> gz(size_t((tl.rows + 2 * pad) * C));
    const int64_t wide = std::max(d.Cin, C);
    HostBuffer<T> U(wino ? size_t(winograd::kPlanes * max_quads * wide) : 0),
        M(wino ? size_t(winograd::kPlanes * max_quads * wide) : 0);
    for (int64_t ch = c0; ch < c1; ++ch) {
      T* pw = gw ? part_w.get() + ch * wsize : nullptr;
      T* pb = part_v.get() + ch * vec;
      const int64_t tb = tl.count * ch / chunks, te = tl.count * (ch + 1) / chunks;
      for (int64_t t = tb; t < te; ++t) {
        const int64_t bi = t / tl.per_seq, l0 = (t % tl.per_seq) * tl.rows;
        const int64_t l1 = std::min(d.L, l0 + tl.rows), n = l1 - l0, span = n + 2 * pad;
        const T* xb = x + bi * d.L * d.Cin;
        // The tile plus its halo (recomputed from gy, counted once in the parameter sums).
        const int64_t h0 = halo ? std::max<int64_t>(0, l0 - pad) : l0;
        const int64_t h1 = halo ? std::min(d.L, l1 + pad) : l1;
        const int64_t r0 = bi * d.L + h0, g0 = h0 - (l0 - pad);  // first computed row in gz
        std::fill(gz.get(), gz.get() + g0 * C, T(0));
        std::fill(gz.get() + (h1 - (l0 - pad)) * C, gz.get() + span * C, T(0));
        T* gzh = gz.get() + g0 * C;
        grad_tile(h1 - h0, l0 - h0, l1 - h0, C, gy + r0 * C, relu ? y + r0 * C : nullptr,
                  gamma ? z + r0 * C : nullptr, gamma ? mean + r0 : nullptr,
                  gamma ? rstd + r0 : nullptr, gamma, relu, gzh, gres ? gres + r0 * C : nullptr,
                  pb, pb + C, pb + 2 * C);
        const T* gown = gz.get() + pad * C;  // row l0
        const int64_t quads = (n + winograd::kOut - 1) / winograd::kOut;
        if (gw && wino) {
          // dG_i += U_i^T E_i (U: the forward's input transform, E: the output-gradient quads).
          wino_inputs(xb, l0 - 1, d.L, quads, d.Cin, U.get());
          wino_output_grads(gown, quads, n, C, M.get());
          for (int64_t i = 0; i < winograd::kPlanes; ++i)
            gemm_serial_cpu<T>(true, false, d.Cin, C, quads, T(1), U.get() + i * quads * d.Cin,
                               d.Cin, M.get() + i * quads * C, C, t == tb ? T(0) : T(1),
                               pw + i * n_w, C);
        } else if (gw && direct_w) {
          padded_rows(xb, l0 - pad, d.L, span, d.Cin, xp.get());
          direct_grad_tile(n, KC, d.Cin, C, xp.get(), gown, pw);
        } else if (gw) {
          // w_k gradient += x[l + k - pad]^T gz[l] over the rows where tap k is inside.
          for (int64_t k = 0; k < d.K; ++k) {
            const int64_t lo = std::max(l0, pad - k), hi = std::min(l1, d.L + pad - k);
            if (hi <= lo) continue;
            gemm_serial_cpu<T>(true, false, d.Cin, C, hi - lo, T(1), xb + (lo + k - pad) * d.Cin,
                               d.Cin, gown + (lo - l0) * C, C, T(1), pw + k * d.Cin * C, C);
          }
        }
        if (!gx) continue;
        T* gxt = gx + (bi * d.L + l0) * d.Cin;
        if (wino) {
          // The forward's algorithm on gz with the taps reversed and transposed.
          wino_inputs(gz.get(), 0, span, quads, C, U.get());
          wino_products(true, quads, d.Cin, C, U.get(), G.get(), M.get());
          wino_outputs(M.get(), quads, n, d.Cin, gxt);
        } else if (direct_x) {
          direct_tile(n, d.K * C, C, d.Cin, gz.get(), wr.get(), gxt);
        } else {
          // gx[l] = sum_k gz[l - k + pad] w_k^T (rows outside the light curve are zero in gz).
          for (int64_t j = 0; j < d.K; ++j) {
            const int64_t k = tap(j, pad);
            gemm_serial_cpu<T>(false, true, n, d.Cin, C, T(1), gz.get() + (2 * pad - k) * C, C,
                               w + k * d.Cin * C, C, j == 0 ? T(0) : T(1), gxt, d.Cin);
          }
        }
      }
    }
  });
  // Chunk partials summed in chunk order (then, for Winograd, mapped back to the taps).
  if (gw) {
    HostBuffer<T> dG(wino ? size_t(wsize) : 0);
    T* sum_to = wino ? dG.get() : gw;
    core::parallel_for(wsize, 4096, [&](int64_t s, int64_t e) {
      T* __restrict out = sum_to;
      if (chunks == 0) std::fill(out + s, out + e, T(0));  // an empty batch
      else std::copy(part_w.get() + s, part_w.get() + e, out + s);
      for (int64_t ch = 1; ch < chunks; ++ch) {  // chunk by chunk: vector adds
        const T* __restrict part = part_w.get() + ch * wsize;
        for (int64_t i = s; i < e; ++i) out[i] += part[i];
      }
    });
    if (wino) winograd::filter_grads(dG.get(), n_w, gw);
  }
  T* outs[3] = {gb, gamma ? ggamma : nullptr, gamma ? gbeta : nullptr};
  for (int p = 0; p < 3; ++p) {
    if (!outs[p]) continue;
    for (int64_t c = 0; c < C; ++c) {
      T acc = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) acc += part_v.get()[ch * vec + p * C + c];
      outs[p][c] = acc;
    }
  }
}

#define LF_INSTANTIATE(T)                                                                      \
  template void conv_ln_forward_cpu<T>(const ConvLnDims&, const T*, const T*, const T*,        \
                                       const T*, const T*, const T*, bool, double, T*, T*, T*, \
                                       T*);                                                    \
  template void conv_ln_backward_cpu<T>(const ConvLnDims&, const T*, const T*, const T*,       \
                                        const T*, const T*, const T*, const T*, const T*, bool, \
                                        T*, T*, T*, T*, T*, T*);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
