// sim/pspl_cut.cpp — CPU executor of the 1L1S cut (the physics is in sim/pspl_cut.hpp).
#include "sim/pspl_cut.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/thread_pool.hpp"

namespace lensflow::sim {

namespace {

void validate_cut(const char* fn, const lens::EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t,
                  const double* A, const CutOptions& opt, const double* out) {
  if (n_events > 0 && (!ev || !t || !A || !out))
    throw std::invalid_argument(std::string(fn) + ": null pointer with n_events > 0");
  if (n_t < 4) throw std::invalid_argument(std::string(fn) + ": need at least 4 epochs (n_t = " + std::to_string(n_t) + ")");
  if (!(opt.snr_base > 0.0 && std::isfinite(opt.snr_base)))
    throw std::invalid_argument(std::string(fn) + ": snr_base must be finite and > 0");
  if (!(opt.window_lo < opt.window_hi)) throw std::invalid_argument(std::string(fn) + ": window_lo must be < window_hi");
  if (!std::isfinite(opt.threshold)) throw std::invalid_argument(std::string(fn) + ": threshold must be finite");
  if (opt.mode == CutMode::fit && opt.max_iter < 1) throw std::invalid_argument(std::string(fn) + ": max_iter must be >= 1");
  if (opt.mode == CutMode::paper) {
    std::size_t m = 0;
    for (std::size_t i = 0; i < n_t; ++i) m += detail::in_window(t[i], opt.window_lo, opt.window_hi);
    if (m < 4)
      throw std::invalid_argument(std::string(fn) + ": the paper window [" + std::to_string(opt.window_lo) + ", " +
                                  std::to_string(opt.window_hi) + ") holds " + std::to_string(m) +
                                  " epochs; need at least 4");
  }
  for (std::size_t e = 0; e < n_events; ++e) {
    if (!(std::isfinite(ev[e].t0) && std::isfinite(ev[e].u0) && std::isfinite(ev[e].tE) && ev[e].tE > 0.0)) {
      std::ostringstream os;
      os << fn << ": event " << e << " has non-finite t0/u0 or tE <= 0";
      throw std::invalid_argument(os.str());
    }
    for (std::size_t i = 0; i < n_t; ++i) {
      const double a = A[e * n_t + i];
      if (!(std::isfinite(a) && a > 0.0)) {
        std::ostringstream os;
        os.precision(17);
        os << fn << ": A[" << e << "][" << i << "] = " << a << " (magnifications must be finite and > 0)";
        throw std::invalid_argument(os.str());
      }
    }
  }
}

}  // namespace

void pspl_cut_host(const lens::EventParams* ev, std::size_t n_events, const double* t, std::size_t n_t, const double* A,
                   const CutOptions& opt, double* chi2_dof, int n_threads) {
  validate_cut("pspl_cut_host", ev, n_events, t, n_t, A, opt, chi2_dof);
  core::parallel_for_chunks(n_events, 1, n_threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) chi2_dof[k] = cut_chi2_dof(opt, ev[k], A + k * n_t, t, long(n_t));
  });
}

#if !LENSFLOW_HAVE_CUDA
void pspl_cut_device(const lens::EventParams*, std::size_t, const double*, std::size_t, const double*, const CutOptions&,
                     double*, void*) {
  throw std::runtime_error("pspl_cut_device: lensflow was built without CUDA");
}
#endif

CutMode parse_cut_mode(const char* name) {
  const std::string s = name ? name : "";
  if (s == "paper") return CutMode::paper;
  if (s == "fit") return CutMode::fit;
  throw std::invalid_argument("unknown cut mode '" + s + "' (expected 'paper' or 'fit')");
}

const char* cut_mode_name(CutMode m) { return m == CutMode::fit ? "fit" : "paper"; }

}  // namespace lensflow::sim
