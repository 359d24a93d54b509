// kernels/mog.cu — CUDA mixture log-density: one thread per mixture (K <= 64 components in
// registers/local memory).
#include <stdexcept>
#include <string>

#include "kernels/cuda_utils.cuh"
#include "kernels/grid_loop.cuh"
#include "kernels/mog.hpp"
#include "kernels/mog_math.hpp"

namespace lensflow::kernels {
namespace {

constexpr int64_t kMaxK = 64;

__global__ void mog_forward_kernel(const float* z, const float* logits, const float* mu,
                                   const float* ls, float* out, int64_t n, int64_t K) {
  float scratch[kMaxK];
  LF_GRID_LOOP(i, n)
  out[i] = mog_value<float>(z[i], logits + i * K, mu + i * K, ls + i * K, K, scratch);
}

__global__ void mog_backward_kernel(const float* z, const float* logits, const float* mu,
                                    const float* ls, const float* gout, float* gz, float* gl,
                                    float* gm, float* gs, int64_t n, int64_t K) {
  float scratch[kMaxK];
  LF_GRID_LOOP(i, n) {
    const float out = mog_value<float>(z[i], logits + i * K, mu + i * K, ls + i * K, K, scratch);
    mog_grad<float>(z[i], logits + i * K, mu + i * K, ls + i * K, K, out, gout[i], gz + i,
                    gl + i * K, gm + i * K, gs + i * K, scratch);
  }
}

void check_k(int64_t K) {
  if (K > kMaxK)
    throw std::invalid_argument("mog_logpdf (CUDA): at most " + std::to_string(kMaxK) +
                                " components, got " + std::to_string(K));
}

}  // namespace

void mog_forward_cuda(const float* z, const float* logits, const float* mu,
                      const float* log_sigma, float* out, int64_t n, int64_t K) {
  check_k(K);
  if (n == 0) return;
  mog_forward_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(
      z, logits, mu, log_sigma, out, n, K);
  LF_CUDA_LAUNCHED();
}

void mog_backward_cuda(const float* z, const float* logits, const float* mu,
                       const float* log_sigma, const float* gout, float* gz, float* glogits,
                       float* gmu, float* glog_sigma, int64_t n, int64_t K) {
  check_k(K);
  if (n == 0) return;
  mog_backward_kernel<<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream()>>>(
      z, logits, mu, log_sigma, gout, gz, glogits, gmu, glog_sigma, n, K);
  LF_CUDA_LAUNCHED();
}

}  // namespace lensflow::kernels
