// kernels/gru_cell.hpp — the GRU pointwise math for one (batch row, hidden unit), shared by the
// CPU and CUDA twins, and the whole-batch step loop over a backend (GEMMs, launches, buffers) that
// the CUDA twin runs (the CPU twin loops per chunk of batch rows instead: kernels/gru.cpp).
#pragma once

#include <cstdint>

#include "kernels/elementwise_math.hpp"
#include "kernels/gru.hpp"

namespace lensflow::kernels {

// xg: this row's input projections (3H, with b_ih), hg: hidden projections (3H, with b_hh).
template <class T>
LENSFLOW_HD void gru_cell_forward(int64_t j, int64_t H, const T* xg, const T* hg, T hprev, T* h,
                                  T* gates) {
  const T r = sigmoid_value(xg[j] + hg[j]);
  const T z = sigmoid_value(xg[H + j] + hg[H + j]);
  const T hn = hg[2 * H + j];
  const T n = m_tanh(xg[2 * H + j] + r * hn);
  *h = (T(1) - z) * n + z * hprev;
  gates[j] = r;
  gates[H + j] = z;
  gates[2 * H + j] = n;
  gates[3 * H + j] = hn;
}

// g = dL/dh_t (from the output and the next step). Writes the pre-activation gradients of the
// input projections (dxg) and hidden projections (dhg) and the direct part of dL/dh_{t-1}.
template <class T>
LENSFLOW_HD void gru_cell_backward(int64_t j, int64_t H, T g, T hprev, const T* gates, T* dxg,
                                   T* dhg, T* dhprev) {
  const T r = gates[j], z = gates[H + j], n = gates[2 * H + j], hn = gates[3 * H + j];
  const T dn = g * (T(1) - z) * (T(1) - n * n);
  const T dz = g * (hprev - n) * z * (T(1) - z);
  const T dr = dn * hn * r * (T(1) - r);
  dxg[j] = dr;
  dxg[H + j] = dz;
  dxg[2 * H + j] = dn;
  dhg[j] = dr;
  dhg[H + j] = dz;
  dhg[2 * H + j] = dn * r;
  *dhprev = g * z;
}

// The step loops. Backend provides (all on its device):
//   buffer<T>(n) -> owning object with .get(); gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta,
//   C, ldc); bias_rows(bias, y, rows, n) (y[r, :] = bias); copy_or_zero(src, dst, n);
//   step_forward(d, t, Xg, Hg, hprev, ldh, out, gates); step_backward(d, t, gout, gh, gates,
//   hprev, ldh, dXg, dHg); shift_hidden(d, h0, out, hprev_all); sum_rows(x, y, rows, n).
template <class Backend, class T>
void gru_forward_loop(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                      const T* b_ih, const T* b_hh, T* out, T* gates) {
  const int64_t B = d.B, Tn = d.T, H = d.H, G = 3 * H;
  auto Xg = Backend::template buffer<T>(B * Tn * G);
  auto Hg = Backend::template buffer<T>(B * G);
  auto zeros = Backend::template buffer<T>(B * H);
  Backend::copy_or_zero(h0, zeros.get(), B * H);
  Backend::bias_rows(b_ih, Xg.get(), B * Tn, G);
  Backend::gemm(false, true, B * Tn, G, d.In, T(1), x, d.In, W_ih, d.In, T(1), Xg.get(), G);
  for (int64_t t = 0; t < Tn; ++t) {
    const T* hp = t == 0 ? zeros.get() : out + (t - 1) * H;
    const int64_t ldh = t == 0 ? H : Tn * H;
    Backend::bias_rows(b_hh, Hg.get(), B, G);
    Backend::gemm(false, true, B, G, H, T(1), hp, ldh, W_hh, H, T(1), Hg.get(), G);
    Backend::step_forward(d, t, Xg.get(), Hg.get(), hp, ldh, out, gates);
  }
}

template <class Backend, class T>
void gru_backward_loop(const GruDims& d, const T* x, const T* h0, const T* W_ih, const T* W_hh,
                       const T* out, const T* gates, const T* gout, T* gx, T* gh0, T* gW_ih,
                       T* gW_hh, T* gb_ih, T* gb_hh) {
  const int64_t B = d.B, Tn = d.T, H = d.H, G = 3 * H;
  auto dXg = Backend::template buffer<T>(B * Tn * G);
  auto dHg = Backend::template buffer<T>(B * Tn * G);
  auto gh = Backend::template buffer<T>(B * H);
  auto hprev_all = Backend::template buffer<T>(B * Tn * H);
  Backend::shift_hidden(d, h0, out, hprev_all.get());
  Backend::copy_or_zero(static_cast<const T*>(nullptr), gh.get(), B * H);
  for (int64_t t = Tn - 1; t >= 0; --t) {
    // gh holds dL/dh_t from step t+1; the kernel adds gout[:, t] and replaces gh by the direct
    // part of dL/dh_{t-1}; the GEMM adds the part through W_hh.
    Backend::step_backward(d, t, gout, gh.get(), gates, hprev_all.get() + t * H, Tn * H,
                           dXg.get(), dHg.get());
    Backend::gemm(false, false, B, H, G, T(1), dHg.get() + t * G, Tn * G, W_hh, H, T(1), gh.get(),
                  H);
  }
  if (gh0) Backend::copy_or_zero(gh.get(), gh0, B * H);
  const int64_t rows = B * Tn;
  Backend::gemm(false, false, rows, d.In, G, T(1), dXg.get(), G, W_ih, d.In, T(0), gx, d.In);
  Backend::gemm(true, false, G, d.In, rows, T(1), dXg.get(), G, x, d.In, T(0), gW_ih, d.In);
  Backend::gemm(true, false, G, H, rows, T(1), dHg.get(), G, hprev_all.get(), H, T(0), gW_hh, H);
  Backend::sum_rows(dXg.get(), gb_ih, rows, G);
  Backend::sum_rows(dHg.get(), gb_hh, rows, G);
}

}  // namespace lensflow::kernels
