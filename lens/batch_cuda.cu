// lens/batch_cuda.cu — CUDA backend of the batched API (lens/lensflow_lens.hpp). The kernels call
// the same LENSFLOW_HD physics as lens/batch_cpu.cpp with the same units of work: one point, or one
// block of kLightCurveBlock consecutive epochs of a light curve (lens/lightcurve.hpp), so that a
// value depends on its inputs only, whichever thread computes it and in whatever order.
//
// Validation: a first kernel finds the lowest index holding an invalid value (atomicMin on
// index·8 + field code); the host reads that one word back (a stream synchronization) and throws
// std::invalid_argument naming the index and the field before any magnification is computed.
#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "core/cuda_buffers.cuh"
#include "core/cuda_check.hpp"
#include "lens/batch_validate.hpp"
#include "lens/binary_lens.hpp"
#include "lens/caustic_outline.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/lightcurve.hpp"

namespace lensflow::lens {

namespace {

constexpr unsigned long long kNoError = ~0ull;
constexpr int kThreads = 128;
constexpr std::size_t kEpochBlock = static_cast<std::size_t>(kLightCurveBlock);
// Events per finite-source light-curve launch: bounds the caustic outlines' memory (~52 kB each).
constexpr std::size_t kOutlineChunk = 8192;

// Device memory of one launch, freed in stream order when the owner goes out of scope (also when a
// later allocation of the same launch throws).
template <class T>
struct StreamArray {
  T* ptr = nullptr;
  cudaStream_t stream = nullptr;
  StreamArray(std::size_t n, cudaStream_t st, const char* fn) : stream(st) {
    core::cuda_check(cudaMallocAsync(reinterpret_cast<void**>(&ptr), n * sizeof(T), stream), fn, "cudaMallocAsync");
  }
  StreamArray(const StreamArray&) = delete;
  StreamArray& operator=(const StreamArray&) = delete;
  ~StreamArray() {
    if (ptr) cudaFreeAsync(ptr, stream);
  }
};

int blocks_for(std::size_t n) {
  const std::size_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 16 ? (b == 0 ? 1 : b) : 65535 * 16);  // grid-stride beyond this
}

__device__ bool finite_d(double x) { return x - x == 0.0; }

__device__ void flag(unsigned long long* first_bad, std::size_t i, int field) {
  atomicMin(first_bad, static_cast<unsigned long long>(i) * 8ull + static_cast<unsigned long long>(field));
}

// The host's supported domain (lens/batch_validate.hpp), checked on the device too.
__device__ bool s_ok(double s) { return finite_d(s) && s >= kMinSeparation && s <= kMaxSeparation; }
__device__ bool q_ok(double q) { return finite_d(q) && q >= kMinMassRatio && q <= kMaxMassRatio; }
__device__ bool y_ok(double y) { return finite_d(y) && fabs(y) <= kMaxSourceOffset; }
__device__ bool rho_ok(double r) { return finite_d(r) && r >= 0.0 && r <= kMaxSourceRadius; }

// Field codes for points: 0 s, 1 q, 2 y1, 3 y2, 4 rho.
__global__ void validate_points_kernel(const double* s, const double* q, const double* y1, const double* y2,
                                       const double* rho, std::size_t n, unsigned long long* first_bad) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    if (!s_ok(s[i])) flag(first_bad, i, 0);
    else if (!q_ok(q[i])) flag(first_bad, i, 1);
    else if (!y_ok(y1[i])) flag(first_bad, i, 2);
    else if (!y_ok(y2[i])) flag(first_bad, i, 3);
    else if (rho && !rho_ok(rho[i])) flag(first_bad, i, 4);
  }
}

// Field codes for events: 0 s, 1 q, 2 alpha_deg, 3 u0, 4 t0, 5 tE, 6 rho; times use index n_events + i, code 7.
// range[0], range[1] = min and max of the finite times (one block).
__global__ void time_range_kernel(const double* t, std::size_t n_t, double* range) {
  __shared__ double lo[kThreads], hi[kThreads];
  double a = INFINITY, b = -INFINITY;
  for (std::size_t i = threadIdx.x; i < n_t; i += blockDim.x)
    if (finite_d(t[i])) a = fmin(a, t[i]), b = fmax(b, t[i]);
  lo[threadIdx.x] = a;
  hi[threadIdx.x] = b;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) {
      lo[threadIdx.x] = fmin(lo[threadIdx.x], lo[threadIdx.x + w]);
      hi[threadIdx.x] = fmax(hi[threadIdx.x], hi[threadIdx.x + w]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) range[0] = lo[0], range[1] = hi[0];
}

