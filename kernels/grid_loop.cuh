// kernels/grid_loop.cuh — the grid-stride loop used by the elementwise-style CUDA kernels.
#pragma once

#define LF_GRID_LOOP(i, n)                                                                \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);               \
       i += int64_t(blockDim.x) * gridDim.x)
