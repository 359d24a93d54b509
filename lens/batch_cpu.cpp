// lens/batch_cpu.cpp — CPU backend of the batched API (lens/lensflow_lens.hpp): validates the
// inputs, then runs the LENSFLOW_HD physics over worker threads with dynamic scheduling (threads
// take small chunks from a shared counter, so a few expensive caustic points do not stall a
// statically assigned thread).
#include <algorithm>
#include <memory>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "lens/batch_validate.hpp"
#include "lens/binary_lens.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/lightcurve.hpp"

namespace lensflow::lens {

int default_thread_count() { return core::num_threads(); }

namespace {

// The finite-source workspace (~240 kB) of the calling thread, allocated on first use.
FiniteSourceWorkspace* thread_workspace() {
  thread_local std::unique_ptr<FiniteSourceWorkspace> ws;
  if (!ws) ws = std::make_unique<FiniteSourceWorkspace>();
  return ws.get();
}

}  // namespace

void point_mag_host(const double* s, const double* q, const double* y1, const double* y2, std::size_t n,
                    double* A, int n_threads) {
  detail::validate_points("point_mag_host", s, q, y1, y2, nullptr, n, A);
  core::parallel_for_chunks(n, 256, n_threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) A[i] = binary_point_mag(make_binary_lens(s[i], q[i]), cplx(y1[i], y2[i]));
  });
}

void finite_mag_host(const double* s, const double* q, const double* y1, const double* y2, const double* rho,
                     std::size_t n, const FiniteSourceOptions& opt, double* A, double* A_err, int n_threads) {
  detail::validate_points("finite_mag_host", s, q, y1, y2, rho, n, A);
  detail::validate_options("finite_mag_host", opt);
  // Small chunks: the cost per point varies by orders of magnitude near caustics.
  constexpr std::size_t kChunk = 4;
  core::parallel_for_chunks(n, kChunk, n_threads, [&](std::size_t b, std::size_t e) {
    FiniteSourceWorkspace* ws = thread_workspace();
    for (std::size_t i = b; i < e; ++i) {
      const FiniteMagResult r = binary_finite_mag(make_binary_lens(s[i], q[i]), cplx(y1[i], y2[i]), rho[i], opt, ws);
      A[i] = r.A;
      if (A_err) A_err[i] = r.err;
    }
  });
}

void lightcurves_host(const EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, bool finite,
                      const FiniteSourceOptions& opt, double* A, double* A_err, int n_threads) {
  detail::validate_events("lightcurves_host", ev, n_events, t, n_t, finite, A);
  if (finite) detail::validate_options("lightcurves_host", opt);
  if (n_events == 0 || n_t == 0) return;
  // (event, block of epochs) items, so that one long caustic crossing does not serialize on one
  // thread; each block is walked in order (lens/lightcurve.hpp).
  const std::size_t blocks_per_event = (n_t + kLightCurveBlock - 1) / kLightCurveBlock;
  auto block_range = [&](std::size_t item, std::size_t& k, std::size_t& i0, std::size_t& i1) {
    k = item / blocks_per_event;
    i0 = (item % blocks_per_event) * kLightCurveBlock;
    i1 = std::min(n_t, i0 + kLightCurveBlock);
  };
  if (!finite) {
    core::parallel_for_chunks(n_events * blocks_per_event, 1, n_threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t item = b; item < e; ++item) {
        std::size_t k, i0, i1;
        block_range(item, k, i0, i1);
        point_lightcurve_block(ev[k], t, long(i0), long(i1), A + k * n_t);
        if (A_err) std::fill(A_err + k * n_t + i0, A_err + k * n_t + i1, 0.0);
      }
    });
    return;
  }
  // Finite source: events in chunks, first the caustic outline of each event (shared by its
  // blocks), then the blocks. The chunk bounds the outlines' memory (~52 kB each).
  const std::size_t chunk = std::size_t(std::max(64, 8 * (n_threads > 0 ? n_threads : default_thread_count())));
  std::vector<CausticOutline> outlines(std::min(chunk, n_events));
  for (std::size_t e0 = 0; e0 < n_events; e0 += chunk) {
    const std::size_t m = std::min(chunk, n_events - e0);
    core::parallel_for_chunks(m, 1, n_threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t k = b; k < e; ++k)
        build_caustic_outline(make_binary_lens(ev[e0 + k].s, ev[e0 + k].q), &outlines[k]);
    });
    core::parallel_for_chunks(m * blocks_per_event, 1, n_threads, [&](std::size_t b, std::size_t e) {
      FiniteSourceWorkspace* ws = thread_workspace();
      for (std::size_t item = b; item < e; ++item) {
        std::size_t k, i0, i1;
        block_range(item, k, i0, i1);
        const std::size_t g = e0 + k;
        finite_lightcurve_block(ev[g], t, long(i0), long(i1), opt, outlines[k], ws, A + g * n_t,
                                A_err ? A_err + g * n_t : nullptr);
      }
    });
  }
}

#if !LENSFLOW_HAVE_CUDA
// Without the CUDA backend the device entry points exist (so that callers link) and say why not.
namespace {
[[noreturn]] void no_cuda(const char* fn) {
  throw std::runtime_error(std::string(fn) + ": lensflow was built without CUDA (LENSFLOW_ENABLE_CUDA=OFF or no nvcc)");
}
}  // namespace
bool cuda_device_available() { return false; }
void point_mag_device(const double*, const double*, const double*, const double*, std::size_t, double*, void*) {
  no_cuda("point_mag_device");
}
void finite_mag_device(const double*, const double*, const double*, const double*, const double*, std::size_t,
                       const FiniteSourceOptions&, double*, double*, void*) {
  no_cuda("finite_mag_device");
}
void lightcurves_device(const EventParams*, std::size_t, const double*, std::size_t, bool, const FiniteSourceOptions&,
                        double*, double*, void*) {
  no_cuda("lightcurves_device");
}
#endif

}  // namespace lensflow::lens
