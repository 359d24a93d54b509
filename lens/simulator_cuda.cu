// lens/simulator_cuda.cu — CUDA executor of the training-set simulator: draws on the device,
// lightcurves_device + pspl_cut_device per batch, and only the accepted rows (as float32) copied
// back to the host.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "lens/lensflow_lens.hpp"
#include "lens/simulator.hpp"

namespace lensflow::lens {

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("simulate_events (CUDA): ") + what + ": " + cudaGetErrorString(err));
}

__global__ void draw_kernel(PriorBox prior, std::uint64_t seed, std::uint64_t first, std::size_t n, double t0_sim,
                            EventParams* ev) {
  const std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (k < n) ev[k] = simulated_event(prior, seed, first + k, t0_sim);
}

__global__ void to_float_kernel(const double* a, std::size_t n, float* f) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    f[i] = static_cast<float>(a[i]);
}

// Device buffers, freed on every exit path.
template <class T>
struct DeviceBuffer {
  T* p = nullptr;
  explicit DeviceBuffer(std::size_t n) { check(cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(T)), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

void detail::simulate_events_cuda(const SimulationConfig& cfg, std::uint64_t first_index, std::size_t n,
                                  std::size_t batch, const SimulationProgress& progress, SimulationBatch& out) {
  if (!cuda_device_available()) throw std::runtime_error("simulate_events: no CUDA device available");
  const std::size_t n_t = cfg.n_t;
  const std::vector<double> t = simulation_times(cfg);
  DeviceBuffer<double> d_t(n_t), d_A(batch * n_t), d_chi2(batch);
  DeviceBuffer<float> d_f(batch * n_t);
  DeviceBuffer<EventParams> d_ev(batch);
  check(cudaMemcpy(d_t.p, t.data(), n_t * sizeof(double), cudaMemcpyHostToDevice), "copy t");
  std::vector<EventParams> ev(batch);
  std::vector<double> chi2(batch);
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = std::min(batch, n - done);
    const std::uint64_t first = first_index + done;
    draw_kernel<<<unsigned((m + 127) / 128), 128>>>(cfg.prior, cfg.seed, first, m, cfg.t0_sim, d_ev.p);
    check(cudaGetLastError(), "draw kernel");
    lightcurves_device(d_ev.p, m, d_t.p, n_t, cfg.finite_source, cfg.fs, d_A.p, nullptr, nullptr);
    pspl_cut_device(d_ev.p, m, d_t.p, n_t, d_A.p, cfg.cut, d_chi2.p, nullptr);
    to_float_kernel<<<1024, 256>>>(d_A.p, m * n_t, d_f.p);
    check(cudaGetLastError(), "conversion kernel");
    check(cudaMemcpy(ev.data(), d_ev.p, m * sizeof(EventParams), cudaMemcpyDeviceToHost), "copy events");
    check(cudaMemcpy(chi2.data(), d_chi2.p, m * sizeof(double), cudaMemcpyDeviceToHost), "copy chi2");
    for (std::size_t k = 0; k < m; ++k) {
      out.all_chi2_dof.push_back(chi2[k]);
      if (!(chi2[k] >= cfg.cut.threshold)) continue;
      out.accepted_index.push_back(first + k);
      out.accepted_events.push_back(ev[k]);
      out.accepted_chi2_dof.push_back(chi2[k]);
      const std::size_t off = out.accepted_mag.size();
      out.accepted_mag.resize(off + n_t);
      check(cudaMemcpy(out.accepted_mag.data() + off, d_f.p + k * n_t, n_t * sizeof(float), cudaMemcpyDeviceToHost),
            "copy accepted row");
    }
    done += m;
    if (progress) progress(done);
  }
}

}  // namespace lensflow::lens
