// autodiff/tensor.hpp — dense tensors on the CPU or a CUDA device, with reverse-mode autodiff.
//
// A Tensor is a cheap shared handle (copying it shares storage and autograd identity). Storage is
// always contiguous row-major. Every op in autodiff/ops.hpp records a node on the tape when grad
// mode is on and an input requires grad; backward(loss) walks the recorded graph once and
// accumulates gradients into the .grad() of leaves created with set_requires_grad(true).
//
// Supported: F32 on CPU and CUDA, F64 on CPU (F64 exists for finite-difference gradient checks).
// Errors (shape/device/dtype mismatch, bad arguments) throw std::invalid_argument naming the op.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lensflow::ad {

enum class Device { CPU, CUDA };
enum class DType { F32, F64 };
using Shape = std::vector<int64_t>;

// True when built with CUDA and at least one device is visible.
bool cuda_available();

std::string to_string(const Shape& s);     // "[2, 3]"
std::string to_string(Device d);           // "CPU" / "CUDA"
std::string to_string(DType t);            // "F32" / "F64"
size_t dtype_size(DType t);
int64_t shape_numel(const Shape& s);

struct TensorImpl;  // storage + shape + autograd state (autodiff/tensor.cpp)
struct Node;        // one recorded op (autodiff/tape.hpp)

class Tensor {
 public:
  Tensor();  // undefined handle

  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::CPU);
  static Tensor from_vector(const std::vector<float>& v, const Shape& shape,
                            Device device = Device::CPU);  // F32
  static Tensor from_vector(const std::vector<double>& v, const Shape& shape,
                            Device device = Device::CPU);  // F64 (CPU only)

  // Copies to host (converting the dtype if needed); synchronises the CUDA stream.
  std::vector<float> to_f32() const;
  std::vector<double> to_f64() const;
  double item() const;  // value of a one-element tensor

  // Copies (no autograd edge); returns *this unchanged when already on that device / dtype.
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;

  const Shape& shape() const;
  int64_t dim(int i) const;  // negative i counts from the end
  int ndim() const;
  int64_t numel() const;
  Device device() const;
  DType dtype() const;
  bool defined() const { return static_cast<bool>(impl_); }

  // Raw contiguous storage (device pointer for CUDA tensors). T must match dtype().
  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data() const;

  // Autograd. requires_grad is true for leaves marked by set_requires_grad(true) and for every op
  // output recorded from such leaves.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool flag);  // only on leaves
  Tensor grad() const;                   // undefined until a backward reaches this leaf
  void zero_grad();                      // drops the accumulated gradient
  void set_grad(const Tensor& g);        // replaces the gradient (e.g. after clipping)
  Tensor detach() const;                 // same storage, no autograd history
  bool is_leaf() const;

  Tensor reshape(const Shape& shape) const;  // differentiable; one dim may be -1
  void copy_(const Tensor& src);             // in-place copy, shapes equal, no grad recorded

  // Internal (used by the op implementations and the tape).
  const std::shared_ptr<Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<Node> node);
  TensorImpl* impl() const { return impl_.get(); }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Grad mode. NoGradGuard switches recording off for its scope (inference, optimizer updates).
bool grad_enabled();
struct NoGradGuard {
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Backpropagates from a one-element tensor (d loss / d loss = 1), accumulating into the .grad() of
// every reachable leaf with requires_grad. The graph is released afterwards: one backward per
// forward (a second call on the same loss throws std::invalid_argument).
void backward(const Tensor& scalar_loss);

// Counter-based random numbers (Philox-4x32-10). Element i of a draw uses counter (offset + i), so a
// draw of n numbers advances the offset by n; the same seed gives the same stream on CPU and CUDA
// (bit-identical uniforms; normals agree to rounding of the device log/cos).
class Generator {
 public:
  explicit Generator(uint64_t seed);
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t o) { offset_ = o; }   // for checkpoint/resume
  uint64_t advance(uint64_t n);                   // returns the old offset, adds n
  // Host helpers drawn from the same stream.
  double uniform();                               // U[0,1)
  uint64_t next_u64();

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Tensor randn(const Shape& shape, Generator& gen, Device device = Device::CPU,
             DType dtype = DType::F32);
Tensor rand(const Shape& shape, Generator& gen, Device device = Device::CPU,
            DType dtype = DType::F32);  // U[0,1)
// n integers uniform in [0, high), on the host (indices feed index_select / batch shuffling).
std::vector<int64_t> randint(int64_t n, int64_t high, Generator& gen);
// A uniformly random permutation of 0..n-1 (Fisher–Yates on the generator's stream).
std::vector<int64_t> randperm(int64_t n, Generator& gen);

}  // namespace lensflow::ad
