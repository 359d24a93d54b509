// tests/ks.hpp — the one-sample Kolmogorov–Smirnov test of the distribution tests.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

namespace lensflow::test {

// Kolmogorov–Smirnov statistic of the sample against the CDF F.
inline double ks_stat(std::vector<double> x, const std::function<double(double)>& F) {
  std::sort(x.begin(), x.end());
  double d = 0.0;
  const double n = double(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = F(x[i]);
    d = std::max({d, std::fabs(f - i / n), std::fabs((i + 1) / n - f)});
  }
  return d;
}
// Critical value at significance 1e-3.
inline double ks_crit(std::size_t n) { return 1.95 / std::sqrt(double(n)); }

}  // namespace lensflow::test
