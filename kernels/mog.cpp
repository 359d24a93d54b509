// kernels/mog.cpp — CPU twin of the mixture log-density, threaded over mixtures.
#include "kernels/mog.hpp"

#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/mog_math.hpp"

namespace lensflow::kernels {

template <class T>
void mog_forward_cpu(const T* z, const T* logits, const T* mu, const T* log_sigma, T* out,
                     int64_t n, int64_t K) {
  core::parallel_for(n, 256, [&](int64_t s, int64_t e) {
    std::vector<T> scratch(static_cast<size_t>(K));
    for (int64_t i = s; i < e; ++i)
      out[i] = mog_value<T>(z[i], logits + i * K, mu + i * K, log_sigma + i * K, K, scratch.data());
  });
}

template <class T>
void mog_backward_cpu(const T* z, const T* logits, const T* mu, const T* log_sigma, const T* gout,
                      T* gz, T* glogits, T* gmu, T* glog_sigma, int64_t n, int64_t K) {
  core::parallel_for(n, 256, [&](int64_t s, int64_t e) {
    std::vector<T> scratch(static_cast<size_t>(K));
    for (int64_t i = s; i < e; ++i) {
      const T out = mog_value<T>(z[i], logits + i * K, mu + i * K, log_sigma + i * K, K,
                                 scratch.data());
      mog_grad<T>(z[i], logits + i * K, mu + i * K, log_sigma + i * K, K, out, gout[i], gz + i,
                  glogits + i * K, gmu + i * K, glog_sigma + i * K, scratch.data());
    }
  });
}

#define LF_INSTANTIATE(T)                                                                      \
  template void mog_forward_cpu<T>(const T*, const T*, const T*, const T*, T*, int64_t,        \
                                   int64_t);                                                   \
  template void mog_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,  \
                                    T*, T*, int64_t, int64_t);
LF_INSTANTIATE(float)
LF_INSTANTIATE(double)
#undef LF_INSTANTIATE

}  // namespace lensflow::kernels
