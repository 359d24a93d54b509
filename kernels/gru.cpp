// kernels/gru.cpp — CPU twin of the fused GRU: OpenBLAS GEMMs + threaded pointwise steps.
#include "kernels/gru.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm.hpp"
#include "kernels/gru_cell.hpp"
#include "kernels/reduce.hpp"
#include "kernels/thread_pool.hpp"

namespace lensflow::kernels {
namespace {

struct CpuBackend {
  template <class T> struct Buf {
    std::vector<T> v;
    T* get() { return v.data(); }
  };
  template <class T> static Buf<T> buffer(int64_t n) { return Buf<T>{std::vector<T>(size_t(n))}; }

  template <class T>
  static void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                   int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
    gemm_cpu<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  template <class T> static void bias_rows(const T* bias, T* y, int64_t rows, int64_t n) {
    parallel_for(rows, 64, [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) std::memcpy(y + r * n, bias, sizeof(T) * size_t(n));
    });
  }
  template <class T> static void copy_or_zero(const T* src, T* dst, int64_t n) {
    if (src)
      std::memcpy(dst, src, sizeof(T) * size_t(n));
    else
      std::fill(dst, dst + n, T(0));
  }
  template <class T>
  static void step_forward(const GruDims& d, int64_t t, const T* Xg, const T* Hg, const T* hp,
                           int64_t ldh, T* out, T* gates) {
    const int64_t H = d.H, G = 3 * H;
    parallel_for(d.B, 1, [&](int64_t s, int64_t e) {
      for (int64_t b = s; b < e; ++b) {
        const T* xg = Xg + (b * d.T + t) * G;
        T* gt = gates + (b * d.T + t) * 4 * H;
        T* o = out + (b * d.T + t) * H;
        for (int64_t j = 0; j < H; ++j)
          gru_cell_forward<T>(j, H, xg, Hg + b * G, hp[b * ldh + j], o + j, gt);
      }
    });
  }
  template <class T>
  static void step_backward(const GruDims& d, int64_t t, const T* gout, T* gh, const T* gates,
                            const T* hp, int64_t ldh, T* dXg, T* dHg) {
    const int64_t H = d.H, G = 3 * H;
    parallel_for(d.B, 1, [&](int64_t s, int64_t e) {
      for (int64_t b = s; b < e; ++b) {
        const int64_t row = b * d.T + t;
        for (int64_t j = 0; j < H; ++j) {
          const T g = gh[b * H + j] + gout[row * H + j];
          gru_cell_backward<T>(j, H, g, hp[b * ldh + j], gates + row * 4 * H, dXg + row * G,
                               dHg + row * G, gh + b * H + j);
        }
      }
    });
  }
  template <class T> static void shift_hidden(const GruDims& d, const T* h0, const T* out, T* hp) {
    const int64_t H = d.H;
    parallel_for(d.B, 1, [&](int64_t s, int64_t e) {
      for (int64_t b = s; b < e; ++b) {
        T* dst = hp + b * d.T * H;
        if (h0)
          std::memcpy(dst, h0 + b * H, sizeof(T) * size_t(H));
        else
          std::fill(dst, dst + H, T(0));
        std::memcpy(dst + H, out + b * d.T * H, sizeof(T) * size_t((d.T - 1) * H));
      }
    });
  }
  template <class T> static void sum_rows(const T* x, T* y, int64_t rows, int64_t n) {
    reduce_cpu<T>(Reduce::Sum, x, y, 1, rows, n);
  }
};

}  // namespace

template <class T>
void gru_forward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                     const T* b_ih, const T* b_hh, T* out, T* gates) {
  gru_forward_loop<CpuBackend, T>(d, x, h0, W_ih, W_hh, b_ih, b_hh, out, gates);
}

template <class T>
void gru_backward_cpu(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                      const T* out, const T* gates, const T* gout, T* gx, T* gh0, T* gW_ih,
                      T* gW_hh, T* gb_ih, T* gb_hh) {
  gru_backward_loop<CpuBackend, T>(d, x, h0, W_ih, W_hh, out, gates, gout, gx, gh0, gW_ih, gW_hh,
                                   gb_ih, gb_hh);
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
