// autodiff/ops_conv.cpp — convolutions: conv1d and the fused conv1d_ln (convolution + layer norm +
// residual + ReLU). On the CPU both run the cache-tiled kernels of kernels/conv_ln.hpp; on CUDA
// conv1d is im2col + one cuBLAS GEMM and conv1d_ln the CUDA twin of the fused kernel.
#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/conv1d.hpp"
#include "kernels/conv_ln.hpp"

namespace lensflow::ad {

namespace {

Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

// CUDA conv1d: y = bias broadcast, then y += im2col(x) w (the backward mirrors it).
Tensor im2col_cuda(const Tensor& x, int64_t K) {
  const int64_t B = x.dim(0), L = x.dim(1), C = x.dim(2);
  Tensor cols = Tensor::empty({B * L, K * C}, x.dtype(), x.device());
  cuda_only([&] { kernels::im2col_cuda(x.data<float>(), cols.data<float>(), B, L, C, K); });
  return cols;
}

Tensor conv1d_cuda(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t B = x.dim(0), L = x.dim(1), Cin = x.dim(2), K = w.dim(0), Cout = w.dim(2);
  const int64_t rows = B * L, KC = K * Cin;
  const Shape out{B, L, Cout};
  Tensor y = b.defined() ? expand(b.detach(), out) : Tensor::empty(out, x.dtype(), x.device());
  {
    const Tensor cols = im2col_cuda(x, K);
    gemm_on(x, false, false, rows, Cout, KC, cols.raw_data(), KC, w.raw_data(), Cout,
            b.defined(), y.raw_data(), Cout);
  }
  if (!needs_grad({x, w, b})) return y;
  const Tensor xd = x.detach(), wd = w.detach();
  const bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad();
  return record(y, "conv1d", {x, w, b}, [=](const Tensor& g) {
    Tensor dx, dw, db;
    if (gw) {  // cols^T g, cols recomputed rather than kept (it is K times the input)
      const Tensor cols = im2col_cuda(xd, K);
      dw = like(wd);
      gemm_on(xd, true, false, KC, Cout, rows, cols.raw_data(), KC, g.raw_data(), Cout, false,
              dw.raw_data(), Cout);
    }
    if (gx) {  // col2im(g w^T)
      Tensor gcols = Tensor::empty({rows, KC}, xd.dtype(), xd.device());
      gemm_on(xd, false, true, rows, KC, Cout, g.raw_data(), Cout, wd.raw_data(), Cout, false,
              gcols.raw_data(), KC);
      dx = like(xd);
      cuda_only([&] { kernels::col2im_cuda(gcols.data<float>(), dx.data<float>(), B, L, Cin, K); });
    }
    if (gb) db = sum(g.reshape({rows, Cout}), 0);
    return std::vector<Tensor>{dx, dw, db};
  });
}

void check_conv(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  if (b.defined())
    check_same(op, {&x, &w, &b});
  else
    check_same(op, {&x, &w});
  if (x.ndim() != 3 || w.ndim() != 3 || w.dim(1) != x.dim(2) || w.dim(0) % 2 == 0 ||
      (b.defined() && (b.ndim() != 1 || b.dim(0) != w.dim(2))))
    shape_error(op, "expects x[B,L,Cin], w[K,Cin,Cout] with odd K, b[Cout]", {&x, &w, &b});
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_conv("conv1d", x, w, b);
  if (x.device() == Device::CUDA) return conv1d_cuda(x, w, b);
  return conv1d_ln(x, w, b, Tensor(), Tensor(), Tensor(), false);
}

Tensor conv1d_ln(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma,
                 const Tensor& beta, const Tensor& res, bool relu, double eps) {
  const char* op = gamma.defined() || res.defined() || relu ? "conv1d_ln" : "conv1d";
  check_conv(op, x, w, b);
  const kernels::ConvLnDims d{x.dim(0), x.dim(1), x.dim(2), w.dim(2), w.dim(0)};
  const Shape out{d.B, d.L, d.Cout};
  const bool ln = gamma.defined() || beta.defined();
  if (ln) {
    check_same(op, {&x, &gamma, &beta});
    if (gamma.shape() != Shape{d.Cout} || beta.shape() != Shape{d.Cout})
      shape_error(op, "expects gamma[Cout] and beta[Cout] (both or neither)", {&x, &w, &gamma, &beta});
    if (!(eps > 0)) throw std::invalid_argument(std::string(op) + ": eps must be > 0");
  }
  if (res.defined()) {
    check_same(op, {&x, &res});
    if (res.shape() != out) shape_error(op, "expects res[B,L,Cout]", {&x, &w, &res});
  }
  if (x.device() == Device::CUDA && !ln && !res.defined() && !relu) return conv1d_cuda(x, w, b);
  Tensor y = Tensor::empty(out, x.dtype(), x.device());
  Tensor z, mean, rstd;
  if (ln) {
    z = Tensor::empty(out, x.dtype(), x.device());
    mean = Tensor::empty({d.B * d.L}, x.dtype(), x.device());
    rstd = Tensor::empty({d.B * d.L}, x.dtype(), x.device());
  }
  on_device(x, [&] {
    kernels::conv_ln_forward_cuda(d, fptr(x), fptr(w), fptr(b), fptr(gamma), fptr(beta),
                                  fptr(res), relu, eps, fptr(z), fptr(mean), fptr(rstd),
                                  fptr(y));
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::conv_ln_forward_cpu<T>(d, tptr<T>(x), tptr<T>(w), tptr<T>(b), tptr<T>(gamma),
                                    tptr<T>(beta), tptr<T>(res), relu, eps, tptr<T>(z),
                                    tptr<T>(mean), tptr<T>(rstd), tptr<T>(y));
  });
  if (!needs_grad({x, w, b, gamma, beta, res})) return y;
  const Tensor xd = x.detach(), wd = w.detach(), gd = ln ? gamma.detach() : Tensor(),
               yd = relu ? y.detach() : Tensor();
  const bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad(),
             gg = ln && gamma.requires_grad(), gbeta = ln && beta.requires_grad(),
             gres = res.defined() && res.requires_grad();
  return record(y, op, {x, w, b, gamma, beta, res}, [=](const Tensor& g) {
    auto vec = [&](bool want) {
      return want ? Tensor::empty({d.Cout}, xd.dtype(), xd.device()) : Tensor();
    };
    Tensor dx = gx ? like(xd) : Tensor(), dw = gw ? like(wd) : Tensor(), db = vec(gb),
           dg = vec(gg), dbeta = vec(gbeta), dres = gres ? like(g) : Tensor();
    on_device(xd, [&] {
      kernels::conv_ln_backward_cuda(d, fptr(xd), fptr(wd), fptr(gd), fptr(z), fptr(mean),
                                     fptr(rstd), fptr(yd), fptr(g), relu, fptr(dx),
                                     fptr(dw), fptr(db), fptr(dg), fptr(dbeta),
                                     fptr(dres));
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::conv_ln_backward_cpu<T>(d, tptr<T>(xd), tptr<T>(wd), tptr<T>(gd), tptr<T>(z),
                                       tptr<T>(mean), tptr<T>(rstd), tptr<T>(yd), tptr<T>(g),
                                       relu, tptr<T>(dx), tptr<T>(dw), tptr<T>(db),
                                       tptr<T>(dg), tptr<T>(dbeta), tptr<T>(dres));
    });
    return std::vector<Tensor>{dx, dw, db, dg, dbeta, dres};
  });
}

}  // namespace lensflow::ad
