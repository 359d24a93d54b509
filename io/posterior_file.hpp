// io/posterior_file.hpp — the posterior file written by `lensflow-infer` and read by
// `lensflow-evaluate` (and scripts/plot_evaluation.py). Plain HDF5, readable with h5py:
//   /samples      float32 [E, N, 8]  physical θ (log10 s, log10 q, α deg, u0, t0 d, log10 tE,
//                                    log10 ρ, f_s); NaN rows when an event ran out of redraws
//   /log_q        float32 [E, N]     flow log density of each sample (physical θ, untruncated)
//   /acceptance   float64 [E]        share of draws inside the prior support
//   /n_valid /n_drawn  int64 [E]
//   /summary/{median,p16,p84} float64 [E, 8]; /summary/modes float64 [E, 8, 5] (NaN-padded);
//   /summary/n_modes int64 [E, 8]
//   test set only: /theta_true float64 [E, 8], /event_index int64 [E], /log_q_true float64 [E],
//     /snr_base float64 [E] (the realization's baseline S/N: F_base = snr_base² photon counts)
//   input file only: /t_start float64 [E], /n_missing int64 [E]
//   /flux float32 [K, 7200] and /time float64 [7200]: raw light curves of the first K events (plots)
//   with refinement (--refine is|mcmc): /refine/summary/{median,q16,q84} float64 [E, 8];
//     is: /refine/is/weights float64 [E, N] (normalized importance weights of the samples),
//         /refine/is/n_eff, /refine/is/efficiency float64 [E];
//     mcmc: /refine/mcmc/best_theta float64 [E, 8], /refine/mcmc/acceptance_fraction,
//         /refine/mcmc/rhat_max float64 [E]
//   attributes on "/": format = "lensflow-posterior", theta_names, prior (18 values,
//     io/prior_fields.hpp), theta_mean, theta_std, log_std_sum, model, source, n_samples, seed,
//     max_redraws, device, seconds (sampling time, refinement excluded), refine (when refined).
// Samples, log_q, flux and IS weights are written as they come (chunked datasets created up
// front); everything else at the end. The file is written under a temporary name and appears at
// commit (alone, or with other outputs through core::commit_all).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "io/h5file.hpp"

namespace lensflow::io {

constexpr int64_t kPosteriorModes = 5;  // modes kept per event and parameter

// The datasets created up front.
struct PosteriorShape {
  uint64_t n_events = 0, n_samples = 0, dim = 8;
  uint64_t n_flux = 0, flux_length = 0;  // stored light curves (the first n_flux events)
  bool is_weights = false;               // /refine/is/weights
  uint64_t chunk_rows = 1;               // events per HDF5 chunk of the per-sample datasets
};

// Per-event results written at the end (one entry, or `dim` / dim × kPosteriorModes entries, per
// event, in event order). Empty vectors are not written: the test-set, input-file and refinement
// datasets are present only when filled.
struct PosteriorEvents {
  std::vector<double> acceptance;
  std::vector<int64_t> n_valid, n_drawn;
  std::vector<double> median, p16, p84, modes;  // [E, D], modes [E, D, kPosteriorModes]
  std::vector<int64_t> n_modes;                 // [E, D]
  std::vector<double> time;                     // [flux_length] (with stored light curves)
  std::vector<double> theta_true, log_q_true;   // test set: [E, D], [E]
  std::vector<int64_t> event_index;             // test set: [E]
  std::vector<double> snr_base;                 // test set: [E]
  std::vector<double> t_start;                  // input file: [E]
  std::vector<int64_t> n_missing;               // input file: [E]
  std::vector<double> is_n_eff, is_efficiency;  // --refine is: [E]
  std::vector<double> mcmc_best_theta, mcmc_acceptance_fraction, mcmc_rhat_max;  // --refine mcmc
  std::vector<double> refined_median, refined_q16, refined_q84;                  // refined: [E, D]
};

struct PosteriorAttrs {
  std::string theta_names;  // comma-separated
  std::vector<double> prior, theta_mean, theta_std;
  double log_std_sum = 0.0;
  std::string model, source, device, refine;  // refine: "", "is" or "mcmc"
  int64_t n_samples = 0, seed = 0, max_redraws = 0;
  double seconds = 0.0;
};

class PosteriorWriter {
 public:
  PosteriorWriter(const std::string& path, const PosteriorShape& shape);
  // Events [first, first + n): theta [n, N, D], log_q [n, N].
  void write_samples(uint64_t first, uint64_t n, const float* theta, const float* log_q);
  void write_flux(uint64_t event, const float* flux);        // event < n_flux; flux_length values
  void write_is_weights(uint64_t event, const double* w);   // N values
  // The per-event results and the attributes, then closes the file (commit separately).
  void finish(const PosteriorEvents& ev, const PosteriorAttrs& attrs);
  core::AtomicFile& file() { return w_.file(); }
  void commit() { w_.commit(); }

 private:
  PosteriorShape shape_;
  H5Writer w_;
};

// Opening checks the format, /samples ([E, N, 8], E, N > 0, fully stored) and the shape of every
// per-event dataset against it; every failure is a std::runtime_error naming the file.
class PosteriorReader {
 public:
  explicit PosteriorReader(const std::string& path);
  const std::string& path() const { return r_.path(); }
  uint64_t n_events() const { return n_events_; }
  uint64_t n_samples() const { return n_samples_; }
  bool has(const std::string& name) const { return r_.has(name); }
  // Events [first, first + n) of /samples: [n, N, 8].
  std::vector<float> read_samples(uint64_t first, uint64_t n) const;
  std::vector<double> theta_true() const;   // [E, 8]; throws when the file has no truths
  std::vector<double> log_q_true() const;   // [E], empty when absent
  std::vector<int64_t> n_valid() const;     // [E], empty when absent
  std::vector<double> prior() const;        // the 18 values of the "prior" attribute
  double log_std_sum() const;               // 0 when absent
  uint64_t n_flux() const;                  // stored light curves (0 when none)

 private:
  H5Reader r_;
  uint64_t n_events_ = 0, n_samples_ = 0;
};

}  // namespace lensflow::io