__global__ void validate_events_kernel(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t,
                                       const double* t_range, bool finite, unsigned long long* first_bad) {
  const double t_lo = t_range[0], t_hi = t_range[1];
  const std::size_t n = n_events + n_t;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    if (i >= n_events) {
      if (!finite_d(t[i - n_events])) flag(first_bad, i, 7);
      continue;
    }
    const EventParams e = ev[i];
    // The source stays within kMaxSourceOffset at every epoch: |t − t0|/tE + |u0| bounds its distance.
    const double tau = finite_d(t_lo) ? fmax(fabs(t_lo - e.t0), fabs(t_hi - e.t0)) / e.tE : 0.0;
    if (!s_ok(e.s)) flag(first_bad, i, 0);
    else if (!q_ok(e.q)) flag(first_bad, i, 1);
    else if (!finite_d(e.alpha_deg)) flag(first_bad, i, 2);
    else if (!y_ok(e.u0)) flag(first_bad, i, 3);
    else if (!finite_d(e.t0)) flag(first_bad, i, 4);
    else if (!(finite_d(e.tE) && e.tE > 0.0 && tau + fabs(e.u0) <= kMaxSourceOffset)) flag(first_bad, i, 5);
    else if (finite && !rho_ok(e.rho)) flag(first_bad, i, 6);
  }
}

