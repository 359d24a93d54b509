// autodiff/random.cpp — Generator and random tensors (Philox, core/philox.hpp).
#include <stdexcept>
#include <utility>

#include "autodiff/dispatch.hpp"
#include "autodiff/tensor.hpp"
#include "core/philox.hpp"
#include "kernels/rng.hpp"

namespace lensflow::ad {

Generator::Generator(uint64_t seed) : seed_(seed) {}

uint64_t Generator::advance(uint64_t n) {
  const uint64_t old = offset_;
  offset_ += n;
  return old;
}
double Generator::uniform() { return core::philox_uniform(advance(1), seed_); }
uint64_t Generator::next_u64() {
  const core::Philox4 r = core::philox4x32(advance(1), seed_);
  return (uint64_t(r.v[0]) << 32) | r.v[1];
}

namespace {
Tensor draw(bool normal, const Shape& shape, Generator& gen, Device device, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype, device);
  const int64_t n = t.numel();
  const uint64_t offset = gen.advance(uint64_t(n));
  on_device(t, [&] {
    if (normal)
      kernels::rand_normal_cuda(t.data<float>(), n, gen.seed(), offset);
    else
      kernels::rand_uniform_cuda(t.data<float>(), n, gen.seed(), offset);
  }, [&](auto tag) {
    using T = decltype(tag);
    if (normal)
      kernels::rand_normal_cpu<T>(t.data<T>(), n, gen.seed(), offset);
    else
      kernels::rand_uniform_cpu<T>(t.data<T>(), n, gen.seed(), offset);
  });
  return t;
}
}  // namespace

Tensor randn(const Shape& shape, Generator& gen, Device device, DType dtype) {
  return draw(true, shape, gen, device, dtype);
}
Tensor rand(const Shape& shape, Generator& gen, Device device, DType dtype) {
  return draw(false, shape, gen, device, dtype);
}

std::vector<int64_t> randint(int64_t n, int64_t high, Generator& gen) {
  if (n < 0 || high <= 0)
    throw std::invalid_argument("randint: need n >= 0 and high > 0 (got n=" + std::to_string(n) +
                                ", high=" + std::to_string(high) + ")");
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (auto& v : out) v = int64_t(gen.uniform() * double(high)) % high;
  return out;
}

std::vector<int64_t> randperm(int64_t n, Generator& gen) {
  if (n < 0) throw std::invalid_argument("randperm: negative n");
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = int64_t(gen.uniform() * double(i + 1)) % (i + 1);
    std::swap(p[size_t(i)], p[size_t(j)]);
  }
  return p;
}

}  // namespace lensflow::ad
