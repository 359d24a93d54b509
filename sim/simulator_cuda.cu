// sim/simulator_cuda.cu — CUDA executor of the training-set simulator: draws on the device,
// lens::lightcurves_device + pspl_cut_device per batch, the accepted events compacted on the device, and
// only the accepted rows (as float32) copied back, in one copy per batch into pinned memory.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cuda_buffers.cuh"
#include "core/cuda_check.hpp"
#include "lens/lensflow_lens.hpp"
#include "sim/simulator.hpp"

namespace lensflow::sim {

namespace {

void check(cudaError_t err, const char* what) { core::cuda_check(err, "simulate_events (CUDA)", what); }

__global__ void draw_kernel(PriorBox prior, std::uint64_t seed, std::uint64_t first, std::size_t n, double t0_sim,
                            lens::EventParams* ev) {
  const std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (k < n) ev[k] = simulated_event(prior, seed, first + k, t0_sim);
}

// Order-preserving compaction of the accepted events of a batch (χ²/dof >= threshold; NaN is
// rejected, as on the host), in one block: a running block-wide scan of the accept flags gives each
// accepted event its output row. Writes the accepted events, their χ²/dof and batch offsets k
// packed to the front, and their count. m is one device batch (thousands), so one block suffices.
constexpr int kScanThreads = 1024;
__global__ void __launch_bounds__(kScanThreads)
    compact_kernel(const lens::EventParams* ev, const double* chi2, std::size_t m, double threshold, long long* row,
                   lens::EventParams* acc_ev, double* acc_chi2, std::uint64_t* acc_k, unsigned long long* count) {
  __shared__ unsigned s[kScanThreads];
  unsigned long long base = 0;
  for (std::size_t k0 = 0; k0 < m; k0 += kScanThreads) {
    const std::size_t k = k0 + threadIdx.x;
    const unsigned keep = k < m && chi2[k] >= threshold;
    s[threadIdx.x] = keep;
    __syncthreads();
    for (unsigned off = 1; off < kScanThreads; off <<= 1) {  // inclusive scan (Hillis–Steele)
      const unsigned v = threadIdx.x >= off ? s[threadIdx.x - off] : 0u;
      __syncthreads();
      s[threadIdx.x] += v;
      __syncthreads();
    }
    if (k < m) {
      const unsigned long long r = base + s[threadIdx.x] - 1;
      row[k] = keep ? static_cast<long long>(r) : -1;
      if (keep) {
        acc_ev[r] = ev[k];
        acc_chi2[r] = chi2[k];
        acc_k[r] = k;
      }
    }
    base += s[kScanThreads - 1];
    __syncthreads();  // s is rewritten by the next chunk
  }
  if (threadIdx.x == 0) *count = base;
}

// Accepted rows of A, as float32, packed to the front of rows (row[k] = output row or -1).
__global__ void pack_rows_kernel(const double* A, std::size_t m, std::size_t n_t, const long long* row, float* rows) {
  for (std::size_t k = blockIdx.y; k < m; k += gridDim.y) {
    const long long r = row[k];
    if (r < 0) continue;
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n_t;
         i += std::size_t(gridDim.x) * blockDim.x)
      rows[std::size_t(r) * n_t + i] = static_cast<float>(A[k * n_t + i]);
  }
}

}  // namespace

