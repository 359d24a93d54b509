// sim/likelihood_cuda.cu — device likelihood: lens::lightcurves_device per θ chunk, then one block per θ
// reduces the flux sums (Σx²/m, Σm, Σx, Σlog m, m > 0); the host finishes with the same closed
// form as the CPU path (log_likelihood_from_sums), so both backends share the F_base algebra.
// Device and pinned buffers persist between calls (no cudaMalloc per call in MCMC).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cuda_buffers.cuh"
#include "core/cuda_check.hpp"
#include "lens/lensflow_lens.hpp"
#include "sim/likelihood.hpp"

namespace lensflow::sim {
namespace {

constexpr int kReduceThreads = 256;

void cuda_check(cudaError_t e, const char* what) { core::cuda_check(e, "log_likelihood_device", what); }

struct DeviceSums {
  double a, b, sum_x, sum_log_m;
  int positive;
};

// Block k reduces the n_t magnifications of θ k (A row k) against the observed fluxes x.
__global__ void flux_sums_kernel(const double* __restrict__ A, const double* __restrict__ x,
                                 const double* __restrict__ fs, std::size_t n_t, DeviceSums* out) {
  __shared__ double sa[kReduceThreads], sb[kReduceThreads], sx[kReduceThreads], sl[kReduceThreads];
  __shared__ int sp[kReduceThreads];
  const std::size_t k = blockIdx.x;
  const double f = fs[k];
  double a = 0.0, b = 0.0, s = 0.0, l = 0.0;
  int pos = 1;
  for (std::size_t i = threadIdx.x; i < n_t; i += blockDim.x) {
    const double m = f * A[k * n_t + i] + 1.0 - f;
    if (!(m > 0.0)) {
      pos = 0;
      continue;
    }
    a += x[i] * x[i] / m;
    b += m;
    s += x[i];
    l += log(m);
  }
  sa[threadIdx.x] = a;
  sb[threadIdx.x] = b;
  sx[threadIdx.x] = s;
  sl[threadIdx.x] = l;
  sp[threadIdx.x] = pos;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      sa[threadIdx.x] += sa[threadIdx.x + w];
      sb[threadIdx.x] += sb[threadIdx.x + w];
      sx[threadIdx.x] += sx[threadIdx.x + w];
      sl[threadIdx.x] += sl[threadIdx.x + w];
      sp[threadIdx.x] &= sp[threadIdx.x + w];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[k] = {sa[0], sb[0], sx[0], sl[0], sp[0]};
}

// Buffers kept across calls: MCMC evaluates the likelihood of the same light curve every step,
// so the per-call cost is the θ upload, the kernels and one read-back of the sums. Grown to the
// largest call seen; one call at a time (each call ends with a stream synchronization, so the
// next one, on any stream, finds no queued work using them).
struct Context {
  std::mutex m;
  core::DeviceArray<double> t, x, A, fs;
  core::DeviceArray<lens::EventParams> ev;
  core::DeviceArray<DeviceSums> sums;
  core::PinnedArray<lens::EventParams> h_ev;
  core::PinnedArray<double> h_fs;
  core::PinnedArray<DeviceSums> h_sums;
  std::vector<double> t_host, x_host;  // what t and x hold (uploaded again only when it changes)
};

Context& context() {
  static Context* c = new Context();  // never destroyed: CUDA may be torn down first at exit
  return *c;
}

}  // namespace

void log_likelihood_device(const LightCurveView& obs, const double* theta, std::size_t n_theta,
                           const LikelihoodOptions& opt, double* logl, const LikelihoodExtras& extras,
                           void* stream_ptr) {
  constexpr const char* fn = "log_likelihood_device";
  if (!lens::cuda_device_available()) throw std::runtime_error("log_likelihood_device: no CUDA device present");
  if (opt.max_chunk_points == 0) throw std::invalid_argument("likelihood: max_chunk_points must be positive");
  if (n_theta == 0) return;
  if (theta == nullptr || logl == nullptr) throw std::invalid_argument("likelihood: null theta or output array");
  UsablePoints u = usable_points(obs);
  validate_theta(theta, n_theta);
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const std::size_t n_t = u.t.size();
  const std::size_t chunk = std::max<std::size_t>(1, std::min(n_theta, opt.max_chunk_points / n_t));

  core::retain_stream_ordered_pool();
  Context& c = context();
  std::lock_guard<std::mutex> lock(c.m);
  try {
    if (c.t_host != u.t || c.x_host != u.x) {
      c.t_host.clear();  // stale until the copies below have finished
      cuda_check(cudaMemcpyAsync(c.t.reserve(n_t, fn), u.t.data(), n_t * sizeof(double), cudaMemcpyHostToDevice, stream), "copy t");
      cuda_check(cudaMemcpyAsync(c.x.reserve(n_t, fn), u.x.data(), n_t * sizeof(double), cudaMemcpyHostToDevice, stream), "copy x");
      cuda_check(cudaStreamSynchronize(stream), "synchronize");  // u is freed on return
      c.t_host = std::move(u.t);
      c.x_host = std::move(u.x);
    }
    double* d_A = c.A.reserve(chunk * n_t, fn);
    double* d_fs = c.fs.reserve(chunk, fn);
    lens::EventParams* d_ev = c.ev.reserve(chunk, fn);
    DeviceSums* d_sums = c.sums.reserve(chunk, fn);
    lens::EventParams* ev = c.h_ev.reserve(chunk, fn);
    double* fs = c.h_fs.reserve(chunk, fn);
    DeviceSums* sums = c.h_sums.reserve(chunk, fn);
    for (std::size_t first = 0; first < n_theta; first += chunk) {
      const std::size_t m = std::min(chunk, n_theta - first);
      for (std::size_t k = 0; k < m; ++k) {
        ev[k] = event_from_theta(theta + (first + k) * kThetaDim);
        fs[k] = theta[(first + k) * kThetaDim + 7];
      }
      cuda_check(cudaMemcpyAsync(d_ev, ev, m * sizeof(lens::EventParams), cudaMemcpyHostToDevice, stream), "copy events");
      cuda_check(cudaMemcpyAsync(d_fs, fs, m * sizeof(double), cudaMemcpyHostToDevice, stream), "copy f_s");
      lens::lightcurves_device(d_ev, m, c.t.get(), n_t, opt.finite_source, opt.fs, d_A, nullptr, stream);
      flux_sums_kernel<<<static_cast<unsigned>(m), kReduceThreads, 0, stream>>>(d_A, c.x.get(), d_fs, n_t, d_sums);
      cuda_check(cudaGetLastError(), "flux_sums_kernel launch");
      cuda_check(cudaMemcpyAsync(sums, d_sums, m * sizeof(DeviceSums), cudaMemcpyDeviceToHost, stream), "copy sums");
      cuda_check(cudaStreamSynchronize(stream), "synchronize");  // the staging buffers are reused next chunk
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t j = first + k;
        FluxSums s;
        s.a = sums[k].a;
        s.b = sums[k].b;
        s.sum_x = sums[k].sum_x;
        s.sum_log_m = sums[k].sum_log_m;
        s.n = n_t;
        s.positive = sums[k].positive != 0;
        logl[j] = log_likelihood_from_sums(s, opt.fbase, extras.fbase ? extras.fbase + j : nullptr,
                                           extras.chi2 ? extras.chi2 + j : nullptr);
      }
    }
  } catch (...) {
    cudaStreamSynchronize(stream);  // leave no queued work on the kept buffers
    cudaGetLastError();
    throw;
  }
}

}  // namespace lensflow::sim
