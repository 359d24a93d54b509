// bench_likelihood_bench — exact-likelihood throughput and the cost of exact refinement on the
// paper's central-caustic example (Zhang et al. 2021, Table 1: log s = −0.2, log q = −2, α = 300,
// u0 = 0.05, t0 = 26, log tE = 1.301, log ρ = −2.301, f_s = 0.12; close/wide degeneracy s ↔ 1/s).
//
// 1. Likelihood evaluations per second: θ samples × 7,200 finite-source epochs (0.01-day cadence,
//    72 days), for prior draws (mostly far from caustics) and for posterior-like draws around the
//    truth (caustic crossing: the expensive case); point source for comparison. Reference measured
//    in the same run: VBMicrolensing's BinaryLightCurve (python, one thread, same Tol/RelTol) on the
//    same θ, plus its agreement with our magnifications.
// 2. MCMC seeded in BOTH the close and the wide mode (8 walkers each, from the Table 1 solutions,
//    alternating so that each red-blue half holds both modes):
//    do both modes survive, and what are their best log-likelihoods?
// 3. Importance sampling to n_eff = 1,000 with a proposal built without the network: a mixture of
//    two Gaussians from Laplace approximations of the two modes (covariance × 1.3², weights ∝
//    Laplace evidence floored at 10%, truncated to the prior support). Reports the time,
//    efficiency, and the posterior mass of the wide mode (which MCMC cannot give).
// Usage: bench_likelihood_bench [--snr 100] [--threads 0] [--n-theta 16] [--skip-vbm] [--device]
//                               [--refine [--mcmc-steps 200] [--target-neff 1000] [--max-samples 8000]]
// Parts 2–3 run only with --refine (tens of minutes on a 2-core CPU; run_cpu.sh runs part 1).
// --device evaluates the likelihoods with log_likelihood_device (CUDA builds with a GPU).
// --point-source makes parts 2–3 use point-source data and likelihood (same geometry; ~20× cheaper
// on a CPU): the number of likelihood calls to n_eff then converts to finite-source time with the
// part-1 rate.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "lens/lensflow_lens.hpp"
#include "pipeline/refine.hpp"
#include "sim/likelihood.hpp"
#include "sim/priors.hpp"
#include "stats/ensemble_mcmc.hpp"
#include "stats/importance_sampling.hpp"

using namespace lensflow;
using Clock = std::chrono::steady_clock;
using lensflow::bench_util::seconds_since;

