// lens/pspl_cut_cuda.cu — CUDA executor of the 1L1S cut (the physics is in lens/pspl_cut.hpp).
// Paper mode: one block per event, threads stride over the epochs, block reduction of χ² and of
// the window count. Fit mode: one thread per event running the same fit_pspl as the CPU.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "lens/pspl_cut.hpp"

namespace lensflow::lens {

namespace {

constexpr int kBlock = 256;

__global__ void paper_cut_kernel(const EventParams* ev, const double* t, long n_t, const double* A, CutOptions opt,
                                 double* out) {
  const long e = blockIdx.x;
  const EventParams p = ev[e];
  const double* a = A + e * n_t;
  double c = 0.0, m = 0.0;
  for (long i = threadIdx.x; i < n_t; i += blockDim.x) {
    if (!detail::in_window(t[i], opt.window_lo, opt.window_hi)) continue;
    const double d = a[i] - single_point_mag(detail::pspl_u(t[i], p.t0, p.u0, p.tE));
    c += d * d / a[i];
    m += 1.0;
  }
  __shared__ double sc[kBlock], sm[kBlock];
  sc[threadIdx.x] = c;
  sm[threadIdx.x] = m;
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      sc[threadIdx.x] += sc[threadIdx.x + w];
      sm[threadIdx.x] += sm[threadIdx.x + w];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double n = sm[0];
    out[e] = n > 3.0 ? opt.snr_base * opt.snr_base * sc[0] / (n - 3.0) : HUGE_VAL;
  }
}

__global__ void fit_cut_kernel(const EventParams* ev, std::size_t n_events, const double* t, long n_t, const double* A,
                               CutOptions opt, double* out) {
  const std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (e >= n_events) return;
  out[e] = cut_chi2_dof(opt, ev[e], A + e * n_t, t, n_t);
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("pspl_cut_device: ") + what + ": " + cudaGetErrorString(err));
}

}  // namespace

void pspl_cut_device(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, const double* A,
                     const CutOptions& opt, double* chi2_dof, void* stream) {
  if (n_events == 0) return;
  if (!ev || !t || !A || !chi2_dof) throw std::invalid_argument("pspl_cut_device: null pointer with n_events > 0");
  if (n_t < 4) throw std::invalid_argument("pspl_cut_device: need at least 4 epochs");
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
    throw std::runtime_error("pspl_cut_device: no CUDA device available");
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (opt.mode == CutMode::paper) {
    paper_cut_kernel<<<static_cast<unsigned>(n_events), kBlock, 0, s>>>(ev, t, long(n_t), A, opt, chi2_dof);
  } else {
    const unsigned blocks = static_cast<unsigned>((n_events + 63) / 64);
    fit_cut_kernel<<<blocks, 64, 0, s>>>(ev, n_events, t, long(n_t), A, opt, chi2_dof);
  }
  check(cudaGetLastError(), "kernel launch");
}

}  // namespace lensflow::lens
