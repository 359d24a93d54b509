// autodiff/tensor.cpp — Tensor storage, creation, copies, host transfer, grad mode.
#include "autodiff/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "autodiff/tensor_impl.hpp"
#include "kernels/device.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/host_pool.hpp"

namespace lensflow::ad {

bool cuda_available() { return kernels::cuda_device_available(); }

std::string to_string(const Shape& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}
std::string to_string(Device d) { return d == Device::CPU ? "CPU" : "CUDA"; }
std::string to_string(DType t) { return t == DType::F32 ? "F32" : "F64"; }
size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }
int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + to_string(s));
    n *= d;
  }
  return n;
}

Storage::Storage(size_t b, Device d) : bytes(b), device(d) {
  if (d == Device::CUDA) {
    ptr = kernels::device_alloc(b == 0 ? 1 : b);
  } else {
    ptr = kernels::host_alloc(b == 0 ? 1 : b);
  }
}
Storage::~Storage() {
  if (device == Device::CUDA)
    kernels::device_free(ptr);
  else
    kernels::host_free(ptr);
}

Tensor::Tensor() = default;

namespace {
TensorImpl& checked(const std::shared_ptr<TensorImpl>& p, const char* what) {
  if (!p) throw std::invalid_argument(std::string(what) + ": undefined tensor");
  return *p;
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  if (device == Device::CUDA) {
    if (dtype != DType::F32)
      throw std::invalid_argument("Tensor::empty: CUDA tensors are F32 only (asked for F64)");
    if (!cuda_available())
      throw std::invalid_argument("Tensor::empty: no CUDA device available");
  }
  Tensor t;
  t.impl_ = std::make_shared<TensorImpl>();
  t.impl_->shape = shape;
  t.impl_->dtype = dtype;
  t.impl_->device = device;
  t.impl_->storage =
      std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device == Device::CUDA)
    kernels::device_memset_zero(t.raw_data(), t.impl_->storage->bytes);
  else
    std::memset(t.raw_data(), 0, t.impl_->storage->bytes);
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  const int64_t n = t.numel();
  if (device == Device::CUDA) {
#if LENSFLOW_HAVE_CUDA
    kernels::fill_cuda(t.data<float>(), n, value);
#endif
  } else if (dtype == DType::F32) {
    kernels::fill_cpu<float>(t.data<float>(), n, value);
  } else {
    kernels::fill_cpu<double>(t.data<double>(), n, value);
  }
  return t;
}

namespace {
template <class T>
Tensor from_host(const std::vector<T>& v, const Shape& shape, DType dtype, Device device) {
  if (int64_t(v.size()) != shape_numel(shape))
    throw std::invalid_argument("Tensor::from_vector: " + std::to_string(v.size()) +
                                " values for shape " + to_string(shape));
  Tensor t = Tensor::empty(shape, dtype, device);
  if (device == Device::CUDA)
    kernels::copy_host_to_device(t.raw_data(), v.data(), v.size() * sizeof(T));
  else if (!v.empty())
    std::memcpy(t.raw_data(), v.data(), v.size() * sizeof(T));
  return t;
}
}  // namespace

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& shape, Device device) {
  return from_host(v, shape, DType::F32, device);
}
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& shape, Device device) {
  return from_host(v, shape, DType::F64, device);
}

std::vector<float> Tensor::to_f32() const {
  const Tensor h = to(Device::CPU).to(DType::F32);
  std::vector<float> out(static_cast<size_t>(h.numel()));
  if (!out.empty()) std::memcpy(out.data(), h.raw_data(), out.size() * sizeof(float));
  return out;
}
std::vector<double> Tensor::to_f64() const {
  const Tensor h = to(Device::CPU).to(DType::F64);
  std::vector<double> out(static_cast<size_t>(h.numel()));
  if (!out.empty()) std::memcpy(out.data(), h.raw_data(), out.size() * sizeof(double));
  return out;
}
double Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("Tensor::item: tensor of shape " + to_string(shape()) +
                                " has more than one element");
  return to_f64()[0];
}

Tensor Tensor::to(Device device) const {
  const TensorImpl& s = checked(impl_, "Tensor::to");
  if (s.device == device) return *this;
  Tensor t = empty(s.shape, s.dtype, device);
  const size_t bytes = size_t(numel()) * dtype_size(s.dtype);
  if (device == Device::CUDA)
    kernels::copy_host_to_device(t.raw_data(), raw_data(), bytes);
  else
    kernels::copy_device_to_host(t.raw_data(), raw_data(), bytes);
  return t;
}

Tensor Tensor::to(DType dtype) const {
  const TensorImpl& s = checked(impl_, "Tensor::to");
  if (s.dtype == dtype) return *this;
  if (s.device == Device::CUDA)
    throw std::invalid_argument("Tensor::to(DType): CUDA tensors are F32 only");
  Tensor t = empty(s.shape, dtype, s.device);
  if (dtype == DType::F64)
    kernels::cast_cpu(data<float>(), t.data<double>(), numel());
  else
    kernels::cast_cpu(data<double>(), t.data<float>(), numel());
  return t;
}

