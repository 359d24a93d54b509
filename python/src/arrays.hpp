// python/src/arrays.hpp — what every binding file shares: the array type the private entry points
// take (the Python layer in python/lensflow/ has already broadcast and flattened the inputs, so
// these arrays are C-contiguous float64 and pass without a copy) and the module's binding hooks.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <string>

namespace lensflow::python {

namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A new 1-D float64 array of n values (allocated with the GIL held).
inline Array new_array(std::size_t n) { return Array(static_cast<py::ssize_t>(n)); }

// Runs f with the GIL released. The Python objects of the caller (results included) are touched
// only outside, with the GIL held: returning or copying one inside f would change its reference
// count without the GIL.
template <class F>
void without_gil(F&& f) {
  py::gil_scoped_release nogil;
  f();
}

// The device names the Python API accepts; anything else is a ValueError naming the value.
bool use_cuda(const std::string& device);

void bind_forward(py::module_& m);
void bind_simulation(py::module_& m);
void bind_posterior(py::module_& m);

}  // namespace lensflow::python