void detail::simulate_events_cuda(const SimulationConfig& cfg, std::uint64_t first_index, std::size_t n,
                                  std::size_t batch, const SimulationProgress& progress, SimulationBatch& out) {
  constexpr const char* fn = "simulate_events (CUDA)";
  if (!lens::cuda_device_available()) throw std::runtime_error("simulate_events: no CUDA device available");
  using core::DeviceArray;
  using core::PinnedArray;
  core::retain_stream_ordered_pool();
  const std::size_t n_t = cfg.n_t;
  const std::vector<double> t = simulation_times(cfg);
  DeviceArray<double> d_t(n_t, fn), d_A(batch * n_t, fn), d_chi2(batch, fn), d_acc_chi2(batch, fn);
  DeviceArray<float> d_rows(batch * n_t, fn);
  DeviceArray<lens::EventParams> d_ev(batch, fn), d_acc_ev(batch, fn);
  DeviceArray<long long> d_row(batch, fn);
  DeviceArray<std::uint64_t> d_acc_k(batch, fn);
  DeviceArray<unsigned long long> d_count(1, fn);
  PinnedArray<double> h_chi2, h_acc_chi2;
  PinnedArray<lens::EventParams> h_acc_ev;
  PinnedArray<std::uint64_t> h_acc_k;
  PinnedArray<unsigned long long> h_count;
  PinnedArray<float> h_rows;
  h_chi2.reserve(batch, fn);
  h_acc_chi2.reserve(batch, fn);
  h_acc_ev.reserve(batch, fn);
  h_acc_k.reserve(batch, fn);
  h_count.reserve(1, fn);
  h_rows.reserve(batch * n_t, fn);
  check(cudaMemcpy(d_t.get(), t.data(), n_t * sizeof(double), cudaMemcpyHostToDevice), "copy t");
  const unsigned row_blocks = unsigned(std::min<std::size_t>((n_t + 255) / 256, 64));
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = std::min(batch, n - done);
    const std::uint64_t first = first_index + done;
    draw_kernel<<<unsigned((m + 127) / 128), 128>>>(cfg.prior, cfg.seed, first, m, cfg.t0_sim, d_ev.get());
    check(cudaGetLastError(), "draw kernel");
    lens::lightcurves_device(d_ev.get(), m, d_t.get(), n_t, cfg.finite_source, cfg.fs, d_A.get(), nullptr, nullptr);
    pspl_cut_device(d_ev.get(), m, d_t.get(), n_t, d_A.get(), cfg.cut, d_chi2.get(), nullptr);
    compact_kernel<<<1, kScanThreads>>>(d_ev.get(), d_chi2.get(), m, cfg.cut.threshold, d_row.get(), d_acc_ev.get(),
                                        d_acc_chi2.get(), d_acc_k.get(), d_count.get());
    check(cudaGetLastError(), "compaction kernel");
    pack_rows_kernel<<<dim3(row_blocks, unsigned(std::min<std::size_t>(m, 65535))), 256>>>(d_A.get(), m, n_t,
                                                                                           d_row.get(), d_rows.get());
    check(cudaGetLastError(), "row packing kernel");
    // Small per-event arrays first (one synchronization), then the accepted rows in one copy.
    check(cudaMemcpyAsync(h_chi2.get(), d_chi2.get(), m * sizeof(double), cudaMemcpyDeviceToHost, nullptr), "copy chi2");
    check(cudaMemcpyAsync(h_count.get(), d_count.get(), sizeof(unsigned long long), cudaMemcpyDeviceToHost, nullptr),
          "copy count");
    check(cudaMemcpyAsync(h_acc_ev.get(), d_acc_ev.get(), m * sizeof(lens::EventParams), cudaMemcpyDeviceToHost, nullptr),
          "copy events");
    check(cudaMemcpyAsync(h_acc_chi2.get(), d_acc_chi2.get(), m * sizeof(double), cudaMemcpyDeviceToHost, nullptr),
          "copy accepted chi2");
    check(cudaMemcpyAsync(h_acc_k.get(), d_acc_k.get(), m * sizeof(std::uint64_t), cudaMemcpyDeviceToHost, nullptr),
          "copy accepted offsets");
    check(cudaStreamSynchronize(nullptr), "synchronize");
    const std::size_t n_acc = std::size_t(*h_count.get());
    if (n_acc > m) throw std::logic_error("simulate_events (CUDA): compaction counted more events than the batch");
    if (n_acc > 0) {
      check(cudaMemcpyAsync(h_rows.get(), d_rows.get(), n_acc * n_t * sizeof(float), cudaMemcpyDeviceToHost, nullptr),
            "copy accepted rows");
      check(cudaStreamSynchronize(nullptr), "synchronize");
    }
    out.all_chi2_dof.insert(out.all_chi2_dof.end(), h_chi2.get(), h_chi2.get() + m);
    for (std::size_t r = 0; r < n_acc; ++r) {
      out.accepted_index.push_back(first + h_acc_k.get()[r]);
      out.accepted_events.push_back(h_acc_ev.get()[r]);
      out.accepted_chi2_dof.push_back(h_acc_chi2.get()[r]);
    }
    out.accepted_mag.insert(out.accepted_mag.end(), h_rows.get(), h_rows.get() + n_acc * n_t);
    done += m;
    if (progress) progress(done);
  }
}

}  // namespace lensflow::sim
