#include "nn/init.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace lensflow::nn {

ad::Tensor uniform_init(const ad::Shape& shape, double bound, ad::Generator& gen) {
  std::vector<float> v(static_cast<size_t>(ad::shape_numel(shape)));
  for (auto& x : v) x = static_cast<float>((2.0 * gen.uniform() - 1.0) * bound);
  return ad::Tensor::from_vector(v, shape);
}

ad::Tensor fan_in_init(const ad::Shape& shape, int64_t fan_in, double gain, ad::Generator& gen) {
  if (fan_in <= 0) throw std::invalid_argument("fan_in_init: fan_in must be positive");
  return uniform_init(shape, gain * std::sqrt(3.0 / static_cast<double>(fan_in)), gen);
}

}  // namespace lensflow::nn
