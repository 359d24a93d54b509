// pipeline/inference.cpp — see inference.hpp.
#include "pipeline/inference.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <limits>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "core/hash.hpp"

namespace lensflow::pipeline {
namespace {

// Generator seed of redraw round r: splitmix64 stream `round` of the seed offset by a constant.
uint64_t round_seed(uint64_t seed, int round) {
  return core::splitmix64(seed + core::kGoldenGamma * uint64_t(round) + 0xD1B54A32D192ED03ull);
}

void check_model_input(const nn::PosteriorModel& model, const ThetaTransform& tf) {
  const int64_t D = model.config().flow.dim;
  if (int64_t(tf.mean.size()) != D || int64_t(tf.std.size()) != D)
    throw std::invalid_argument("inference: the θ transform has " + std::to_string(tf.mean.size()) +
                                " dimensions, the model " + std::to_string(D));
}

}  // namespace

ThetaTransform ThetaTransform::from_prior(const sim::PriorBox& p) {
  const auto st = sim::theta_standardization(p);
  return {std::vector<double>(st.mean, st.mean + sim::kThetaDim),
          std::vector<double>(st.std, st.std + sim::kThetaDim)};
}

double ThetaTransform::log_std_sum() const {
  double s = 0.0;
  for (double v : std) s += std::log(v);
  return s;
}

PosteriorSamples sample_posterior(const nn::PosteriorModel& model, const float* x, int64_t n_obs,
                                  const ThetaTransform& tf, const SupportFn& support,
                                  const SamplingOptions& opt, int64_t first_index) {
  check_model_input(model, tf);
  if (opt.n_samples < 1) throw std::invalid_argument("inference: n_samples must be >= 1");
  if (opt.max_redraws < 0) throw std::invalid_argument("inference: max_redraws must be >= 0");
  if (opt.batch_obs < 1) throw std::invalid_argument("inference: batch_obs must be >= 1");
  ad::NoGradGuard ng;
  const auto& fc = model.config().featurizer;
  const int64_t L = fc.length, C = fc.in_channels, D = model.config().flow.dim, n = opt.n_samples;
  const double lss = tf.log_std_sum();
  PosteriorSamples out;
  out.n_obs = n_obs;
  out.n_samples = n;
  out.dim = D;
  out.theta.assign(std::size_t(n_obs * n * D), std::numeric_limits<float>::quiet_NaN());
  out.log_q.assign(std::size_t(n_obs * n), std::numeric_limits<float>::quiet_NaN());
  out.n_valid.assign(n_obs, 0);
  out.n_drawn.assign(n_obs, 0);
  out.acceptance.assign(n_obs, 0.0);
  std::vector<int64_t> in_support(n_obs, 0);
  std::vector<double> phys(D);
  for (int64_t b0 = 0; b0 < n_obs; b0 += opt.batch_obs) {
    const int64_t m = std::min(opt.batch_obs, n_obs - b0);
    std::vector<float> xb(x + b0 * L * C, x + (b0 + m) * L * C);
    const ad::Tensor h = model.inference_features(ad::Tensor::from_vector(xb, {m, L, C}, model.device()));
    for (int round = 0; round <= opt.max_redraws; ++round) {
      ad::Generator gen(round_seed(opt.seed, round));
      bool any = false;
      for (int64_t j0 = 0; j0 < m;) {  // contiguous runs of events still short of n samples
        if (out.n_valid[b0 + j0] >= n) {
          ++j0;
          continue;
        }
        int64_t j1 = j0 + 1;
        while (j1 < m && out.n_valid[b0 + j1] < n) ++j1;
        any = true;
        gen.set_offset(uint64_t(first_index + b0 + j0) * uint64_t(2 * n * D));
        const ad::Tensor hs = ad::slice(h, 0, j0, j1);
        const ad::Tensor th = model.flow().sample(hs, n, gen);
        const std::vector<float> z = th.to_f32();
        const std::vector<float> lq = model.flow().log_prob_samples(th, hs).to_f32();
        for (int64_t j = j0; j < j1; ++j) {
          const int64_t e = b0 + j;
          out.n_drawn[e] += n;
          for (int64_t k = 0; k < n; ++k) {
            const float* zr = z.data() + ((j - j0) * n + k) * D;
            for (int64_t d = 0; d < D; ++d) phys[d] = tf.mean[d] + tf.std[d] * double(zr[d]);
            bool ok = std::isfinite(lq[(j - j0) * n + k]);
            for (int64_t d = 0; d < D && ok; ++d) ok = std::isfinite(phys[d]);
            if (!ok || (support && !support(phys.data()))) continue;
            ++in_support[e];
            if (out.n_valid[e] >= n) continue;  // full: counted for the acceptance only
            const int64_t slot = out.n_valid[e]++;
            for (int64_t d = 0; d < D; ++d) out.theta[(e * n + slot) * D + d] = float(phys[d]);
            out.log_q[e * n + slot] = float(double(lq[(j - j0) * n + k]) - lss);
          }
        }
        j0 = j1;
      }
      if (!any) break;
    }
  }
  for (int64_t e = 0; e < n_obs; ++e) out.acceptance[e] = double(in_support[e]) / double(out.n_drawn[e]);
  return out;
}

std::vector<double> log_q_at(const nn::PosteriorModel& model, const float* x, int64_t n_obs,
                             const double* theta, const ThetaTransform& tf, int64_t batch_obs) {
  check_model_input(model, tf);
  ad::NoGradGuard ng;
  const auto& fc = model.config().featurizer;
  const int64_t L = fc.length, C = fc.in_channels, D = model.config().flow.dim;
  const double lss = tf.log_std_sum();
  std::vector<double> out;
  for (int64_t b0 = 0; b0 < n_obs; b0 += batch_obs) {
    const int64_t m = std::min(batch_obs, n_obs - b0);
    std::vector<float> xb(x + b0 * L * C, x + (b0 + m) * L * C), z(m * D);
    for (int64_t i = 0; i < m * D; ++i)
      z[i] = float((theta[b0 * D + i] - tf.mean[i % D]) / tf.std[i % D]);
    const ad::Tensor h = model.inference_features(ad::Tensor::from_vector(xb, {m, L, C}, model.device()));
    const auto lp = model.flow().log_prob_samples(ad::Tensor::from_vector(z, {m, 1, D}, model.device()), h).to_f32();
    for (float v : lp) out.push_back(double(v) - lss);
  }
  return out;
}

std::vector<stats::MarginalSpec> theta_marginals(const sim::PriorBox& p) {
  sim::validate_prior(p);
  auto uniform = [](const char* name, double lo, double hi) {
    return stats::MarginalSpec{name, lo, hi, [w = hi - lo](double) { return 1.0 / w; }};
  };
  std::vector<stats::MarginalSpec> m;
  m.push_back(uniform(sim::kThetaNames[0], std::log10(p.s_min), std::log10(p.s_max)));
  m.push_back(uniform(sim::kThetaNames[1], std::log10(p.q_min), std::log10(p.q_max)));
  m.push_back(uniform(sim::kThetaNames[2], p.alpha_min, p.alpha_max));
  m.push_back(uniform(sim::kThetaNames[3], p.u0_min, p.u0_max));
  m.push_back(uniform(sim::kThetaNames[4], p.t0_min, p.t0_max));
  {  // log10 tE: normal(mean, sigma) truncated to [log10 tE_min, log10 tE_max]
    const double lo = std::log10(p.tE_min), hi = std::log10(p.tE_max);
    const double mu = p.log10_tE_mean, sg = p.log10_tE_sigma;
    const double Z = 0.5 * (std::erf((hi - mu) / (sg * std::sqrt(2.0))) - std::erf((lo - mu) / (sg * std::sqrt(2.0))));
    m.push_back(stats::MarginalSpec{sim::kThetaNames[5], lo, hi, [=](double v) {
                                   const double z = (v - mu) / sg;
                                   return std::exp(-0.5 * z * z) / (sg * std::sqrt(2.0 * M_PI) * Z);
                                 }});
  }
  m.push_back(uniform(sim::kThetaNames[6], std::log10(p.rho_min), std::log10(p.rho_max)));
  m.push_back(stats::MarginalSpec{sim::kThetaNames[7], p.fs_min, p.fs_max,
                               [L = std::log(p.fs_max / p.fs_min)](double f) { return 1.0 / (f * L); }});
  return m;
}

void write_summary_csv(std::ostream& f, const PosteriorSamples& s, const std::vector<stats::MarginalSpec>& specs,
                       const std::vector<std::vector<stats::EventMarginal>>& summaries) {
  if (int64_t(summaries.size()) != s.n_obs)
    throw std::invalid_argument("write_summary_csv: one summary row per event needed");
  f << "event,parameter,median,p16,p84,n_modes,mode1,mode2,mode3,mode4,mode5,acceptance\n"
    << std::setprecision(8);
  for (int64_t e = 0; e < s.n_obs; ++e)
    for (std::size_t d = 0; d < specs.size(); ++d) {
      const auto& m = summaries[e][d];
      f << e << ',' << specs[d].name << ',' << m.median << ',' << m.p16 << ',' << m.p84 << ','
        << m.modes.values.size();
      for (std::size_t k = 0; k < 5; ++k) {
        f << ',';
        if (k < m.modes.values.size()) f << m.modes.values[k];
      }
      f << ',' << s.acceptance[e] << '\n';
    }
}

}  // namespace lensflow::pipeline
