// kernels/mog.hpp — mixture-of-Gaussians log-density per dimension, fused forward and backward.
// n = B*D independent mixtures of K components: z[n], logits/mu/log_sigma [n, K] -> out[n].
#pragma once

#include <cstdint>

namespace lensflow::kernels {

template <class T>
void mog_forward_cpu(const T* z, const T* logits, const T* mu, const T* log_sigma, T* out,
                     int64_t n, int64_t K);
// gout[n] -> gz[n], glogits/gmu/glog_sigma [n, K] (overwritten).
template <class T>
void mog_backward_cpu(const T* z, const T* logits, const T* mu, const T* log_sigma, const T* gout,
                      T* gz, T* glogits, T* gmu, T* glog_sigma, int64_t n, int64_t K);

void mog_forward_cuda(const float* z, const float* logits, const float* mu,
                      const float* log_sigma, float* out, int64_t n, int64_t K);
void mog_backward_cuda(const float* z, const float* logits, const float* mu,
                       const float* log_sigma, const float* gout, float* gz, float* glogits,
                       float* gmu, float* glog_sigma, int64_t n, int64_t K);

}  // namespace lensflow::kernels
