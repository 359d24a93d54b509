// core/cuda_check.hpp — the one check of CUDA runtime calls (for .cu files, and for .cpp files in
// their LENSFLOW_HAVE_CUDA branches): a failed call throws std::runtime_error
// "<who>: <what>: <CUDA's message>".
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace lensflow::core {

inline void cuda_check(cudaError_t e, const char* who, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(who) + ": " + what + ": " + cudaGetErrorString(e));
}

}  // namespace lensflow::core

#define LF_CUDA_STR2(x) #x
#define LF_CUDA_STR(x) LF_CUDA_STR2(x)
// LF_CUDA_CHECK(call): cuda_check naming the source line and the call.
#define LF_CUDA_CHECK(expr) ::lensflow::core::cuda_check((expr), __FILE__ ":" LF_CUDA_STR(__LINE__), #expr)
