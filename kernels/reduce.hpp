// kernels/reduce.hpp — reductions and softmax along one axis. A tensor is viewed as
// [outer, n, inner] with the reduced axis in the middle; outputs are [outer, inner].
#pragma once

#include <cstdint>

namespace lensflow::kernels {

// SumSquares: the sum of x^2 (each square rounded to T, then summed as Sum sums).
enum class Reduce { Sum, Max, LogSumExp, SumSquares };

template <class T>
void reduce_cpu(Reduce op, const T* x, T* y, int64_t outer, int64_t n, int64_t inner);
// y = softmax or log_softmax of x along the middle axis.
template <class T>
void softmax_cpu(bool log, const T* x, T* y, int64_t outer, int64_t n, int64_t inner);
// gx from y = (log_)softmax(x) and gy.
template <class T>
void softmax_backward_cpu(bool log, const T* y, const T* gy, T* gx, int64_t outer, int64_t n,
                          int64_t inner);

void reduce_cuda(Reduce op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void softmax_cuda(bool log, const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void softmax_backward_cuda(bool log, const float* y, const float* gy, float* gx, int64_t outer,
                           int64_t n, int64_t inner);

}  // namespace lensflow::kernels
