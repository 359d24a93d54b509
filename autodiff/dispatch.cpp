// autodiff/dispatch.cpp — argument checks shared by the ops.
#include "autodiff/dispatch.hpp"

namespace lensflow::ad {

namespace {
std::string describe(std::initializer_list<const Tensor*> ts) {
  std::string s;
  for (const Tensor* t : ts) {
    if (!s.empty()) s += ", ";
    s += t->defined() ? to_string(t->shape()) : std::string("undefined");
  }
  return s;
}
}  // namespace

void shape_error(const char* op, const std::string& what, std::initializer_list<const Tensor*> ts) {
  throw std::invalid_argument(std::string(op) + ": " + what + " (shapes " + describe(ts) + ")");
}

void check_same(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined()) shape_error(op, "undefined input tensor", ts);
    if (!first) {
      first = t;
      continue;
    }
    if (t->device() != first->device())
      shape_error(op, "inputs on different devices (" + to_string(first->device()) + " and " +
                          to_string(t->device()) + ")", ts);
    if (t->dtype() != first->dtype())
      shape_error(op, "inputs of different dtypes (" + to_string(first->dtype()) + " and " +
                          to_string(t->dtype()) + ")", ts);
  }
}

int normalize_axis(const char* op, int axis, int ndim) {
  const int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " out of range for " + std::to_string(ndim) + " dims");
  return a;
}

int64_t prod(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; ++i) p *= s[size_t(i)];
  return p;
}

}  // namespace lensflow::ad
