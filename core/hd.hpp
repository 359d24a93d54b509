// core/hd.hpp — marks functions that compile for both host and device.
// The physics is written once as LENSFLOW_HD functions; the CPU backend loops over them on threads
// and the CUDA backend launches them in kernels.
//
// LENSFLOW_HD is plain `inline` on both sides: the compilers decide what to inline. Forcing every
// function inline made the finite-source kernel one flat body of megabytes of machine code, with
// register spills and minutes of ptxas time. LENSFLOW_HD_NOINLINE marks the few large entry
// points of the physics (root solver, image finder, contour, hexadecapole and disk
// magnifications): on the device they stay real calls, compiled once per kernel instead of once
// per call site; on the host they are ordinary inline functions.
#pragma once

#if defined(__CUDACC__)
#define LENSFLOW_HD __host__ __device__ inline
#if defined(__CUDA_ARCH__)
#define LENSFLOW_HD_NOINLINE __host__ __device__ inline __noinline__
#else
#define LENSFLOW_HD_NOINLINE __host__ __device__ inline
#endif
#else
#define LENSFLOW_HD inline
#define LENSFLOW_HD_NOINLINE inline
#endif
