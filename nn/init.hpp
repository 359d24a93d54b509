// nn/init.hpp — parameter initialisers drawn from a seeded Generator (host side, then copied),
// so that a model built from the same seed is bit-identical on every machine.
#pragma once

#include "autodiff/tensor.hpp"

namespace lensflow::nn {

// Uniform in [-bound, bound] (F32, CPU).
ad::Tensor uniform_init(const ad::Shape& shape, double bound, ad::Generator& gen);
// Fan-in scaled uniform: variance gain^2 / fan_in (gain sqrt(2) = Kaiming for ReLU, 1 = LeCun).
ad::Tensor fan_in_init(const ad::Shape& shape, int64_t fan_in, double gain, ad::Generator& gen);

}  // namespace lensflow::nn
