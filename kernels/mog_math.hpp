// kernels/mog_math.hpp — one mixture's log-density and gradient, shared by the CPU and CUDA twins.
// Component terms: c_k = log_softmax(logits)_k - log_sigma_k - log(2π)/2 - u_k²/2,
// u_k = (z - mu_k) e^{-log_sigma_k}; out = logsumexp_k c_k. With responsibilities w = softmax(c)
// and mixture weights π = softmax(logits):
//   d/dlogits_k = w_k - π_k, d/dmu_k = w_k u_k / σ_k, d/dlog_sigma_k = w_k (u_k² - 1),
//   d/dz = -Σ_k w_k u_k / σ_k.
#pragma once

#include <cstdint>

#include "kernels/elementwise_math.hpp"

namespace lensflow::kernels {

template <class T> LENSFLOW_HD T mog_lse(const T* v, int64_t K) {
  T m = v[0];
  for (int64_t k = 1; k < K; ++k) m = v[k] > m ? v[k] : m;
  T s = 0;
  for (int64_t k = 0; k < K; ++k) s += m_exp(v[k] - m);
  return m + m_log(s);
}

// Component log-terms c_k for k < K (stored to c, which has room for K values).
template <class T>
LENSFLOW_HD void mog_terms(T z, const T* logits, const T* mu, const T* ls, int64_t K, T* c) {
  const T lz = mog_lse(logits, K);
  const T half_log_2pi = T(0.91893853320467274178);
  for (int64_t k = 0; k < K; ++k) {
    const T u = (z - mu[k]) * m_exp(-ls[k]);
    c[k] = logits[k] - lz - ls[k] - half_log_2pi - T(0.5) * u * u;
  }
}

template <class T>
LENSFLOW_HD T mog_value(T z, const T* logits, const T* mu, const T* ls, int64_t K, T* scratch) {
  mog_terms(z, logits, mu, ls, K, scratch);
  return mog_lse(scratch, K);
}

// g = dL/dout for this mixture; out is the forward value. scratch has room for K values.
template <class T>
LENSFLOW_HD void mog_grad(T z, const T* logits, const T* mu, const T* ls, int64_t K, T out, T g,
                          T* gz, T* glogits, T* gmu, T* gls, T* scratch) {
  mog_terms(z, logits, mu, ls, K, scratch);
  const T lz = mog_lse(logits, K);
  T dz = 0;
  for (int64_t k = 0; k < K; ++k) {
    const T w = m_exp(scratch[k] - out);
    const T pi = m_exp(logits[k] - lz);
    const T inv_s = m_exp(-ls[k]);
    const T u = (z - mu[k]) * inv_s;
    glogits[k] = g * (w - pi);
    gmu[k] = g * w * u * inv_s;
    gls[k] = g * w * (u * u - T(1));
    dz -= w * u * inv_s;
  }
  *gz = g * dz;
}

}  // namespace lensflow::kernels