const Shape& Tensor::shape() const { return checked(impl_, "Tensor::shape").shape; }
int Tensor::ndim() const { return int(shape().size()); }
int64_t Tensor::dim(int i) const {
  const int n = ndim();
  const int k = i < 0 ? i + n : i;
  if (k < 0 || k >= n)
    throw std::invalid_argument("Tensor::dim: axis " + std::to_string(i) + " out of range for " +
                                to_string(shape()));
  return shape()[size_t(k)];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
Device Tensor::device() const { return checked(impl_, "Tensor::device").device; }
DType Tensor::dtype() const { return checked(impl_, "Tensor::dtype").dtype; }
void* Tensor::raw_data() const { return checked(impl_, "Tensor::data").storage->ptr; }

template <class T> T* Tensor::data() {
  const DType want = sizeof(T) == 4 ? DType::F32 : DType::F64;
  if (dtype() != want)
    throw std::invalid_argument("Tensor::data: tensor is " + to_string(dtype()) + ", asked for " +
                                to_string(want));
  return static_cast<T*>(raw_data());
}
template <class T> const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::set_requires_grad(bool flag) {
  TensorImpl& s = checked(impl_, "Tensor::set_requires_grad");
  if (s.grad_fn)
    throw std::invalid_argument("Tensor::set_requires_grad: only leaves (not op outputs)");
  s.requires_grad = flag;
  return *this;
}
Tensor Tensor::grad() const { return checked(impl_, "Tensor::grad").grad; }
void Tensor::zero_grad() { checked(impl_, "Tensor::zero_grad").grad = Tensor(); }
void Tensor::set_grad(const Tensor& g) {
  TensorImpl& s = checked(impl_, "Tensor::set_grad");
  if (g.defined() && (g.shape() != s.shape || g.device() != s.device || g.dtype() != s.dtype))
    throw std::invalid_argument("Tensor::set_grad: gradient " + to_string(g.shape()) +
                                " does not match tensor " + to_string(s.shape));
  s.grad = g;
}
bool Tensor::is_leaf() const { return !checked(impl_, "Tensor::is_leaf").grad_fn; }

Tensor Tensor::detach() const {
  const TensorImpl& s = checked(impl_, "Tensor::detach");
  Tensor t;
  t.impl_ = std::make_shared<TensorImpl>();
  t.impl_->storage = s.storage;
  t.impl_->shape = s.shape;
  t.impl_->dtype = s.dtype;
  t.impl_->device = s.device;
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  const TensorImpl& s = checked(impl_, "reshape");
  Shape target = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 in " + to_string(shape));
      infer = int(i);
    } else {
      if (target[i] < 0) throw std::invalid_argument("reshape: bad shape " + to_string(shape));
      known *= target[i];
    }
  }
  const int64_t n = numel();
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      throw std::invalid_argument("reshape: cannot reshape " + to_string(s.shape) + " to " +
                                  to_string(shape));
    target[size_t(infer)] = n / known;
  }
  if (shape_numel(target) != n)
    throw std::invalid_argument("reshape: cannot reshape " + to_string(s.shape) + " to " +
                                to_string(shape));
  Tensor out = detach();
  out.impl_->shape = target;
  const Shape original = s.shape;
  return record(out, "reshape", {*this},
                [original](const Tensor& g) { return std::vector<Tensor>{g.reshape(original)}; });
}

void Tensor::copy_(const Tensor& src) {
  TensorImpl& s = checked(impl_, "copy_");
  if (!src.defined() || src.shape() != s.shape || src.dtype() != s.dtype)
    throw std::invalid_argument("copy_: source " +
                                (src.defined() ? to_string(src.shape()) + " " + to_string(src.dtype())
                                               : std::string("undefined")) +
                                " does not match destination " + to_string(s.shape) + " " +
                                to_string(s.dtype));
  const size_t bytes = size_t(numel()) * dtype_size(s.dtype);
  if (bytes == 0 || src.raw_data() == raw_data()) return;
  if (s.device == Device::CPU && src.device() == Device::CPU)
    std::memcpy(raw_data(), src.raw_data(), bytes);
  else if (s.device == Device::CUDA && src.device() == Device::CUDA)
    kernels::copy_device_to_device(raw_data(), src.raw_data(), bytes);
  else if (s.device == Device::CUDA)
    kernels::copy_host_to_device(raw_data(), src.raw_data(), bytes);
  else
    kernels::copy_device_to_host(raw_data(), src.raw_data(), bytes);
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_, "grad_fn").grad_fn; }
void Tensor::set_grad_fn(std::shared_ptr<Node> node) {
  TensorImpl& s = checked(impl_, "set_grad_fn");
  s.grad_fn = std::move(node);
  s.requires_grad = static_cast<bool>(s.grad_fn);
}

namespace {
thread_local bool g_grad_enabled = true;
}
bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

}  // namespace lensflow::ad
