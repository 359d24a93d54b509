#include "nn/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lensflow::nn {

CosineSchedule::CosineSchedule(double lr0, int64_t total_steps, double lr_min)
    : lr0_(lr0), total_(total_steps), lr_min_(lr_min) {
  if (!(lr0 >= 0) || !(lr_min >= 0) || lr_min > lr0 || total_steps <= 0)
    throw std::invalid_argument("CosineSchedule: need 0 <= lr_min <= lr0 and total_steps > 0");
}

double CosineSchedule::lr(int64_t step) const {
  const double t = std::clamp(static_cast<double>(step) / static_cast<double>(total_), 0.0, 1.0);
  return lr_min_ + (lr0_ - lr_min_) * 0.5 * (1.0 + std::cos(M_PI * t));
}

}  // namespace lensflow::nn