// Runs `launch(first_bad)` (a validation kernel) and throws naming the first invalid entry.
template <class Launch>
void validate_on_device(const char* fn, cudaStream_t stream, const Launch& launch, const char* const* field_names,
                        std::size_t n_events_offset) {
  unsigned long long* d_flag = nullptr;
  core::cuda_check(cudaMallocAsync(&d_flag, sizeof(unsigned long long), stream), fn, "cudaMallocAsync");
  unsigned long long h_flag = kNoError;
  cudaError_t err = cudaMemcpyAsync(d_flag, &h_flag, sizeof h_flag, cudaMemcpyHostToDevice, stream);
  if (err == cudaSuccess) {
    launch(d_flag);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaMemcpyAsync(&h_flag, d_flag, sizeof h_flag, cudaMemcpyDeviceToHost, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  cudaFreeAsync(d_flag, stream);
  core::cuda_check(err, fn, "validation");
  if (h_flag == kNoError) return;
  const std::size_t index = static_cast<std::size_t>(h_flag / 8);
  const int field = static_cast<int>(h_flag % 8);
  std::ostringstream os;
  if (n_events_offset != 0 && field == 7)
    os << fn << ": t[" << index - n_events_offset << "] is invalid (must be finite)";
  else
    os << fn << ": " << field_names[field] << "[" << index
       << "] is invalid (non-finite, or outside the supported domain of lens/batch_validate.hpp)";
  throw std::invalid_argument(os.str());
}

const char* const kPointFields[] = {"s", "q", "y1", "y2", "rho"};
const char* const kEventFields[] = {"event.s",  "event.q",  "event.alpha_deg", "event.u0",
                                    "event.t0", "event.tE", "event.rho",       "t"};

__global__ void point_mag_kernel(const double* s, const double* q, const double* y1, const double* y2, std::size_t n,
                                 double* A) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    A[i] = binary_point_mag(make_binary_lens(s[i], q[i]), cplx(y1[i], y2[i]));
}

__global__ void point_lightcurve_kernel(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t,
                                        double* A, double* A_err) {
  const std::size_t blocks_per_event = (n_t + kEpochBlock - 1) / kEpochBlock;
  const std::size_t n_items = n_events * blocks_per_event;
  for (std::size_t item = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; item < n_items;
       item += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t k = item / blocks_per_event, i0 = (item % blocks_per_event) * kEpochBlock;
    const std::size_t i1 = (n_t - i0) < kEpochBlock ? n_t : i0 + kEpochBlock;
    point_lightcurve_block(ev[k], t, static_cast<long>(i0), static_cast<long>(i1), A + k * n_t);
    if (A_err)
      for (std::size_t i = i0; i < i1; ++i) A_err[k * n_t + i] = 0.0;
  }
}

__global__ void outline_kernel(const EventParams* ev, std::size_t n_events, CausticOutline* outlines) {
  for (std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; k < n_events;
       k += std::size_t(gridDim.x) * blockDim.x)
    build_caustic_outline(make_binary_lens(ev[k].s, ev[k].q), outlines + k);
}

// Finite-source work items: either independent points (s, q, y1, y2, rho arrays) or the blocks of
// light-curve epochs of n_events events (ev, t, outlines; item = event · blocks_per_event + block).
// One kernel serves both, so that the large finite-source code is compiled once.
struct FiniteItems {
  const double *s, *q, *y1, *y2, *rho;  // points (ev == nullptr)
  const EventParams* ev;                // light curves
  const double* t;
  std::size_t n_t;
  const CausticOutline* outlines;  // one per event
};

// Finite source: each thread owns one FiniteSourceWorkspace (~240 kB in global memory,
// nothing kept between items) and pulls work items from a global counter, so that a few expensive
// caustic items do not idle a warp's worth of statically assigned ones. Which thread computes an
// item does not change its value.
__global__ void finite_kernel(FiniteItems items, std::size_t n, FiniteSourceOptions opt, double* A, double* A_err,
                              FiniteSourceWorkspace* ws, std::size_t n_ws, unsigned long long* counter) {
  const std::size_t tid = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (tid >= n_ws) return;
  const std::size_t blocks_per_event = items.ev ? (items.n_t + kEpochBlock - 1) / kEpochBlock : 1;
  for (;;) {
    const std::size_t i = atomicAdd(counter, 1ull);
    if (i >= n) return;
    if (items.ev) {
      const std::size_t k = i / blocks_per_event, i0 = (i % blocks_per_event) * kEpochBlock;
      const std::size_t i1 = (items.n_t - i0) < kEpochBlock ? items.n_t : i0 + kEpochBlock;
      finite_lightcurve_block(items.ev[k], items.t, static_cast<long>(i0), static_cast<long>(i1), opt,
                              items.outlines[k], ws + tid, A + k * items.n_t, A_err ? A_err + k * items.n_t : nullptr);
    } else {
      const FiniteMagResult r = binary_finite_mag(make_binary_lens(items.s[i], items.q[i]),
                                                  cplx(items.y1[i], items.y2[i]), items.rho[i], opt, ws + tid);
      A[i] = r.A;
      if (A_err) A_err[i] = r.err;
    }
  }
}

// Workspaces and work counter of one finite-source launch, stream-ordered (freed after the kernel).
struct FiniteLaunch {
  std::size_t n_ws;
  StreamArray<FiniteSourceWorkspace> ws;
  StreamArray<unsigned long long> counter;
  int threads_per_block;
  FiniteLaunch(const char* fn, std::size_t n_items, cudaStream_t stream)
      : n_ws(worker_count(fn, n_items)), ws(n_ws, stream, fn), counter(1, stream, fn) {
    // Zeroed workspaces: their outline cache starts empty (its tag must not match by chance).
    core::cuda_check(cudaMemsetAsync(ws.ptr, 0, n_ws * sizeof(FiniteSourceWorkspace), stream), fn, "cudaMemsetAsync");
    core::cuda_check(cudaMemsetAsync(counter.ptr, 0, sizeof(unsigned long long), stream), fn, "cudaMemsetAsync");
    // Spread small launches over every SM: at least two blocks per SM while warps stay full.
    int device = 0, sms = 1;
    core::cuda_check(cudaGetDevice(&device), fn, "cudaGetDevice");
    core::cuda_check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), fn, "cudaDeviceGetAttribute");
    const std::size_t per_block = (n_ws / (2 * std::size_t(sms)) + 31) / 32 * 32;
    threads_per_block = static_cast<int>(per_block < 32 ? 32 : (per_block > kThreads ? kThreads : per_block));
  }
  int blocks() const { return static_cast<int>((n_ws + threads_per_block - 1) / threads_per_block); }
  // As many worker threads as items, at most 16384 and at most a quarter of the free memory.
  static std::size_t worker_count(const char* fn, std::size_t n_items) {
    core::retain_stream_ordered_pool();  // repeated launches reuse the workspaces' memory
    std::size_t free_b = 0, total_b = 0;
    core::cuda_check(cudaMemGetInfo(&free_b, &total_b), fn, "cudaMemGetInfo");
    std::size_t cap = free_b / 4 / sizeof(FiniteSourceWorkspace);
    if (cap > 16384) cap = 16384;
    if (cap < 1) throw std::runtime_error(std::string(fn) + ": not enough device memory for a finite-source workspace");
    return n_items < cap ? n_items : cap;
  }
};

void require_device(const char* fn) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    cudaGetLastError();
    throw std::runtime_error(std::string(fn) + ": no CUDA device present");
  }
}

void check_options(const char* fn, const FiniteSourceOptions& opt) {
  if (!(opt.tol_abs >= 0.0 && opt.tol_rel >= 0.0 && (opt.tol_abs > 0.0 || opt.tol_rel > 0.0)))
    throw std::invalid_argument(std::string(fn) + ": opt.tol_abs/opt.tol_rel must be >= 0 and not both 0");
  if (!(opt.a1 >= 0.0 && opt.a1 <= 1.0)) throw std::invalid_argument(std::string(fn) + ": opt.a1 must be in [0, 1]");
}

}  // namespace

