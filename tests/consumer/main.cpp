// Consumer of the installed lensflow: a binary lens seen from far away behaves like a single lens
// of the total mass, A -> (u²+2)/(u sqrt(u²+4)).
#include <cmath>
#include <cstdio>

#include "lens/lensflow_lens.hpp"

int main() {
  const double s[2] = {1.0, 0.5}, q[2] = {0.5, 1e-3}, y1[2] = {30.0, 0.0}, y2[2] = {40.0, 50.0};
  double A[2];
  lensflow::lens::point_mag_host(s, q, y1, y2, 2, A, 2);
  for (int i = 0; i < 2; ++i) {
    const double u = std::hypot(y1[i], y2[i]);
    const double pacz = (u * u + 2.0) / (u * std::sqrt(u * u + 4.0));
    std::printf("A = %.12f, single-lens limit %.12f\n", A[i], pacz);
    if (!(std::fabs(A[i] - pacz) < 1e-6)) return 1;
  }
  return 0;
}