namespace {

constexpr std::size_t D = 8;
const double kTruth[D] = {-0.2, -2.0, 300.0, 0.05, 26.0, 1.301, -2.301, 0.12};
const double kClose[D] = {-0.1923, -2.0252, 299.8524, 0.0505, 26.0027, 1.2993, -2.2075, 0.1211};
const double kWide[D] = {0.2301, -1.9761, 299.5919, 0.0403, 26.1054, 1.3020, -2.3421, 0.1214};
constexpr double kInflate = 1.3;  // proposal covariance = kInflate² × Laplace covariance
const double kTableSigma[D] = {0.0035, 0.015, 0.26, 0.0003, 0.006, 0.0008, 0.05, 0.0003};

struct Args {
  double snr = 100.0;
  int threads = 0;
  std::size_t mcmc_steps = 200, max_samples = 8000, n_theta = 16;
  double target_neff = 1000.0;
  bool skip_vbm = false, refine = false, device = false, point_source = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&] { return lensflow::bench_util::option_value(argc, argv, i); };
    if (k == "--snr") a.snr = std::atof(val());
    else if (k == "--threads") a.threads = std::atoi(val());
    else if (k == "--mcmc-steps") a.mcmc_steps = std::strtoul(val(), nullptr, 10);
    else if (k == "--target-neff") a.target_neff = std::atof(val());
    else if (k == "--max-samples") a.max_samples = std::strtoul(val(), nullptr, 10);
    else if (k == "--n-theta") a.n_theta = std::strtoul(val(), nullptr, 10);
    else if (k == "--skip-vbm") a.skip_vbm = true;
    else if (k == "--refine") a.refine = true;
    else if (k == "--device") a.device = true;
    else if (k == "--point-source") a.point_source = true;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// VBMicrolensing reference: seconds per 7,200-epoch finite-source curve (one thread) and the
// largest relative difference from our magnifications (passed in) over all θ. −1 if unavailable.
void vbm_reference(const std::vector<double>& theta, std::size_t n, const std::vector<double>& t,
                   const std::vector<double>& ours, double tol, double& sec_per_curve, double& max_rel) {
  sec_per_curve = -1.0;
  max_rel = -1.0;
  const std::string dir = "/tmp/lensflow_likelihood_bench_" + std::to_string(::getpid());
  std::system(("mkdir -p " + dir).c_str());
  {
    FILE* f = std::fopen((dir + "/theta.txt").c_str(), "w");
    for (std::size_t i = 0; i < n * D; ++i) std::fprintf(f, "%.17g\n", theta[i]);
    std::fclose(f);
    f = std::fopen((dir + "/ours.txt").c_str(), "w");
    for (double v : ours) std::fprintf(f, "%.17g\n", v);
    std::fclose(f);
  }
  std::ostringstream py;
  py << "import time, math, numpy as np, VBMicrolensing\n"
     << "th = np.loadtxt('" << dir << "/theta.txt').reshape(-1, 8)\n"
     << "ours = np.loadtxt('" << dir << "/ours.txt').reshape(len(th), -1)\n"
     << "t = np.arange(" << t.size() << ") * 0.01\n"
     << "V = VBMicrolensing.VBMicrolensing(); V.Tol = " << tol << "; V.RelTol = " << tol << "\n"
     << "tot = 0.0; worst = 0.0\n"
     << "for k, p in enumerate(th):\n"
     << "  ln10 = math.log(10.0)\n"
     << "  pr = [p[0]*ln10, p[1]*ln10, p[3], math.radians(p[2] + 180.0), p[6]*ln10, p[5]*ln10, p[4]]\n"
     << "  t0 = time.perf_counter(); A = np.array(V.BinaryLightCurve(pr, list(t))[0]); tot += time.perf_counter() - t0\n"
     << "  worst = max(worst, float(np.max(np.abs(A - ours[k]) / A)))\n"
     << "print(tot / len(th), worst)\n";
  {
    FILE* f = std::fopen((dir + "/ref.py").c_str(), "w");
    std::fputs(py.str().c_str(), f);
    std::fclose(f);
  }
  FILE* p = popen(("python3 " + dir + "/ref.py 2>/dev/null").c_str(), "r");
  if (!p) return;
  if (std::fscanf(p, "%lf %lf", &sec_per_curve, &max_rel) != 2) sec_per_curve = max_rel = -1.0;
  pclose(p);
  std::system(("rm -rf " + dir).c_str());
}

// Mean and covariance of the rows of x (n×D) whose log s has the given sign.
void mode_moments(const std::vector<double>& x, bool wide, std::vector<double>& mu, std::vector<double>& cov,
                  std::size_t& count) {
  std::vector<double> sel;
  for (std::size_t i = 0; i < x.size() / D; ++i)
    if ((x[i * D] > 0.0) == wide) sel.insert(sel.end(), x.begin() + i * D, x.begin() + (i + 1) * D);
  count = sel.size() / D;
  if (count < 2) return;
  const std::vector<double> w(count, 1.0);
  mu = stats::weighted_mean(sel.data(), w.data(), count, D);
  cov = stats::weighted_covariance(sel.data(), w.data(), count, D);
}

// Gaussian component of the proposal: mean, Cholesky factor, log normalization.
struct Component {
  std::vector<double> mu, L;
  double log_norm = 0.0;
  explicit Component(const std::vector<double>& m, const std::vector<double>& cov) : mu(m), L(D * D, 0.0) {
    for (std::size_t i = 0; i < D; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        double s = cov[i * D + j];
        for (std::size_t k = 0; k < j; ++k) s -= L[i * D + k] * L[j * D + k];
        L[i * D + j] = i == j ? std::sqrt(std::max(s, 1e-300)) : s / L[j * D + j];
      }
    log_norm = -0.5 * D * std::log(2 * M_PI);
    for (std::size_t i = 0; i < D; ++i) log_norm -= std::log(L[i * D + i]);
  }
  double log_evidence = 0.0, weight = 1.0, log_support = 0.0;
  void draw(std::mt19937_64& rng, std::normal_distribution<double>& n01, double* x) const {
    double e[D];
    for (auto& v : e) v = n01(rng);
    for (std::size_t r = 0; r < D; ++r) {
      x[r] = mu[r];
      for (std::size_t j = 0; j <= r; ++j) x[r] += L[r * D + j] * e[j];
    }
  }
  double logpdf(const double* x) const {
    double z[D], q = 0.0;
    for (std::size_t i = 0; i < D; ++i) {
      double s = x[i] - mu[i];
      for (std::size_t j = 0; j < i; ++j) s -= L[i * D + j] * z[j];
      z[i] = s / L[i * D + i];
      q += z[i] * z[i];
    }
    return log_norm - 0.5 * q;
  }
};

// Inverse of a symmetric positive-definite D×D matrix via Cholesky; false if not SPD.
bool spd_inverse(const std::vector<double>& a, std::vector<double>& inv) {
  std::vector<double> L(D * D, 0.0);
  for (std::size_t i = 0; i < D; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = a[i * D + j];
      for (std::size_t k = 0; k < j; ++k) s -= L[i * D + k] * L[j * D + k];
      if (i == j) {
        if (!(s > 0.0)) return false;
        L[i * D + i] = std::sqrt(s);
      } else {
        L[i * D + j] = s / L[j * D + j];
      }
    }
  inv.assign(D * D, 0.0);
  for (std::size_t c = 0; c < D; ++c) {  // solve L Lᵀ x = e_c
    double y[D], z[D];
    for (std::size_t i = 0; i < D; ++i) {
      double s = (i == c);
      for (std::size_t k = 0; k < i; ++k) s -= L[i * D + k] * y[k];
      y[i] = s / L[i * D + i];
    }
    for (std::size_t i = D; i-- > 0;) {
      double s = y[i];
      for (std::size_t k = i + 1; k < D; ++k) s -= L[k * D + i] * z[k];
      z[i] = s / L[i * D + i];
    }
    for (std::size_t i = 0; i < D; ++i) inv[i * D + c] = z[i];
  }
  return true;
}

// Laplace approximation of one mode: damped Newton on the log posterior from x (updated in place)
// with central-difference gradient and Hessian (steps h); the precision is −H plus a weak Gaussian
// stand-in for the prior (1/prior_sd²) so flat directions (ρ for point-source data) stay proper.
// Returns the number of log-posterior evaluations; cov receives the inverse precision.
std::size_t laplace_mode(const stats::BatchLogDensity& f, std::vector<double>& x, const double* h,
                         const double* prior_sd, std::vector<double>& cov) {
  std::size_t evals = 0;
  std::vector<double> P(D * D);
  for (int iter = 0; iter < 6; ++iter) {
    std::vector<double> pts;
    auto add = [&](int i, double si, int j, double sj) {
      pts.insert(pts.end(), x.begin(), x.end());
      if (i >= 0) pts[pts.size() - D + i] += si * h[i];
      if (j >= 0) pts[pts.size() - D + j] += sj * h[j];
    };
    add(-1, 0, -1, 0);
    for (int i = 0; i < (int)D; ++i) add(i, 1, -1, 0), add(i, -1, -1, 0);
    for (int i = 0; i < (int)D; ++i)
      for (int j = i + 1; j < (int)D; ++j) add(i, 1, j, 1), add(i, 1, j, -1), add(i, -1, j, 1), add(i, -1, j, -1);
    std::vector<double> v(pts.size() / D);
    f(pts.data(), v.size(), v.data());
    evals += v.size();
    double g[D];
    for (std::size_t i = 0; i < D; ++i) {
      const double vp = v[1 + 2 * i], vm = v[2 + 2 * i];
      const bool ok = std::isfinite(vp) && std::isfinite(vm);
      g[i] = ok ? (vp - vm) / (2 * h[i]) : 0.0;  // at a prior edge: no gradient information
      P[i * D + i] = (ok ? -(vp - 2 * v[0] + vm) / (h[i] * h[i]) : 0.0) + 1.0 / (prior_sd[i] * prior_sd[i]);
    }
    std::size_t k = 1 + 2 * D;
    for (std::size_t i = 0; i < D; ++i)
      for (std::size_t j = i + 1; j < D; ++j, k += 4) {
        const double c = (v[k] - v[k + 1] - v[k + 2] + v[k + 3]) / (4 * h[i] * h[j]);
        P[i * D + j] = P[j * D + i] = std::isfinite(c) ? -c : 0.0;
      }
    double lambda = 0.0;
    while (!spd_inverse(P, cov)) {  // not at a maximum yet: Levenberg damping
      lambda = lambda == 0.0 ? 1e-3 : 4 * lambda;
      for (std::size_t i = 0; i < D; ++i) P[i * D + i] *= 1.0 + lambda;
    }
    if (iter == 5) break;
    double step[D];
    for (std::size_t i = 0; i < D; ++i) {
      step[i] = 0.0;
      for (std::size_t j = 0; j < D; ++j) step[i] += cov[i * D + j] * g[j];
    }
    std::vector<double> trial;
    for (double frac : {1.0, 0.5, 0.25})
      for (std::size_t i = 0; i < D; ++i) trial.push_back(x[i] + frac * step[i]);
    double tv[3];
    f(trial.data(), 3, tv);
    evals += 3;
    int best = -1;
    double bv = v[0];
    for (int t = 0; t < 3; ++t)
      if (tv[t] > bv) bv = tv[t], best = t;
    if (best < 0) break;  // no improvement: x is the maximum to within the stencil
    x.assign(trial.begin() + best * D, trial.begin() + (best + 1) * D);
  }
  return evals;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when redirected
  const int threads = a.threads > 0 ? a.threads : lens::default_thread_count();
  const std::size_t n_t = 7200;
  std::vector<double> t(n_t), x(n_t);
  for (std::size_t i = 0; i < n_t; ++i) t[i] = 0.01 * static_cast<double>(i);
  lens::FiniteSourceOptions fso;  // defaults: tol_abs 1e-4, tol_rel 1e-3
  {
    const lens::EventParams ev = sim::event_from_theta(kTruth);
    std::vector<double> A(n_t);
    lens::lightcurves_host(&ev, 1, t.data(), n_t, !a.point_source, fso, A.data(), nullptr, threads);
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n01;
    const double F0 = a.snr * a.snr;
    for (std::size_t i = 0; i < n_t; ++i) {
      const double g = F0 * (kTruth[7] * A[i] + 1.0 - kTruth[7]);
      x[i] = g + std::sqrt(g) * n01(rng);
    }
  }
  const sim::LightCurveView obs{t.data(), x.data(), n_t};
  std::printf("# likelihood_bench: paper central-caustic example, 7200 epochs, SNR_base %.0f, %d threads\n",
              a.snr, threads);

  // ---- 1. throughput -------------------------------------------------------------------------
  const sim::PriorBox prior;
  std::vector<double> th_prior(a.n_theta * D), th_post(a.n_theta * D);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n01;
  for (std::size_t k = 0; k < a.n_theta; ++k) {
    sim::theta_from_draw(sim::sample_event(prior, 2026, k), &th_prior[k * D]);
    for (std::size_t d = 0; d < D; ++d) th_post[k * D + d] = kTruth[d] + kTableSigma[d] * n01(rng);
  }
  sim::LikelihoodOptions lo;
  lo.fs = fso;
  lo.n_threads = threads;
  std::vector<double> ll(a.n_theta);
  for (int set = 0; set < 2; ++set) {
    const auto& th = set == 0 ? th_prior : th_post;
    const char* name = set == 0 ? "prior draws" : "near truth (caustic crossing)";
    for (bool finite : {true, false}) {
      lo.finite_source = finite;
      const auto t0 = Clock::now();
      if (a.device)
        sim::log_likelihood_device(obs, th.data(), a.n_theta, lo, ll.data());
      else
        sim::log_likelihood_host(obs, th.data(), a.n_theta, lo, ll.data());
      const double s = seconds_since(t0);
      std::printf("likelihood %-30s %-13s: %8.2f evals/s  (%.3g s per θ, %.3g points/s)\n", name,
                  finite ? "finite source" : "point source", a.n_theta / s, s / a.n_theta,
                  a.n_theta * n_t / s);
      std::printf("RESULT likelihood_%s_%s_%s %.4g evals/s\n", a.device ? "device" : "host",
                  set == 0 ? "prior" : "caustic", finite ? "finite" : "point", a.n_theta / s);
    }
    if (!a.skip_vbm) {
      std::vector<double> ours(a.n_theta * n_t);
      std::vector<lens::EventParams> ev(a.n_theta);
      for (std::size_t k = 0; k < a.n_theta; ++k) ev[k] = sim::event_from_theta(&th[k * D]);
      const auto t0 = Clock::now();
      lens::lightcurves_host(ev.data(), a.n_theta, t.data(), n_t, true, fso, ours.data(), nullptr, 1);
      const double ours_1t = seconds_since(t0) / a.n_theta;
      double vbm_s, max_rel;
      vbm_reference(th, a.n_theta, t, ours, fso.tol_rel, vbm_s, max_rel);
      if (vbm_s > 0) {
        std::printf("  reference VBMicrolensing BinaryLightCurve (1 thread, Tol=RelTol=%.0e): %.3g s per θ; "
                    "ours on 1 thread %.3g s per θ -> ratio %.2fx; max |ΔA|/A vs ours %.2e\n",
                    fso.tol_rel, vbm_s, ours_1t, vbm_s / ours_1t, max_rel);
        std::printf("RESULT lightcurve_%s_speedup_vs_vbm_1thread %.3g x\n", set == 0 ? "prior" : "caustic",
                    vbm_s / ours_1t);
      } else {
        std::printf("  reference VBMicrolensing unavailable (python3 + VBMicrolensing)\n");
      }
    }
  }
  if (!a.refine) return 0;

  // ---- 2. MCMC seeded in both modes --------------------------------------------------------------
  pipeline::RefineOptions ro;
  ro.likelihood = lo;
  ro.likelihood.finite_source = !a.point_source;
  ro.use_device = a.device;
  std::printf("# parts 2-3 with the %s model\n", a.point_source ? "POINT-SOURCE" : "finite-source");
  const stats::BatchLogDensity logpost = pipeline::make_log_posterior(obs, ro);
  std::vector<double> init(16 * D);
  for (std::size_t w = 0; w < 16; ++w)
    for (std::size_t d = 0; d < D; ++d)
      init[w * D + d] = (w % 2 ? kWide[d] : kClose[d]) + 0.1 * kTableSigma[d] * n01(rng);
  double best_seed[2] = {-INFINITY, -INFINITY};
  {
    std::vector<double> lp(16);
    logpost(init.data(), 16, lp.data());
    for (std::size_t w = 0; w < 16; ++w) best_seed[w % 2] = std::max(best_seed[w % 2], lp[w]);
  }
  stats::EnsembleOptions eo;
  eo.n_walkers = 16;
  eo.max_steps = a.mcmc_steps;
  eo.check_every = 0;
  eo.seed = 11;
  auto t_mcmc = Clock::now();
  const stats::EnsembleResult mc = stats::run_ensemble_mcmc(logpost, init.data(), D, eo);
  const double mcmc_s = seconds_since(t_mcmc);
  std::size_t in_mode[2] = {0, 0};
  double best_lp[2] = {-INFINITY, -INFINITY};
  std::vector<double> best_th[2];
  for (std::size_t w = 0; w < 16; ++w) ++in_mode[mc.chain[((mc.n_steps - 1) * 16 + w) * D] > 0.0];
  for (std::size_t k = 0; k < mc.log_prob.size(); ++k) {
    const int m = mc.chain[k * D] > 0.0;
    if (mc.log_prob[k] > best_lp[m]) {
      best_lp[m] = mc.log_prob[k];
      best_th[m].assign(mc.chain.begin() + k * D, mc.chain.begin() + (k + 1) * D);
    }
  }
  std::printf("mcmc both modes: %zu steps x 16 walkers in %.1f s (%.1f evals/s), acceptance %.3f\n", mc.n_steps,
              mcmc_s, mc.n_evaluations / mcmc_s, mc.acceptance_fraction);
  for (int m = 0; m < 2; ++m) {
    double ll_best = NAN, lprior = NAN;
    if (!best_th[m].empty()) {
      lprior = sim::log_prior_theta(prior, best_th[m].data());
      ll_best = best_lp[m] - lprior;
    }
    std::printf("  %s mode: %zu/16 walkers at the end; best log posterior %.3f (seeds %.3f), best log L %.3f; "
                "best θ:", m ? "wide " : "close", in_mode[m], best_lp[m], best_seed[m], ll_best);
    for (double v : best_th[m]) std::printf(" %.5g", v);
    std::printf("\n");
  }
  std::printf("  Δ log L (close − wide) at the best points: %.3f (Δχ² = %.3f)\n",
              (best_lp[0] - sim::log_prior_theta(prior, best_th[0].data())) -
                  (best_lp[1] - sim::log_prior_theta(prior, best_th[1].data())),
              -2.0 * ((best_lp[0] - sim::log_prior_theta(prior, best_th[0].data())) -
                      (best_lp[1] - sim::log_prior_theta(prior, best_th[1].data()))));

  // ---- 3. IS to n_eff = target with a two-Gaussian proposal: Laplace approximation per mode ------
  // (damped Newton from the best MCMC point of the mode, central-difference Hessian; steps from the
  // mode's chain spread). A short unconverged ensemble is too correlated to give covariances itself.
  const std::vector<double> samples = mc.samples();
  const sim::ThetaStandardization prior_sd = sim::theta_standardization(prior);
  std::vector<Component> comps;
  std::size_t laplace_evals = 0;
  const auto t_laplace = Clock::now();
  for (int m = 0; m < 2; ++m) {
    std::vector<double> mu, cov;
    std::size_t count = 0;
    mode_moments(samples, m == 1, mu, cov, count);
    if (count < 2 * D || best_th[m].empty()) continue;
    double h[D];
    for (std::size_t d = 0; d < D; ++d) h[d] = 0.2 * std::sqrt(std::max(cov[d * D + d], 1e-16));
    std::vector<double> lap_cov;
    std::vector<double> x = best_th[m];
    laplace_evals += laplace_mode(logpost, x, h, prior_sd.std, lap_cov);
    for (auto& v : lap_cov) v *= kInflate * kInflate;
    comps.emplace_back(x, lap_cov);
    // Laplace evidence of the mode: log p(x̂) + ½ log det(2π Σ) (Σ without the inflation).
    std::vector<double> px(D);
    logpost(x.data(), 1, px.data());
    ++laplace_evals;
    comps.back().log_evidence = px[0] - comps.back().log_norm - D * std::log(kInflate);
    std::printf("  laplace %s mode: mean", m ? "wide " : "close");
    for (double v : x) std::printf(" %.5g", v);
    std::printf("; sd");
    for (std::size_t d = 0; d < D; ++d) std::printf(" %.3g", std::sqrt(lap_cov[d * D + d]) / kInflate);
    std::printf("\n");
  }
  std::printf("  laplace proposals: %zu likelihood calls in %.1f s\n", laplace_evals, seconds_since(t_laplace));
  if (comps.empty()) {
    std::printf("is: no mode has enough MCMC samples to build a proposal\n");
    return 0;
  }
  // Mixture weights ∝ the modes' Laplace evidences, floored at 10% (a defensive mixture); each
  // component is truncated to the prior support (draws outside are redrawn), its normalization
  // (the in-support probability) estimated once with 2·10^5 cheap draws.
  std::mt19937_64 prng(13);
  {
    double mx = -INFINITY, tot = 0.0;
    for (const auto& c : comps) mx = std::max(mx, c.log_evidence);
    for (auto& c : comps) tot += (c.weight = std::exp(c.log_evidence - mx));
    for (auto& c : comps) c.weight = std::max(c.weight / tot, comps.size() > 1 ? 0.1 : 1.0);
    tot = 0.0;
    for (const auto& c : comps) tot += c.weight;
    for (auto& c : comps) {
      c.weight /= tot;
      std::size_t in = 0;
      double th[D];
      for (int k = 0; k < 200000; ++k) {
        c.draw(prng, n01, th);
        in += sim::in_support(prior, th);
      }
      c.log_support = std::log(std::max<double>(in, 1) / 200000.0);
      std::printf("  proposal component: weight %.4g, in-support probability %.3f\n", c.weight,
                  std::exp(c.log_support));
    }
  }
  stats::ProposalSampler sampler = [&](std::size_t n, double* th, double* lq) {
    std::uniform_real_distribution<double> u01;
    for (std::size_t i = 0; i < n; ++i) {
      double u = u01(prng);
      std::size_t k = 0;
      while (k + 1 < comps.size() && u > comps[k].weight) u -= comps[k++].weight;
      for (int tries = 0; tries < 1000; ++tries) {
        comps[k].draw(prng, n01, th + i * D);
        if (sim::in_support(prior, th + i * D)) break;
      }
      double mx = -INFINITY, l[2] = {0.0, 0.0};
      for (std::size_t j = 0; j < comps.size(); ++j)
        mx = std::max(mx, l[j] = std::log(comps[j].weight) + comps[j].logpdf(th + i * D) - comps[j].log_support);
      double sum = 0.0;
      for (std::size_t j = 0; j < comps.size(); ++j) sum += std::exp(l[j] - mx);
      lq[i] = mx + std::log(sum);
    }
  };
  ro.is.target_neff = a.target_neff;
  ro.is.batch_size = 500;
  ro.is.max_samples = a.max_samples;
  const auto r = pipeline::refine_is(obs, nullptr, nullptr, 0, ro, sampler);
  double wide_mass = 0.0;
  for (std::size_t i = 0; i < r.is.w.n; ++i)
    if (r.is.theta[i * D] > 0.0) wide_mass += r.is.w.weights[i];
  std::printf("RESULT refine_is_seconds_to_neff_%.0f %.4g s\n", a.target_neff, r.seconds);
  std::printf("is to n_eff %.0f: %s; %zu samples (%zu outside prior) in %.1f s (%.1f evals/s); %zu-mode proposal; "
              "posterior mass of the wide mode %.3g\n",
              a.target_neff, r.is.w.message.c_str(), r.is.w.n, r.n_outside_prior, r.seconds,
              r.is.w.n / r.seconds, comps.size(), wide_mass);
  return 0;
}
