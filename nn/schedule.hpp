// nn/schedule.hpp — cosine annealing (Loshchilov & Hutter 2017, no restarts):
//   lr(step) = lr_min + (lr0 - lr_min) * (1 + cos(pi * step / total_steps)) / 2,
// lr0 at step 0, lr_min (default 0) from step total_steps on. Stateless: the step count (saved
// with the optimizer) is its whole state, so a resumed run follows the same curve.
#pragma once

#include <cstdint>

namespace lensflow::nn {

class CosineSchedule {
 public:
  CosineSchedule(double lr0, int64_t total_steps, double lr_min = 0.0);
  double lr(int64_t step) const;
  double lr0() const { return lr0_; }
  double lr_min() const { return lr_min_; }
  int64_t total_steps() const { return total_; }

 private:
  double lr0_;
  int64_t total_;
  double lr_min_;
};

}  // namespace lensflow::nn
