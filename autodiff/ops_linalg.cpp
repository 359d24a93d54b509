// autodiff/ops_linalg.cpp — matmul, linear and the MADE masked linear (BLAS / cuBLAS GEMMs).
#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/gemm.hpp"

namespace lensflow::ad {

void gemm_on(const Tensor& like, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void* A,
             int64_t lda, const void* B, int64_t ldb, bool accumulate, void* C, int64_t ldc) {
  on_device(like, [&] {
    kernels::gemm_cuda(ta, tb, M, N, K, 1.0f, static_cast<const float*>(A), lda,
                       static_cast<const float*>(B), ldb, accumulate ? 1.0f : 0.0f,
                       static_cast<float*>(C), ldc);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::gemm_cpu<T>(ta, tb, M, N, K, T(1), static_cast<const T*>(A), lda,
                         static_cast<const T*>(B), ldb, accumulate ? T(1) : T(0),
                         static_cast<T*>(C), ldc);
  });
}

namespace {

// Batched GEMM over `batch` matrices with element strides (0 = shared).
void gemm_batched_on(const Tensor& like, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                     const void* A, int64_t lda, int64_t sa, const void* B, int64_t ldb,
                     int64_t sb, void* C, int64_t ldc, int64_t sc, int64_t batch) {
  on_device(like, [&] {
    kernels::gemm_batched_cuda(ta, tb, M, N, K, 1.0f, static_cast<const float*>(A), lda,
                               sa, static_cast<const float*>(B), ldb, sb, 0.0f,
                               static_cast<float*>(C), ldc, sc, batch);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::gemm_batched_cpu<T>(ta, tb, M, N, K, T(1), static_cast<const T*>(A), lda, sa,
                                 static_cast<const T*>(B), ldb, sb, T(0), static_cast<T*>(C),
                                 ldc, sc, batch);
  });
}

// a [R, K] x b [K, N] where a may have leading dims (flattened into R).
Tensor matmul_flat(const Tensor& a, const Tensor& b) {
  const int64_t K = a.dim(-1), N = b.dim(1), R = a.numel() / std::max<int64_t>(K, 1);
  Shape out = a.shape();
  out.back() = N;
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  gemm_on(a, false, false, R, N, K, a.raw_data(), K, b.raw_data(), N, false, y.raw_data(), N);
  if (!needs_grad({a, b})) return y;
  const Tensor ad = a.detach(), bd = b.detach();
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(y, "matmul", {a, b}, [=](const Tensor& g) {
    Tensor gA, gB;
    if (ga) {  // g [R,N] b^T
      gA = Tensor::empty(ad.shape(), ad.dtype(), ad.device());
      gemm_on(ad, false, true, R, K, N, g.raw_data(), N, bd.raw_data(), N, false, gA.raw_data(), K);
    }
    if (gb) {  // a^T g
      gB = Tensor::empty(bd.shape(), bd.dtype(), bd.device());
      gemm_on(ad, true, false, K, N, R, ad.raw_data(), K, g.raw_data(), N, false, gB.raw_data(), N);
    }
    return std::vector<Tensor>{gA, gB};
  });
}

// a [Bt, M, K] x b [Bt, K, N]
Tensor matmul_batched(const Tensor& a, const Tensor& b) {
  const int64_t Bt = a.dim(0), M = a.dim(1), K = a.dim(2), N = b.dim(2);
  Tensor y = Tensor::empty({Bt, M, N}, a.dtype(), a.device());
  gemm_batched_on(a, false, false, M, N, K, a.raw_data(), K, M * K, b.raw_data(), N, K * N,
                  y.raw_data(), N, M * N, Bt);
  if (!needs_grad({a, b})) return y;
  const Tensor ad = a.detach(), bd = b.detach();
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(y, "matmul", {a, b}, [=](const Tensor& g) {
    Tensor gA, gB;
    if (ga) {
      gA = Tensor::empty(ad.shape(), ad.dtype(), ad.device());
      gemm_batched_on(ad, false, true, M, K, N, g.raw_data(), N, M * N, bd.raw_data(), N, K * N,
                      gA.raw_data(), K, M * K, Bt);
    }
    if (gb) {
      gB = Tensor::empty(bd.shape(), bd.dtype(), bd.device());
      gemm_batched_on(ad, true, false, K, N, M, ad.raw_data(), K, M * K, g.raw_data(), N, M * N,
                      gB.raw_data(), N, K * N, Bt);
    }
    return std::vector<Tensor>{gA, gB};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same("matmul", {&a, &b});
  if (b.ndim() == 2 && (a.ndim() == 2 || a.ndim() == 3)) {
    if (a.dim(-1) != b.dim(0)) shape_error("matmul", "inner dimensions differ", {&a, &b});
    return matmul_flat(a, b);
  }
  if (a.ndim() == 3 && b.ndim() == 3) {
    if (a.dim(0) != b.dim(0) || a.dim(2) != b.dim(1))
      shape_error("matmul", "batch or inner dimensions differ", {&a, &b});
    return matmul_batched(a, b);
  }
  shape_error("matmul", "expects [M,K]x[K,N], [B,M,K]x[K,N] or [B,M,K]x[B,K,N]", {&a, &b});
}

Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b) {
  if (b.defined())
    check_same("linear", {&x, &W, &b});
  else
    check_same("linear", {&x, &W});
  if (x.ndim() < 1 || W.ndim() != 2 || x.dim(-1) != W.dim(1) ||
      (b.defined() && (b.ndim() != 1 || b.dim(0) != W.dim(0))))
    shape_error("linear", "expects x[..., In], W[Out, In], b[Out]", {&x, &W, &b});
  const int64_t In = W.dim(1), Out = W.dim(0), R = x.numel() / std::max<int64_t>(In, 1);
  Shape out = x.shape();
  out.back() = Out;
  // y starts as the broadcast bias (a fresh buffer: the GEMM accumulates into it).
  Tensor y = Tensor::empty(out, x.dtype(), x.device());
  if (b.defined()) {
    const Tensor e = expand(b.detach(), out);
    if (e.raw_data() == b.raw_data())
      y.copy_(e);
    else
      y = e;
  }
  gemm_on(x, false, true, R, Out, In, x.raw_data(), In, W.raw_data(), In, b.defined(),
          y.raw_data(), Out);
  if (!needs_grad({x, W, b})) return y;
  const Tensor xd = x.detach(), Wd = W.detach();
  const bool gx = x.requires_grad(), gW = W.requires_grad(), gb = b.defined() && b.requires_grad();
  return record(y, "linear", {x, W, b}, [=](const Tensor& g) {
    Tensor dx, dW, db;
    if (gx) {  // g [R,Out] W [Out,In]
      dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
      gemm_on(xd, false, false, R, In, Out, g.raw_data(), Out, Wd.raw_data(), In, false,
              dx.raw_data(), In);
    }
    if (gW) {  // g^T x
      dW = Tensor::empty(Wd.shape(), Wd.dtype(), Wd.device());
      gemm_on(xd, true, false, Out, In, R, g.raw_data(), Out, xd.raw_data(), In, false,
              dW.raw_data(), In);
    }
    if (gb) db = sum(g.reshape({R, Out}), 0);
    return std::vector<Tensor>{dx, dW, db};
  });
}

Tensor masked_linear(const Tensor& x, const Tensor& W, const Tensor& mask, const Tensor& b) {
  check_same("masked_linear", {&W, &mask});
  if (mask.shape() != W.shape())
    shape_error("masked_linear", "mask must have the shape of W", {&x, &W, &mask});
  if (mask.requires_grad())
    throw std::invalid_argument("masked_linear: the mask is a constant (requires_grad is set)");
  return linear(x, mul(W, mask), b);
}

}  // namespace lensflow::ad
