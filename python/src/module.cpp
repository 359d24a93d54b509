// python/src/module.cpp — the _lensflow extension module; python/lensflow/ wraps it (broadcasting,
// defaults, docs). Every C++ exception becomes a Python one: std::invalid_argument -> ValueError
// (pybind11's own translation), other std::exception -> RuntimeError.
#include <stdexcept>

#include "arrays.hpp"
#include "core/thread_pool.hpp"
#include "lens/lensflow_lens.hpp"

namespace lensflow::python {

bool use_cuda(const std::string& device) {
  if (device == "cpu") return false;
  if (device == "cuda") {
    if (!lens::cuda_device_available())
      throw std::runtime_error(LENSFLOW_HAVE_CUDA ? "device='cuda': no usable CUDA device"
                                                  : "device='cuda': this lensflow was built without CUDA "
                                                    "(no nvcc found, or LENSFLOW_ENABLE_CUDA=OFF)");
    return true;
  }
  throw std::invalid_argument("device = '" + device + "' is invalid (must be 'cpu' or 'cuda')");
}

}  // namespace lensflow::python

PYBIND11_MODULE(_lensflow, m) {
  m.doc() = "lensflow's C++ core; use the `lensflow` package, which wraps it.";
  m.attr("has_cuda") = bool(LENSFLOW_HAVE_CUDA);
  m.def("cuda_device_available", &lensflow::lens::cuda_device_available);
  m.def("default_thread_count", &lensflow::lens::default_thread_count);
  m.def("set_num_threads", [](int n) {
    if (n < 0) throw std::invalid_argument("set_num_threads: n = " + std::to_string(n) + " is invalid (must be >= 0)");
    lensflow::python::without_gil([&] { lensflow::core::set_num_threads(n); });
  });
  lensflow::python::bind_forward(m);
  lensflow::python::bind_simulation(m);
  lensflow::python::bind_posterior(m);
}
