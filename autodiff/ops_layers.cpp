// autodiff/ops_layers.cpp — network layers: layer norm, max-pool, GRU, mixture-of-Gaussians
// log-density (convolutions: autodiff/ops_conv.cpp).
#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/gru.hpp"
#include "kernels/layernorm.hpp"
#include "kernels/maxpool.hpp"
#include "kernels/mog.hpp"

namespace lensflow::ad {

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_same("layer_norm", {&x, &gamma, &beta});
  if (x.ndim() < 1 || gamma.ndim() != 1 || beta.ndim() != 1 || gamma.dim(0) != x.dim(-1) ||
      beta.dim(0) != x.dim(-1))
    shape_error("layer_norm", "expects x[..., C], gamma[C], beta[C]", {&x, &gamma, &beta});
  if (!(eps > 0)) throw std::invalid_argument("layer_norm: eps must be > 0");
  const int64_t C = x.dim(-1), rows = x.numel() / std::max<int64_t>(C, 1);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({rows}, x.dtype(), x.device());
  on_device(x, [&] {
    kernels::layernorm_forward_cuda(x.data<float>(), gamma.data<float>(),
                                    beta.data<float>(), y.data<float>(),
                                    mean.data<float>(), rstd.data<float>(), rows, C, eps);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::layernorm_forward_cpu<T>(x.data<T>(), gamma.data<T>(), beta.data<T>(), y.data<T>(),
                                      mean.data<T>(), rstd.data<T>(), rows, C, eps);
  });
  if (!needs_grad({x, gamma, beta})) return y;
  const Tensor xd = x.detach(), gd = gamma.detach();
  return record(y, "layer_norm", {x, gamma, beta}, [=](const Tensor& g) {
    Tensor dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
    Tensor dg = Tensor::empty({C}, xd.dtype(), xd.device());
    Tensor dbeta = Tensor::empty({C}, xd.dtype(), xd.device());
    on_device(xd, [&] {
      kernels::layernorm_backward_cuda(xd.data<float>(), gd.data<float>(),
                                       mean.data<float>(), rstd.data<float>(),
                                       g.data<float>(), dx.data<float>(),
                                       dg.data<float>(), dbeta.data<float>(), rows, C);
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::layernorm_backward_cpu<T>(xd.data<T>(), gd.data<T>(), mean.data<T>(),
                                         rstd.data<T>(), g.data<T>(), dx.data<T>(),
                                         dg.data<T>(), dbeta.data<T>(), rows, C);
    });
    return std::vector<Tensor>{dx, dg, dbeta};
  });
}

Tensor maxpool2(const Tensor& x) {
  check_same("maxpool2", {&x});
  if (x.ndim() != 3 || x.dim(1) < 2) shape_error("maxpool2", "expects x[B,L,C] with L >= 2", {&x});
  const int64_t B = x.dim(0), L = x.dim(1), C = x.dim(2);
  Tensor y = Tensor::empty({B, L / 2, C}, x.dtype(), x.device());
  on_device(x, [&] {
    kernels::maxpool2_forward_cuda(x.data<float>(), y.data<float>(), B, L, C);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::maxpool2_forward_cpu<T>(x.data<T>(), y.data<T>(), B, L, C);
  });
  if (!needs_grad({x})) return y;
  const Tensor xd = x.detach(), yd = y.detach();
  return record(y, "maxpool2", {x}, [=](const Tensor& g) {
    Tensor dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
    on_device(xd, [&] {
      kernels::maxpool2_backward_cuda(xd.data<float>(), yd.data<float>(), g.data<float>(),
                                      dx.data<float>(), B, L, C);
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::maxpool2_backward_cpu<T>(xd.data<T>(), yd.data<T>(), g.data<T>(), dx.data<T>(),
                                        B, L, C);
    });
    return std::vector<Tensor>{dx};
  });
}

