// kernels/index.hpp — gathers and block copies along one axis, viewing tensors as
// [outer, n, inner] (slice, concat, index_select and their gradients).
#pragma once

#include <cstdint>

namespace lensflow::kernels {

// y[o, j, i] = x[o, idx[j], i] for j < m; x is [outer, n, inner], y [outer, m, inner].
// idx lives on the same device as x.
template <class T>
void gather_axis_cpu(const T* x, T* y, const int64_t* idx, int64_t outer, int64_t n, int64_t m,
                     int64_t inner);
// gx[o, idx[j], i] += gy[o, j, i] (gx must be initialised; repeated indices add up).
template <class T>
void scatter_add_axis_cpu(const T* gy, T* gx, const int64_t* idx, int64_t outer, int64_t n,
                          int64_t m, int64_t inner);
// dst[o, dst_off + j, i] = src[o, src_off + j, i] for j < count; src has n_src along the axis,
// dst has n_dst.
template <class T>
void copy_block_cpu(const T* src, T* dst, int64_t outer, int64_t n_src, int64_t n_dst,
                    int64_t inner, int64_t src_off, int64_t dst_off, int64_t count);

void gather_axis_cuda(const float* x, float* y, const int64_t* idx, int64_t outer, int64_t n,
                      int64_t m, int64_t inner);
// The scatter-add of gather_axis (its gradient) as a gather, without atomics: for each target
// row r, gx[o, r, i] = sum of gy[o, cols[k], i] for k in [offsets[r], offsets[r + 1]) in that
// order (written, not accumulated). offsets (n + 1) and cols (m) list, for each r, the positions j
// with idx[j] == r in increasing j (a counting sort of idx): then the sums are those of
// scatter_add_axis_cpu, added in the same order, so the results are the CPU twin's bit for bit
// and do not depend on scheduling.
void gather_sum_axis_cuda(const float* gy, float* gx, const int64_t* offsets, const int64_t* cols,
                          int64_t outer, int64_t n, int64_t m, int64_t inner);
void copy_block_cuda(const float* src, float* dst, int64_t outer, int64_t n_src, int64_t n_dst,
                     int64_t inner, int64_t src_off, int64_t dst_off, int64_t count);

}  // namespace lensflow::kernels