bool cuda_device_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return false;
  }
  return n > 0;
}

void point_mag_device(const double* s, const double* q, const double* y1, const double* y2, std::size_t n,
                      double* A, void* stream_ptr) {
  require_device("point_mag_device");
  if (n == 0) return;
  if (!s || !q || !y1 || !y2 || !A) throw std::invalid_argument("point_mag_device: null pointer with n > 0");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  validate_on_device(
      "point_mag_device", stream,
      [&](unsigned long long* f) {
        validate_points_kernel<<<blocks_for(n), kThreads, 0, stream>>>(s, q, y1, y2, nullptr, n, f);
      },
      kPointFields, 0);
  point_mag_kernel<<<blocks_for(n), kThreads, 0, stream>>>(s, q, y1, y2, n, A);
  core::cuda_check(cudaGetLastError(), "point_mag_device", "kernel launch");
}

void finite_mag_device(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                       std::size_t n, const FiniteSourceOptions& opt, double* A, double* A_err, void* stream_ptr) {
  require_device("finite_mag_device");
  check_options("finite_mag_device", opt);
  if (n == 0) return;
  if (!s || !q || !y1 || !y2 || !rho || !A) throw std::invalid_argument("finite_mag_device: null pointer with n > 0");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  validate_on_device(
      "finite_mag_device", stream,
      [&](unsigned long long* f) {
        validate_points_kernel<<<blocks_for(n), kThreads, 0, stream>>>(s, q, y1, y2, rho, n, f);
      },
      kPointFields, 0);
  FiniteLaunch launch("finite_mag_device", n, stream);
  const FiniteItems items{s, q, y1, y2, rho, nullptr, nullptr, 0, nullptr};
  finite_kernel<<<launch.blocks(), launch.threads_per_block, 0, stream>>>(items, n, opt, A, A_err, launch.ws.ptr,
                                                                          launch.n_ws, launch.counter.ptr);
  core::cuda_check(cudaGetLastError(), "finite_mag_device", "kernel launch");
}

void lightcurves_device(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, bool finite,
                        const FiniteSourceOptions& opt, double* A, double* A_err, void* stream_ptr) {
  require_device("lightcurves_device");
  if (finite) check_options("lightcurves_device", opt);
  if (n_events == 0 || n_t == 0) return;
  if (!ev || !t || !A) throw std::invalid_argument("lightcurves_device: null pointer with n > 0");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  StreamArray<double> t_range(2, stream, "lightcurves_device");
  time_range_kernel<<<1, kThreads, 0, stream>>>(t, n_t, t_range.ptr);
  validate_on_device(
      "lightcurves_device", stream,
      [&](unsigned long long* f) {
        validate_events_kernel<<<blocks_for(n_events + n_t), kThreads, 0, stream>>>(ev, n_events, t, n_t,
                                                                                    t_range.ptr, finite, f);
      },
      kEventFields, n_events);
  if (!finite) {
    const std::size_t items = n_events * ((n_t + kEpochBlock - 1) / kEpochBlock);
    point_lightcurve_kernel<<<blocks_for(items), kThreads, 0, stream>>>(ev, n_events, t, n_t, A, A_err);
    core::cuda_check(cudaGetLastError(), "lightcurves_device", "kernel launch");
    return;
  }
  // Events in chunks: the caustic outline of each (one thread per event), then the epoch blocks.
  const std::size_t blocks_per_event = (n_t + kEpochBlock - 1) / kEpochBlock;
  for (std::size_t e0 = 0; e0 < n_events; e0 += kOutlineChunk) {
    const std::size_t m = n_events - e0 < kOutlineChunk ? n_events - e0 : kOutlineChunk;
    StreamArray<CausticOutline> outlines(m, stream, "lightcurves_device");
    outline_kernel<<<blocks_for(m), kThreads, 0, stream>>>(ev + e0, m, outlines.ptr);
    core::cuda_check(cudaGetLastError(), "lightcurves_device", "kernel launch");
    FiniteLaunch launch("lightcurves_device", m * blocks_per_event, stream);
    const FiniteItems items{nullptr, nullptr, nullptr, nullptr, nullptr, ev + e0, t, n_t, outlines.ptr};
    finite_kernel<<<launch.blocks(), launch.threads_per_block, 0, stream>>>(
        items, m * blocks_per_event, opt, A + e0 * n_t, A_err ? A_err + e0 * n_t : nullptr, launch.ws.ptr, launch.n_ws,
        launch.counter.ptr);
    core::cuda_check(cudaGetLastError(), "lightcurves_device", "kernel launch");
  }
}

}  // namespace lensflow::lens
