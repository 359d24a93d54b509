// io/dataset.hpp — the training-set files: one HDF5 file per shard, written atomically by the
// simulate app, and a reader over a directory (or list) of shards for the training loader.
//
// Shard file `shard_XXXXX_of_YYYYY.h5` (plain HDF5; h5py reads it without lensflow):
//   /theta_raw     float64 [N, 7]      s, q, alpha_deg, u0, t0, tE, rho of the accepted events
//                                      (t0 = the sequence's t0, 72 d; f_s is drawn at realization)
//   /mag           float32 [N, n_t]    magnification sequences (chunked by row for random access)
//   /chi2_dof      float64 [N]         1L1S cut statistic of each accepted event
//   /event_index   int64   [N]         global prior-draw index (the event is prior draw number i of
//                                      the seed; also the realization's sample_id)
//   /all_chi2_dof  float64 [n_drawn]   the cut statistic of every draw of the shard, in index order
//   attributes on "/": format ("lensflow-dataset"), format_version, lensflow_version, shard,
//     num_shards, first_index, n_drawn, n_accepted, seed, n_events, events_per_shard,
//     theta_raw_columns, prior (18 values, io/prior_fields.hpp), cut_mode, cut_snr_base,
//     cut_threshold, cut_window (lo, hi), finite_source, fs_tol_rel, fs_tol_abs, n_t, dt, t0_sim.
// Shard i holds the draws [i·events_per_shard, min(n_events, (i+1)·events_per_shard)).
//
// Split (deterministic, independent of sharding and file order): an event's membership is decided
// by u = splitmix64(event_index ^ salt) / 2^64 ∈ [0, 1): test when u < test_fraction, validation
// when u < test_fraction + (1 - test_fraction)·validation_fraction, train otherwise. So the test set
// is the same for every training run with the same salt, and a dataset grown by more shards keeps
// every event's membership.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/h5file.hpp"

namespace lensflow::io {

constexpr std::int64_t kDatasetFormatVersion = 1;
constexpr std::size_t kThetaRawCols = 7;

// Generation settings shared by every shard of a dataset (compatibility = all fields equal,
// lensflow_version excepted: a resumed run with a newer build may add shards).
struct DatasetSettings {
  std::vector<double> prior;  // io/prior_fields.hpp: kPriorFieldCount values in its order
  std::uint64_t seed = 0, n_events = 0, events_per_shard = 0, num_shards = 0;
  std::string cut_mode = "paper";
  double cut_snr_base = 200.0, cut_threshold = 1.0, cut_window_lo = 36.0, cut_window_hi = 108.0;
  bool finite_source = true;
  double fs_tol_rel = 1e-3, fs_tol_abs = 1e-4;
  std::uint64_t n_t = 14400;
  double dt = 0.01, t0_sim = 72.0;
  std::string lensflow_version;
};

// Empty when compatible, else a message naming the first differing field.
std::string settings_mismatch(const DatasetSettings& a, const DatasetSettings& b);

// One shard's content.
struct ShardData {
  std::uint64_t shard = 0, first_index = 0, n_drawn = 0;
  std::vector<double> theta_raw;         // n_accepted × 7
  std::vector<float> mag;                // n_accepted × n_t
  std::vector<double> chi2_dof;          // n_accepted
  std::vector<std::int64_t> event_index; // n_accepted
  std::vector<double> all_chi2_dof;      // n_drawn
};

// "shard_00003_of_00010.h5".
std::string shard_file_name(std::uint64_t shard, std::uint64_t num_shards);

// Writes the shard atomically (temp file + rename). Throws std::invalid_argument on inconsistent
// sizes, H5Error on I/O failure (nothing is left under the final name).
void write_shard(const std::string& path, const DatasetSettings& settings, const ShardData& data);

// The shard files of a dataset directory (every shard_*_of_*.h5, sorted; temporary files are not
// shards; possibly none), or {path} for a single file. H5Error when the path does not exist.
std::vector<std::string> shard_files(const std::string& dir_or_file);

enum class ShardStatus { missing, complete, corrupt, mismatched };

// State of the shard file at `path` for the expected settings and shard number; `why` (nullable)
// receives the reason for corrupt / mismatched.
ShardStatus check_shard(const std::string& path, const DatasetSettings& expected, std::uint64_t shard,
                        std::string* why = nullptr);

enum class Split { train = 0, validation = 1, test = 2 };
struct SplitOptions {
  double test_fraction = 0.05;
  double validation_fraction = 0.1;  // of the non-test events
  std::uint64_t salt = 0x53504C4954ull;  // "SPLIT"
};
Split split_of_event(std::int64_t event_index, const SplitOptions& opt = {});

// Read access to a dataset made of shard files. Opening checks every file (format, shapes,
// attributes) and that all share the same settings and no shard appears twice; every failure is
// an H5Error naming the file. Missing shards are allowed (a partial dataset); see missing_shards().
// Reads are serialized by an internal mutex (the HDF5 library is not thread-safe): share one
// reader between loader threads, or open one per thread.
class DatasetReader {
 public:
  // A directory (every shard_*_of_*.h5 in it; temporary files are ignored) or one shard file.
  explicit DatasetReader(const std::string& dir_or_file);
  explicit DatasetReader(const std::vector<std::string>& files);

  std::size_t size() const { return theta_raw_.size() / kThetaRawCols; }  // accepted events, N
  std::size_t n_t() const { return std::size_t(settings_.n_t); }
  const DatasetSettings& settings() const { return settings_; }
  std::uint64_t n_drawn() const { return n_drawn_; }                       // draws over present shards
  std::vector<std::uint64_t> missing_shards() const;
  const std::vector<std::string>& files() const { return paths_; }

  // Row r of the N accepted events (rows ordered by shard, then by event index).
  const double* theta_raw(std::size_t row) const { return &theta_raw_.at(row * kThetaRawCols); }
  std::int64_t event_index(std::size_t row) const { return event_index_.at(row); }
  double chi2_dof(std::size_t row) const { return chi2_dof_.at(row); }
  // The cut statistic of every draw of the present shards (in shard order).
  const std::vector<double>& all_chi2_dof() const { return all_chi2_dof_; }

  // Magnification sequence of one row (n_t floats) / of n rows in the given order (n × n_t).
  void read_mag(std::size_t row, float* out) const;
  void read_mag_rows(const std::size_t* rows, std::size_t n, float* out) const;

  // Rows of a split (ascending).
  std::vector<std::size_t> split_rows(Split split, const SplitOptions& opt = {}) const;

 private:
  void open_all(std::vector<std::string> files);
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<H5Reader>> files_;
  std::vector<std::uint64_t> shard_ids_;
  std::vector<std::size_t> file_first_row_;  // first global row of each file
  std::vector<double> theta_raw_, chi2_dof_, all_chi2_dof_;
  std::vector<std::int64_t> event_index_;
  DatasetSettings settings_;
  std::uint64_t n_drawn_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace lensflow::io
