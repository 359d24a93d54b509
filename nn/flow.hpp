// nn/flow.hpp — conditional masked autoregressive flow with a mixture-of-Gaussians base
// (Zhang et al. 2021 §2.1): theta -> blocks[0] -> ... -> blocks[n-1] -> z ~ MoGBase(h).
//   log q(theta | h) = log p_base(z | h) - sum_blocks sum_d a_d.
// Each block (and the base) has its own fixed random ordering drawn from order_seed, so the
// orderings are a function of the configuration (checkpoints store them and check them on load).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/maf.hpp"
#include "nn/mog_base.hpp"
#include "nn/module.hpp"

namespace lensflow::nn {

// Observations evaluated together when each has rows_per_obs rows: 1 on the CPU, so that an
// observation's result is computed in the same matrix shapes, hence to the same bits, whatever batch
// it arrives in (BLAS kernels depend on the shape); on CUDA as many as fit in max_rows (speed).
int64_t observation_group(ad::Device device, int64_t rows_per_obs, int64_t max_rows);

struct FlowConfig {
  int64_t dim = 8;           // D, parameters per posterior sample
  int64_t context = 256;     // size of h
  int64_t n_blocks = 20;     // affine MADE blocks
  int64_t hidden = 256;      // MADE hidden units
  int64_t n_hidden = 2;      // MADE hidden layers
  int64_t components = 8;    // mixture components of the base
  double clamp = 1.0;        // |a| <= clamp
  double final_scale = 0.01; // initial scale of every MADE's output weights
  uint64_t order_seed = 1;   // seed of the per-block orderings

  void validate() const;  // throws std::invalid_argument naming the field
  bool operator==(const FlowConfig& o) const;
};

class ConditionalFlow : public Module {
 public:
  ConditionalFlow(const FlowConfig& cfg, ad::Generator& gen);

  // theta[B, D], h[B, C] -> log q(theta | h), [B].
  ad::Tensor log_prob(const ad::Tensor& theta, const ad::Tensor& h) const;
  // theta -> base variable z [B, D]; *logdet ([B]) receives sum of the block log-determinants.
  ad::Tensor to_base(const ad::Tensor& theta, const ad::Tensor& h, ad::Tensor* logdet) const;
  // Inverse of to_base.
  ad::Tensor from_base(const ad::Tensor& z, const ad::Tensor& h) const;

  // n samples for each of the n_obs rows of h -> [n_obs, n, D], without autograd, on h's device.
  // Random numbers: observation j uses the 2*n*D generator counters starting at
  // (offset at entry) + 2*n*D*j (n*D normals, then n*D uniforms); the generator ends advanced by
  // 2*n*D*n_obs. On the CPU each observation is computed on its own (observation_group), so a batch
  // gives each one exactly the bits that a run on that observation alone (at that offset) gives. On
  // CUDA whole observations are grouped up to max_rows rows: the same samples to float round-off
  // (cuBLAS picks kernels by matrix shape).
  ad::Tensor sample(const ad::Tensor& h, int64_t n, ad::Generator& gen,
                    int64_t max_rows = 1 << 16) const;
  // theta[n_obs, n, D], h[n_obs, C] -> log q [n_obs, n] (h repeated over each row's samples);
  // no autograd, grouped by observation as sample().
  ad::Tensor log_prob_samples(const ad::Tensor& theta, const ad::Tensor& h,
                              int64_t max_rows = 1 << 16) const;

  const FlowConfig& config() const { return cfg_; }
  // Orderings (degree of each dimension): one per block, then the base's.
  std::vector<std::vector<int64_t>> orderings() const;

 private:
  FlowConfig cfg_;
  std::vector<std::unique_ptr<AffineBlock>> blocks_;
  std::unique_ptr<MoGBase> base_;
};

}  // namespace lensflow::nn
