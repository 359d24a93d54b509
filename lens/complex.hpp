// lens/complex.hpp — a minimal double-precision complex type usable on host and device.
// std::complex is not available in device code and cuda::std::complex is not available without
// the CUDA toolkit, so lens/ carries its own.
#pragma once
#include <cmath>

#include "core/hd.hpp"

namespace lensflow::lens {

struct cplx {
  double re = 0.0, im = 0.0;
  LENSFLOW_HD constexpr cplx() = default;
  LENSFLOW_HD constexpr cplx(double r, double i = 0.0) : re(r), im(i) {}
  LENSFLOW_HD cplx& operator+=(cplx b) { re += b.re; im += b.im; return *this; }
  LENSFLOW_HD cplx& operator-=(cplx b) { re -= b.re; im -= b.im; return *this; }
  LENSFLOW_HD cplx& operator*=(cplx b) { *this = cplx(re * b.re - im * b.im, re * b.im + im * b.re); return *this; }
};

LENSFLOW_HD cplx operator+(cplx a, cplx b) { return {a.re + b.re, a.im + b.im}; }
LENSFLOW_HD cplx operator-(cplx a, cplx b) { return {a.re - b.re, a.im - b.im}; }
LENSFLOW_HD cplx operator-(cplx a) { return {-a.re, -a.im}; }
LENSFLOW_HD cplx operator*(cplx a, cplx b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
LENSFLOW_HD cplx operator*(double s, cplx a) { return {s * a.re, s * a.im}; }
LENSFLOW_HD cplx operator*(cplx a, double s) { return {s * a.re, s * a.im}; }
LENSFLOW_HD cplx operator/(cplx a, double s) { return {a.re / s, a.im / s}; }
LENSFLOW_HD double norm2(cplx a) { return a.re * a.re + a.im * a.im; }
LENSFLOW_HD double abs(cplx a) { return hypot(a.re, a.im); }
LENSFLOW_HD cplx conj(cplx a) { return {a.re, -a.im}; }
// Division scaled to avoid overflow/underflow (Smith's algorithm).
LENSFLOW_HD cplx operator/(cplx a, cplx b) {
  if (fabs(b.re) >= fabs(b.im)) {
    double r = b.im / b.re, d = b.re + b.im * r;
    return {(a.re + a.im * r) / d, (a.im - a.re * r) / d};
  }
  double r = b.re / b.im, d = b.re * r + b.im;
  return {(a.re * r + a.im) / d, (a.im * r - a.re) / d};
}
LENSFLOW_HD cplx operator/(double a, cplx b) { return cplx(a) / b; }
LENSFLOW_HD cplx csqrt(cplx a) {
  double m = abs(a);
  double r = sqrt(0.5 * (m + fabs(a.re)));
  if (r == 0.0) return {0.0, 0.0};
  if (a.re >= 0.0) return {r, a.im / (2.0 * r)};
  return {fabs(a.im) / (2.0 * r), a.im >= 0.0 ? r : -r};
}

}  // namespace lensflow::lens
