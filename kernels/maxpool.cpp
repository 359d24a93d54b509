// kernels/maxpool.cpp — CPU max-pool by 2, threaded over output rows.
#include "kernels/maxpool.hpp"

#include <algorithm>

#include "core/thread_pool.hpp"

namespace lensflow::kernels {

template <class T> void maxpool2_forward_cpu(const T* x, T* y, int64_t B, int64_t L, int64_t C) {
  const int64_t Lo = L / 2;
  core::parallel_for(B * Lo, 256, [&](int64_t s, int64_t e) {
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
  // One output row at a time writes both input rows of its pair: branch-free selects that
  // vectorise (a tie sends the gradient to the first element).
  core::parallel_for(B * Lo, 256, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t b = r / Lo, l = r % Lo;
      const T* __restrict x0 = x + (b * L + 2 * l) * C;
      const T* __restrict x1 = x0 + C;
      const T* __restrict m = y + r * C;
      const T* __restrict g = gy + r * C;
      T* __restrict g0 = gx + (b * L + 2 * l) * C;
      T* __restrict g1 = g0 + C;
      for (int64_t c = 0; c < C; ++c) {
        const T gc = g[c], mc = m[c];
        const T to_first = x0[c] == mc ? gc : T(0);
        g0[c] = to_first;
        g1[c] = ((x0[c] != mc) & (x1[c] == mc)) ? gc : T(0);
      }
    }
  });
  if (L % 2 == 1)  // the dropped last step of an odd L gets no gradient
    for (int64_t b = 0; b < B; ++b) std::fill(gx + (b * L + L - 1) * C, gx + (b * L + L) * C, T(0));
}

template void maxpool2_forward_cpu<float>(const float*, float*, int64_t, int64_t, int64_t);
template void maxpool2_forward_cpu<double>(const double*, double*, int64_t, int64_t, int64_t);
template void maxpool2_backward_cpu<float>(const float*, const float*, const float*, float*,
                                           int64_t, int64_t, int64_t);
template void maxpool2_backward_cpu<double>(const double*, const double*, const double*, double*,
                                            int64_t, int64_t, int64_t);

}  // namespace lensflow::kernels
