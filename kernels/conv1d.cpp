// kernels/conv1d.cpp — CPU im2col / col2im, threaded over the B*L output rows.
#include "kernels/conv1d.hpp"

#include <cstring>

#include "kernels/thread_pool.hpp"

namespace lensflow::kernels {

template <class T> void im2col_cpu(const T* x, T* cols, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t pad = (K - 1) / 2;
  parallel_for(B * L, 256, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t b = r / L, l = r % L;
      T* out = cols + r * K * C;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t src = l + k - pad;
        if (src < 0 || src >= L)
          std::memset(out + k * C, 0, sizeof(T) * size_t(C));
        else
          std::memcpy(out + k * C, x + (b * L + src) * C, sizeof(T) * size_t(C));
      }
    }
  });
}

template <class T>
void col2im_cpu(const T* gcols, T* gx, int64_t B, int64_t L, int64_t C, int64_t K) {
  const int64_t pad = (K - 1) / 2;
  parallel_for(B * L, 256, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t b = r / L, l = r % L;
      T* out = gx + r * C;
      for (int64_t c = 0; c < C; ++c) out[c] = T(0);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t dst = l - k + pad;  // output row whose column block k read x[b, l]
        if (dst < 0 || dst >= L) continue;
        const T* g = gcols + (b * L + dst) * K * C + k * C;
        for (int64_t c = 0; c < C; ++c) out[c] += g[c];
      }
    }
  });
}

template void im2col_cpu<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t);
template void im2col_cpu<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t);
template void col2im_cpu<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t);
template void col2im_cpu<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t);

}  // namespace lensflow::kernels
