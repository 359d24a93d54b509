// sim/pspl_cut_cuda.cu — CUDA executor of the 1L1S cut (the physics is in sim/pspl_cut.hpp).
// One block per event in both modes: the block's threads stride over the epochs and every sum of
// the cut (the window χ², the Levenberg–Marquardt normal equations, the trial χ², the peak of A) is
// a block reduction whose total every thread receives, so all threads follow the same fit and
// the loads of A and t are coalesced. The reduction order is fixed (deterministic results).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "core/cuda_check.hpp"
#include "sim/pspl_cut.hpp"

namespace lensflow::sim {

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;
constexpr int kMaxSums = 9;  // the most sums taken at once (the normal equations)

// The block-wide sums policy of sim/pspl_cut.hpp: per-thread partial sums over a strided range,
// warp shuffles, then every thread adds the warps' partials in warp order from shared memory.
// Every thread of the block must call it (the calls are in uniform control flow: the fit's
// decisions depend only on totals that all threads share).
struct BlockSums {
  double* partial;  // shared, kMaxSums * kWarps
  long* where;      // shared, kWarps

  template <int K, class F>
  __device__ void total(long n, const F& f, double (&out)[K]) const {
    static_assert(K <= kMaxSums, "BlockSums: too many sums at once");
    double acc[K];
    for (int k = 0; k < K; ++k) acc[k] = 0.0;
    for (long i = threadIdx.x; i < n; i += kBlock) f(i, acc);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int k = 0; k < K; ++k) {
      double v = acc[k];
      for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
      if (lane == 0) partial[k * kWarps + warp] = v;
    }
    __syncthreads();
    for (int k = 0; k < K; ++k) {
      double s = 0.0;
      for (int w = 0; w < kWarps; ++w) s += partial[k * kWarps + w];
      out[k] = s;
    }
    __syncthreads();  // partial is reused by the next call
  }

  // Lowest index of the largest a[i] (the serial scan's answer).
  __device__ long argmax(const double* a, long n) const {
    long best = 0;  // n >= 4 (checked on the host)
    for (long i = threadIdx.x; i < n; i += kBlock)
      if (a[i] > a[best]) best = i;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int o = 16; o > 0; o >>= 1) {
      const long other = __shfl_down_sync(0xffffffffu, best, o);
      if (a[other] > a[best] || (a[other] == a[best] && other < best)) best = other;
    }
    if (lane == 0) where[warp] = best;
    __syncthreads();
    best = where[0];
    for (int w = 1; w < kWarps; ++w) {
      const long other = where[w];
      if (a[other] > a[best] || (a[other] == a[best] && other < best)) best = other;
    }
    __syncthreads();
    return best;
  }
};

__global__ void __launch_bounds__(kBlock) cut_kernel(const lens::EventParams* ev, const double* t, long n_t,
                                                     const double* A, CutOptions opt, double* out) {
  __shared__ double partial[kMaxSums * kWarps];
  __shared__ long where[kWarps];
  const long e = blockIdx.x;
  const double r = cut_chi2_dof(BlockSums{partial, where}, opt, ev[e], A + e * n_t, t, n_t);
  if (threadIdx.x == 0) out[e] = r;
}

}  // namespace

void pspl_cut_device(const lens::EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, const double* A,
                     const CutOptions& opt, double* chi2_dof, void* stream) {
  if (n_events == 0) return;
  if (!ev || !t || !A || !chi2_dof) throw std::invalid_argument("pspl_cut_device: null pointer with n_events > 0");
  if (n_t < 4) throw std::invalid_argument("pspl_cut_device: need at least 4 epochs");
  if (n_events > 0x7fffffffu) throw std::invalid_argument("pspl_cut_device: more than 2^31 - 1 events in one call");
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    throw std::runtime_error("pspl_cut_device: no CUDA device available");
  }
  cut_kernel<<<static_cast<unsigned>(n_events), kBlock, 0, static_cast<cudaStream_t>(stream)>>>(ev, t, long(n_t), A,
                                                                                                 opt, chi2_dof);
  core::cuda_check(cudaGetLastError(), "pspl_cut_device", "kernel launch");
}

}  // namespace lensflow::sim
