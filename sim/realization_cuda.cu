// sim/realization_cuda.cu — CUDA executor of the realization: one block per sample; threads
// compute the observed fluxes (same LENSFLOW_HD code as the CPU), a bitonic sort in shared memory
// finds the median, then every point is preprocessed.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "core/cuda_check.hpp"
#include "lens/lensflow_lens.hpp"
#include "sim/realization.hpp"

namespace lensflow::sim {

namespace {

constexpr int kThreads = 512;
constexpr std::size_t kMaxWin = kDeviceMaxWindow;  // shared-memory sort capacity (32 KiB of floats)

__global__ void realize_kernel(RealizationConfig cfg, ThetaStandardization st, const float* mag, const lens::EventParams* ev,
                               const std::uint64_t* sample_id, const std::int64_t* rows, std::uint64_t seed,
                               std::uint64_t epoch, unsigned pow2, float* x_out, float* theta_std_out,
                               double* theta_out, float* flux_out) {
  extern __shared__ float s[];
  const std::size_t b = blockIdx.x;
  const std::size_t row = rows ? std::size_t(rows[b]) : b;  // where sample b's inputs are
  const long W = long(cfg.n_win);
  const std::uint64_t id = sample_id[row];
  const RealizationDraw d = realization_draw(cfg, seed, epoch, id);
  const float* m = mag + row * cfg.n_seq;
  float* xo = x_out + b * W;
  for (long j = threadIdx.x; j < long(pow2); j += blockDim.x) {
    if (j < W) {
      const float x = realization_flux(cfg, m, d, seed, epoch, id, j);
      s[j] = x;
      xo[j] = x;  // raw flux parked in the output until the median is known
      if (flux_out) flux_out[b * W + j] = x;
    } else {
      s[j] = HUGE_VALF;  // padding sorts to the end
    }
  }
  __syncthreads();
  // Bitonic sort of pow2 values, ascending.
  for (unsigned size = 2; size <= pow2; size <<= 1) {
    for (unsigned stride = size >> 1; stride > 0; stride >>= 1) {
      for (unsigned i = threadIdx.x; i < pow2; i += blockDim.x) {
        const unsigned partner = i ^ stride;
        if (partner > i) {
          const bool ascending = (i & size) == 0;
          const float a = s[i], c = s[partner];
          if ((a > c) == ascending) {
            s[i] = c;
            s[partner] = a;
          }
        }
      }
      __syncthreads();
    }
  }
  const float med = median_of_sorted(s, std::size_t(W));
  for (long j = threadIdx.x; j < W; j += blockDim.x) xo[j] = preprocess_point(xo[j], med);
  if (threadIdx.x == 0) {
    double th[kThetaDim];
    realization_theta(cfg, ev[row], d, th);
    for (int k = 0; k < kThetaDim; ++k) {
      theta_std_out[b * kThetaDim + k] = float((th[k] - st.mean[k]) / st.std[k]);
      if (theta_out) theta_out[b * kThetaDim + k] = th[k];
    }
  }
}

}  // namespace

void realize_batch_device(const RealizationConfig& cfg, const float* mag, const lens::EventParams* ev,
                          const std::uint64_t* sample_id, std::size_t B, std::uint64_t seed, std::uint64_t epoch,
                          float* x_out, float* theta_std_out, double* theta_out, float* flux_out, void* stream,
                          const std::int64_t* rows) {
  validate_realization_config(cfg);
  if (cfg.n_win > kMaxWin)
    throw std::invalid_argument("realize_batch_device: n_win = " + std::to_string(cfg.n_win) +
                                " exceeds the device limit of 8192");
  if (B == 0) return;
  if (!mag || !ev || !sample_id || !x_out || !theta_std_out)
    throw std::invalid_argument("realize_batch_device: null pointer with B > 0");
  if (!lens::cuda_device_available()) throw std::runtime_error("realize_batch_device: no CUDA device available");
  unsigned pow2 = 1;
  while (pow2 < cfg.n_win) pow2 <<= 1;
  const ThetaStandardization st = theta_standardization(cfg.prior);
  realize_kernel<<<static_cast<unsigned>(B), kThreads, pow2 * sizeof(float), static_cast<cudaStream_t>(stream)>>>(
      cfg, st, mag, ev, sample_id, rows, seed, epoch, pow2, x_out, theta_std_out, theta_out, flux_out);
  core::cuda_check(cudaGetLastError(), "realize_batch_device", "kernel launch");
}

}  // namespace lensflow::sim
