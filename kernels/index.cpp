// kernels/index.cpp — CPU gathers / scatters / block copies, threaded over the outer dim (the
// scatter is serial within one outer slice, so repeated indices never race).
#include "kernels/index.hpp"

#include <cstring>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {

template <class T>
void gather_axis_cpu(const T* x, T* y, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                     int64_t inner) {
  core::parallel_for(outer * m, 64, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t o = r / m, j = r % m;
      std::memcpy(y + r * inner, x + (o * n + idx[j]) * inner, sizeof(T) * size_t(inner));
    }
  });
}

template <class T>
void scatter_add_axis_cpu(const T* gy, T* gx, const int64_t* idx, int64_t outer, int64_t n,
                          int64_t m, int64_t inner) {
  core::parallel_for(outer, 1, [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o)
      for (int64_t j = 0; j < m; ++j) {
        T* dst = gx + (o * n + idx[j]) * inner;
        const T* src = gy + (o * m + j) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  });
}

template <class T>
void copy_block_cpu(const T* src, T* dst, int64_t outer, int64_t n_src, int64_t n_dst,
                    int64_t inner, int64_t src_off, int64_t dst_off, int64_t count) {
  core::parallel_for(outer, 1, [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o)
      std::memcpy(dst + (o * n_dst + dst_off) * inner, src + (o * n_src + src_off) * inner,
                  sizeof(T) * size_t(count * inner));
  });
}

#define LF_INSTANTIATE(T)                                                                       \
  template void gather_axis_cpu<T>(const T*, T*, const int64_t*, int64_t, int64_t, int64_t,     \
                                   int64_t);                                                    \
  template void scatter_add_axis_cpu<T>(const T*, T*, const int64_t*, int64_t, int64_t, int64_t, \
                                        int64_t);                                               \
  template void copy_block_cpu<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t,    \
                                  int64_t, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
