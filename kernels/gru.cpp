// kernels/gru.cpp — CPU twin of the fused GRU. The batch rows of a GRU are independent
// recurrences, so the CPU splits the batch into a fixed number of row chunks and runs each chunk's
// whole time loop on one thread (one parallel_for per layer instead of one per step; each step is
// a small single-threaded GEMM on the chunk's rows and the pointwise cell of kernels/gru_cell.hpp).
// The input projections before and the weight gradients after the loop are whole-sequence GEMMs.
// The chunking does not depend on the thread count, nor do the results.
#include "kernels/gru.hpp"

#include <algorithm>
#include <cstring>

#include "core/thread_pool.hpp"
#include "kernels/gemm.hpp"
#include "kernels/gru_cell.hpp"
#include "kernels/host_pool.hpp"
#include "kernels/reduce.hpp"

namespace lensflow::kernels {
namespace {

// Row chunks of the batch: about 4 rows each (a step's GEMM reads W_hh once for them), at least 2
// chunks from 2 rows on (two threads), at most 8.
struct RowChunks {
  int64_t count;
  explicit RowChunks(int64_t B)
      : count(std::clamp<int64_t>(B / 4, std::min<int64_t>(B, 2), 8)) {}
  int64_t begin(int64_t c, int64_t B) const { return B * c / count; }
};

template <class T> void fill_rows(T* y, const T* row, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * n, row, sizeof(T) * size_t(n));
}

}  // namespace

template <class T>
void gru_forward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                     const T* b_ih, const T* b_hh, T* out, T* gates) {
  const int64_t B = d.B, Tn = d.T, H = d.H, G = 3 * H;
  if (B == 0 || Tn == 0) return;
  HostBuffer<T> Xg(size_t(B * Tn * G));
  core::parallel_for(B * Tn, 64, [&](int64_t s, int64_t e) { fill_rows(Xg.get() + s * G, b_ih, e - s, G); });
  gemm_cpu<T>(false, true, B * Tn, G, d.In, T(1), x, d.In, W_ih, d.In, T(1), Xg.get(), G);
  // W_hh^T [H, 3H]: the per-step product h W_hh^T as a plain GEMM (OpenBLAS ran the transposed
  // form 4x slower for 2-4 rows: 52 vs 12 us at 2 x 768 x 256).
  HostBuffer<T> WhT(size_t(H * G));
  for (int64_t g = 0; g < G; ++g)
    for (int64_t k = 0; k < H; ++k) WhT.get()[k * G + g] = W_hh[g * H + k];
  const RowChunks rc(B);
  core::parallel_for(rc.count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t b0 = rc.begin(c, B), rows = rc.begin(c + 1, B) - b0;
      HostBuffer<T> Hg(size_t(rows * G)), zero(size_t(rows * H));
      if (h0)
        std::memcpy(zero.get(), h0 + b0 * H, sizeof(T) * size_t(rows * H));
      else
        std::fill(zero.get(), zero.get() + rows * H, T(0));
      for (int64_t t = 0; t < Tn; ++t) {
        const T* hp = t == 0 ? zero.get() : out + (b0 * Tn + t - 1) * H;
        const int64_t ldh = t == 0 ? H : Tn * H;
        fill_rows(Hg.get(), b_hh, rows, G);
        gemm_serial_cpu<T>(false, false, rows, G, H, T(1), hp, ldh, WhT.get(), G, T(1), Hg.get(), G);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t row = (b0 + i) * Tn + t;
          const T* xg = Xg.get() + row * G;
          T* gt = gates + row * 4 * H;
          T* o = out + row * H;
          for (int64_t j = 0; j < H; ++j)
            gru_cell_forward<T>(j, H, xg, Hg.get() + i * G, hp[i * ldh + j], o + j, gt);
        }
      }
    }
  });
}

template <class T>
void gru_backward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                      const T* out, const T* gates, const T* gout, T* gx, T* gh0, T* gW_ih,
                      T* gW_hh, T* gb_ih, T* gb_hh) {
  const int64_t B = d.B, Tn = d.T, H = d.H, G = 3 * H, rows = B * Tn;
  HostBuffer<T> dXg(size_t(rows * G)), dHg(size_t(rows * G)), hprev(size_t(rows * H));
  const RowChunks rc(B);
  core::parallel_for(rc.count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t b0 = rc.begin(c, B), n = rc.begin(c + 1, B) - b0;
      // h_{t-1} for every step of these rows (h0 or zeros first).
      for (int64_t b = b0; b < b0 + n; ++b) {
        T* dst = hprev.get() + b * Tn * H;
        if (h0)
          std::memcpy(dst, h0 + b * H, sizeof(T) * size_t(H));
        else
          std::fill(dst, dst + H, T(0));
        std::memcpy(dst + H, out + b * Tn * H, sizeof(T) * size_t((Tn - 1) * H));
      }
      // gh holds dL/dh_t from step t+1; the cell adds gout[:, t] and replaces gh by the direct
      // part of dL/dh_{t-1}; the GEMM adds the part through W_hh.
      HostBuffer<T> gh(size_t(n * H));
      std::fill(gh.get(), gh.get() + n * H, T(0));
      for (int64_t t = Tn - 1; t >= 0; --t) {
        for (int64_t i = 0; i < n; ++i) {
          const int64_t row = (b0 + i) * Tn + t;
          const T* hp = hprev.get() + row * H;
          for (int64_t j = 0; j < H; ++j) {
            const T g = gh.get()[i * H + j] + gout[row * H + j];
            gru_cell_backward<T>(j, H, g, hp[j], gates + row * 4 * H, dXg.get() + row * G,
                                 dHg.get() + row * G, gh.get() + i * H + j);
          }
        }
        gemm_serial_cpu<T>(false, false, n, H, G, T(1), dHg.get() + (b0 * Tn + t) * G, Tn * G,
                           W_hh, H, T(1), gh.get(), H);
      }
      if (gh0) std::memcpy(gh0 + b0 * H, gh.get(), sizeof(T) * size_t(n * H));
    }
  });
  gemm_cpu<T>(false, false, rows, d.In, G, T(1), dXg.get(), G, W_ih, d.In, T(0), gx, d.In);
  gemm_cpu<T>(true, false, G, d.In, rows, T(1), dXg.get(), G, x, d.In, T(0), gW_ih, d.In);
  gemm_cpu<T>(true, false, G, H, rows, T(1), dHg.get(), G, hprev.get(), H, T(0), gW_hh, H);
  reduce_cpu<T>(Reduce::Sum, dXg.get(), gb_ih, 1, rows, G);
  reduce_cpu<T>(Reduce::Sum, dHg.get(), gb_hh, 1, rows, G);
}

#define LF_INSTANTIATE(T)                                                                      \
  template void gru_forward_cpu<T>(const GruDims&, const T*, const T*, const T*, const T*,     \
                                   const T*, const T*, T*, T*);                                \
  template void gru_backward_cpu<T>(const GruDims&, const T*, const T*, const T*, const T*,    \
                                    const T*, const T*, const T*, T*, T*, T*, T*, T*, T*);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
