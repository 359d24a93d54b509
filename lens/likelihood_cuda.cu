// lens/likelihood_cuda.cu — device likelihood: lightcurves_device per θ chunk, then one block per θ
// reduces the flux sums (Σx²/m, Σm, Σx, Σlog m, m > 0); the host finishes with the same closed
// form as the CPU path (log_likelihood_from_sums), so both backends share the F_base algebra.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "lens/lensflow_lens.hpp"
#include "lens/likelihood.hpp"

namespace lensflow::lens {
namespace {

constexpr int kReduceThreads = 256;

void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("log_likelihood_device: ") + what + ": " + cudaGetErrorString(e));
}

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

template <class T>
struct DeviceBuffer {
  T* p = nullptr;
  explicit DeviceBuffer(std::size_t n) { cuda_check(cudaMalloc(&p, n * sizeof(T) + 1), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

void log_likelihood_device(const LightCurveView& obs, const double* theta, std::size_t n_theta,
                           const LikelihoodOptions& opt, double* logl, const LikelihoodExtras& extras,
                           void* stream_ptr) {
  if (!cuda_device_available()) throw std::runtime_error("log_likelihood_device: no CUDA device present");
  if (opt.max_chunk_points == 0) throw std::invalid_argument("likelihood: max_chunk_points must be positive");
  if (n_theta == 0) return;
  if (theta == nullptr || logl == nullptr) throw std::invalid_argument("likelihood: null theta or output array");
  const UsablePoints u = usable_points(obs);
  validate_theta(theta, n_theta);
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const std::size_t n_t = u.t.size();
  const std::size_t chunk = std::max<std::size_t>(1, std::min(n_theta, opt.max_chunk_points / n_t));

  DeviceBuffer<double> d_t(n_t), d_x(n_t), d_A(chunk * n_t), d_fs(chunk);
  DeviceBuffer<EventParams> d_ev(chunk);
  DeviceBuffer<DeviceSums> d_sums(chunk);
  cuda_check(cudaMemcpyAsync(d_t.p, u.t.data(), n_t * sizeof(double), cudaMemcpyHostToDevice, stream), "copy t");
  cuda_check(cudaMemcpyAsync(d_x.p, u.x.data(), n_t * sizeof(double), cudaMemcpyHostToDevice, stream), "copy x");
  std::vector<EventParams> ev(chunk);
  std::vector<double> fs(chunk);
  std::vector<DeviceSums> sums(chunk);
  for (std::size_t first = 0; first < n_theta; first += chunk) {
    const std::size_t m = std::min(chunk, n_theta - first);
    for (std::size_t k = 0; k < m; ++k) {
      ev[k] = event_from_theta(theta + (first + k) * kThetaDim);
      fs[k] = theta[(first + k) * kThetaDim + 7];
    }
    cuda_check(cudaMemcpyAsync(d_ev.p, ev.data(), m * sizeof(EventParams), cudaMemcpyHostToDevice, stream), "copy events");
    cuda_check(cudaMemcpyAsync(d_fs.p, fs.data(), m * sizeof(double), cudaMemcpyHostToDevice, stream), "copy f_s");
    lightcurves_device(d_ev.p, m, d_t.p, n_t, opt.finite_source, opt.fs, d_A.p, nullptr, stream);
    flux_sums_kernel<<<static_cast<unsigned>(m), kReduceThreads, 0, stream>>>(d_A.p, d_x.p, d_fs.p, n_t, d_sums.p);
    cuda_check(cudaGetLastError(), "flux_sums_kernel launch");
    cuda_check(cudaMemcpyAsync(sums.data(), d_sums.p, m * sizeof(DeviceSums), cudaMemcpyDeviceToHost, stream), "copy sums");
    cuda_check(cudaStreamSynchronize(stream), "synchronize");  // host buffers are reused next chunk
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
}

}  // namespace lensflow::lens
