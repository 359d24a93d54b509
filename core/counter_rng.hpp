// core/counter_rng.hpp — counter-based random numbers for the simulator and the realization (host
// and device).
//
// Every random number is a pure function of a key (seed, a, b, c): no generator state, so draw
// number i of a shard is the same whatever the number of threads, shards or devices, and the CPU
// and the GPU produce the same numbers (to the last ulp of the libm functions used). The hash is
// four rounds of the splitmix64 finalizer (core/hash.hpp), one per key word, which is plenty for
// Monte Carlo work (not for cryptography). The network's tensors draw from Philox instead
// (core/philox.hpp): its stream is what trained models and their tests were made with.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/hash.hpp"
#include "core/hd.hpp"

namespace lensflow::core {

// 64 random bits for the key (seed, a, b, c).
LENSFLOW_HD std::uint64_t counter_hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t x = splitmix64(seed ^ 0x6A09E667F3BCC909ull);
  x = splitmix64(x ^ a);
  x = splitmix64(x ^ (b * 0xD1B54A32D192ED03ull));
  return splitmix64(x ^ (c * 0xABC98388FB8FAC03ull + 0x8CB92BA72F3D8DD7ull));
}

// Uniform double in the open interval (0, 1) (53 random bits, never 0 or 1).
LENSFLOW_HD double counter_uniform(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return unit_interval_open(counter_hash(seed, a, b, c));
}

// Standard normal by Box–Muller from two uniforms keyed (seed, a, b, 2c) and (seed, a, b, 2c+1).
LENSFLOW_HD double counter_normal(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  const double u1 = counter_uniform(seed, a, b, 2 * c);
  const double u2 = counter_uniform(seed, a, b, 2 * c + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586477 * u2);
}

// Standard normal CDF Φ(x).
LENSFLOW_HD double normal_cdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }

// Standard normal density φ(x).
LENSFLOW_HD double normal_pdf(double x) { return 0.39894228040143267794 * exp(-0.5 * x * x); }

// Inverse of Φ for p in (0, 1): Acklam's rational approximation (relative error 1.2e-9) polished by
// one Halley step on Φ, which brings it to ~1e-15.
LENSFLOW_HD double normal_quantile(double p) {
  const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                       1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                       6.680131188771972e+01,  -1.328068155288572e+01};
  const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                       -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  const double p_low = 0.02425;
  double x;
  if (p < p_low) {
    const double q = sqrt(-2.0 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - p_low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = sqrt(-2.0 * log(1.0 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double e = normal_cdf(x) - p;
  const double u = e * 2.50662827463100050242 * exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

}  // namespace lensflow::core
