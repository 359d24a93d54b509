#include "arrays.hpp"
namespace lensflow::python {
void bind_posterior(py::module_&) {}
}  // namespace lensflow::python
