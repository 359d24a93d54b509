// kernels/maxpool.cpp — CPU max-pool by 2, threaded over output rows.
#include "kernels/maxpool.hpp"

#include "kernels/thread_pool.hpp"

namespace lensflow::kernels {

template <class T> void maxpool2_forward_cpu(const T* x, T* y, int64_t B, int64_t L, int64_t C) {
  const int64_t Lo = L / 2;
  parallel_for(B * Lo, 256, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t b = r / Lo, l = r % Lo;
      const T* a = x + (b * L + 2 * l) * C;
      const T* c2 = a + C;
      T* out = y + r * C;
      for (int64_t c = 0; c < C; ++c) out[c] = c2[c] > a[c] ? c2[c] : a[c];
    }
  });
}

template <class T>
void maxpool2_backward_cpu(const T* x, const T* y, const T* gy, T* gx, int64_t B, int64_t L,
                           int64_t C) {
  const int64_t Lo = L / 2;
  parallel_for(B * L, 256, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t b = r / L, l = r % L;
      T* out = gx + r * C;
      if (l / 2 >= Lo) {  // the dropped last step of an odd L
        for (int64_t c = 0; c < C; ++c) out[c] = T(0);
        continue;
      }
      const int64_t ro = b * Lo + l / 2;
      const T* first = x + (b * L + (l & ~int64_t(1))) * C;
      const T* xr = x + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const T m = y[ro * C + c];
        const bool wins = (l % 2 == 0) ? xr[c] == m : (xr[c] == m && first[c] != m);
        out[c] = wins ? gy[ro * C + c] : T(0);
      }
    }
  });
}

template void maxpool2_forward_cpu<float>(const float*, float*, int64_t, int64_t, int64_t);
template void maxpool2_forward_cpu<double>(const double*, double*, int64_t, int64_t, int64_t);
template void maxpool2_backward_cpu<float>(const float*, const float*, const float*, float*,
                                           int64_t, int64_t, int64_t);
template void maxpool2_backward_cpu<double>(const double*, const double*, const double*, double*,
                                            int64_t, int64_t, int64_t);

}  // namespace lensflow::kernels