Tensor gru(const Tensor& x, const Tensor& h0, const Tensor& W_ih, const Tensor& W_hh,
           const Tensor& b_ih, const Tensor& b_hh) {
  if (h0.defined())
    check_same("gru", {&x, &h0, &W_ih, &W_hh, &b_ih, &b_hh});
  else
    check_same("gru", {&x, &W_ih, &W_hh, &b_ih, &b_hh});
  const bool ok = x.ndim() == 3 && W_hh.ndim() == 2 && W_hh.dim(0) == 3 * W_hh.dim(1) &&
                  W_ih.ndim() == 2 && W_ih.dim(0) == W_hh.dim(0) && W_ih.dim(1) == x.dim(2) &&
                  b_ih.shape() == Shape{W_hh.dim(0)} && b_hh.shape() == Shape{W_hh.dim(0)} &&
                  x.dim(1) >= 1 &&
                  (!h0.defined() || h0.shape() == Shape{x.dim(0), W_hh.dim(1)});
  if (!ok)
    shape_error("gru",
                "expects x[B,T,In], h0[B,H] or undefined, W_ih[3H,In], W_hh[3H,H], b_ih[3H], "
                "b_hh[3H]",
                {&x, &h0, &W_ih, &W_hh, &b_ih, &b_hh});
  const kernels::GruDims d{x.dim(0), x.dim(1), x.dim(2), W_hh.dim(1)};
  Tensor out = Tensor::empty({d.B, d.T, d.H}, x.dtype(), x.device());
  Tensor gates = Tensor::empty({d.B, d.T, 4 * d.H}, x.dtype(), x.device());
  on_device(x, [&] {
    kernels::gru_forward_cuda(d, fptr(x), fptr(h0), fptr(W_ih), fptr(W_hh), fptr(b_ih),
                              fptr(b_hh), fptr(out), fptr(gates));
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::gru_forward_cpu<T>(d, tptr<T>(x), tptr<T>(h0), tptr<T>(W_ih), tptr<T>(W_hh),
                                tptr<T>(b_ih), tptr<T>(b_hh), tptr<T>(out), tptr<T>(gates));
  });
  if (!needs_grad({x, h0, W_ih, W_hh, b_ih, b_hh})) return out;
  const Tensor xd = x.detach(), h0d = h0.defined() ? h0.detach() : Tensor(),
               Wid = W_ih.detach(), Whd = W_hh.detach(), od = out.detach();
  return record(out, "gru", {x, h0, W_ih, W_hh, b_ih, b_hh}, [=](const Tensor& g) {
    auto like = [&](const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); };
    Tensor dx = like(xd), dh0 = h0d.defined() ? like(h0d) : Tensor(), dWi = like(Wid),
           dWh = like(Whd), dbi = Tensor::empty({3 * d.H}, xd.dtype(), xd.device()),
           dbh = Tensor::empty({3 * d.H}, xd.dtype(), xd.device());
    on_device(xd, [&] {
      kernels::gru_backward_cuda(d, fptr(xd), fptr(h0d), fptr(Wid), fptr(Whd), fptr(od),
                                 fptr(gates), fptr(g), fptr(dx), fptr(dh0), fptr(dWi),
                                 fptr(dWh), fptr(dbi), fptr(dbh));
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::gru_backward_cpu<T>(d, tptr<T>(xd), tptr<T>(h0d), tptr<T>(Wid), tptr<T>(Whd),
                                   tptr<T>(od), tptr<T>(gates), tptr<T>(g), tptr<T>(dx),
                                   tptr<T>(dh0), tptr<T>(dWi), tptr<T>(dWh), tptr<T>(dbi),
                                   tptr<T>(dbh));
    });
    return std::vector<Tensor>{dx, dh0, dWi, dWh, dbi, dbh};
  });
}

Tensor mog_logpdf(const Tensor& z, const Tensor& logits, const Tensor& mu,
                  const Tensor& log_sigma) {
  check_same("mog_logpdf", {&z, &logits, &mu, &log_sigma});
  if (z.ndim() != 2 || logits.ndim() != 3 || logits.dim(0) != z.dim(0) ||
      logits.dim(1) != z.dim(1) || logits.dim(2) < 1 || mu.shape() != logits.shape() ||
      log_sigma.shape() != logits.shape())
    shape_error("mog_logpdf", "expects z[B,D], logits/mu/log_sigma [B,D,K]",
                {&z, &logits, &mu, &log_sigma});
  const int64_t n = z.numel(), K = logits.dim(2);
  Tensor out = Tensor::empty(z.shape(), z.dtype(), z.device());
  on_device(z, [&] {
    kernels::mog_forward_cuda(fptr(z), fptr(logits), fptr(mu), fptr(log_sigma), fptr(out),
                              n, K);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::mog_forward_cpu<T>(z.data<T>(), logits.data<T>(), mu.data<T>(), log_sigma.data<T>(),
                                out.data<T>(), n, K);
  });
  if (!needs_grad({z, logits, mu, log_sigma})) return out;
  const Tensor zd = z.detach(), ld = logits.detach(), md = mu.detach(), sd = log_sigma.detach();
  return record(out, "mog_logpdf", {z, logits, mu, log_sigma}, [=](const Tensor& g) {
    Tensor gz = Tensor::empty(zd.shape(), zd.dtype(), zd.device());
    Tensor gl = Tensor::empty(ld.shape(), zd.dtype(), zd.device());
    Tensor gm = Tensor::empty(ld.shape(), zd.dtype(), zd.device());
    Tensor gs = Tensor::empty(ld.shape(), zd.dtype(), zd.device());
    on_device(zd, [&] {
      kernels::mog_backward_cuda(fptr(zd), fptr(ld), fptr(md), fptr(sd), fptr(g), fptr(gz),
                                 fptr(gl), fptr(gm), fptr(gs), n, K);
    }, [&](auto tag) {
      using T = decltype(tag);
      kernels::mog_backward_cpu<T>(zd.data<T>(), ld.data<T>(), md.data<T>(), sd.data<T>(),
                                   g.data<T>(), gz.data<T>(), gl.data<T>(), gm.data<T>(),
                                   gs.data<T>(), n, K);
    });
    return std::vector<Tensor>{gz, gl, gm, gs};
  });
}

}  // namespace lensflow::ad
