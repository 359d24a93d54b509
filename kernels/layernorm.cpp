// kernels/layernorm.cpp — CPU layer norm, threaded over rows; gamma/beta gradients from per-chunk
// partial sums (deterministic: fixed chunking, whatever the thread count, summed in chunk order).
#include "kernels/layernorm.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {

template <class T>
void layernorm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd,
                           int64_t rows, int64_t C, double eps) {
  core::parallel_for(rows, 64, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const T* xr = x + r * C;
      double m = 0;
      for (int64_t c = 0; c < C; ++c) m += xr[c];
      m /= double(C);
      double v = 0;
      for (int64_t c = 0; c < C; ++c) v += (xr[c] - m) * (xr[c] - m);
      v /= double(C);
      const double rs = 1.0 / std::sqrt(v + eps);
      mean[r] = T(m);
      rstd[r] = T(rs);
      T* yr = y + r * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = T((xr[c] - m) * rs) * gamma[c] + beta[c];
    }
  });
}

template <class T>
void layernorm_backward_cpu(const T* x, const T* gamma, const T* mean, const T* rstd, const T* gy,
                            T* gx, T* ggamma, T* gbeta, int64_t rows, int64_t C) {
  // A fixed number of chunks (not one per thread): the sums do not depend on the thread count.
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(rows / 64, 8));
  const int64_t step = (rows + chunks - 1) / chunks;
  std::vector<T> pg(size_t(chunks * C), T(0)), pb(size_t(chunks * C), T(0));
  core::parallel_for(chunks, 1, [&](int64_t s, int64_t e) {
    for (int64_t ch = s; ch < e; ++ch) {
      T* g = pg.data() + ch * C;
      T* bsum = pb.data() + ch * C;
      for (int64_t r = ch * step; r < std::min(rows, (ch + 1) * step); ++r) {
        const T* xr = x + r * C;
        const T* gr = gy + r * C;
        const T m = mean[r], rs = rstd[r];
        // gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), gxhat = gy * gamma.
        T a = 0, b = 0;
        for (int64_t c = 0; c < C; ++c) {
          const T xh = (xr[c] - m) * rs, gh = gr[c] * gamma[c];
          a += gh;
          b += gh * xh;
          g[c] += gr[c] * xh;
          bsum[c] += gr[c];
        }
        a /= T(C);
        b /= T(C);
        T* out = gx + r * C;
        for (int64_t c = 0; c < C; ++c) {
          const T xh = (xr[c] - m) * rs;
          out[c] = rs * (gr[c] * gamma[c] - a - xh * b);
        }
      }
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    T sg = 0, sb = 0;
    for (int64_t ch = 0; ch < chunks; ++ch) {
      sg += pg[size_t(ch * C + c)];
      sb += pb[size_t(ch * C + c)];
    }
    ggamma[c] = sg;
    gbeta[c] = sb;
  }
}

#define LF_INSTANTIATE(T)                                                                       \
  template void layernorm_forward_cpu<T>(const T*, const T*, const T*, T*, T*, T*, int64_t,     \
                                         int64_t, double);                                      \
  template void layernorm_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                          T*, T*, int64_t, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
