#include "arrays.hpp"
namespace lensflow::python {
void bind_simulation(py::module_&) {}
}  // namespace lensflow::python
