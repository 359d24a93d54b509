// lens/hd.hpp — marks functions that compile for both host and device.
// The physics is written once as LENSFLOW_HD functions; the CPU backend loops over them on threads
// and the CUDA backend launches them in kernels.
#pragma once

#if defined(__CUDACC__)
#define LENSFLOW_HD __host__ __device__ __forceinline__
#else
#define LENSFLOW_HD inline
#endif
