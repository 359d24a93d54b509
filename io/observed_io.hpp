// io/observed_io.hpp — reads user light curves (observed or simulated elsewhere) for
// `lensflow-infer --input FILE`.
//
// The network was trained on 72-day windows sampled every 0.01 day: every light curve must have
// exactly `length` (7,200) flux values on that regular grid, the first point at the window start
// (t0 is then reported relative to the first point; add `t_start` for absolute times). Flux is in
// the simulation's units (photon counts with baseline F_s + F_b = SNR²,
// docs/conventions.md §Noise model); the same preprocessing as in training is applied afterwards by
// the caller.
//
// Formats (chosen by file extension):
//   .h5 / .hdf5  dataset "flux", shape [N, length] or [length]; optional "time" of the same shape
//                (or [length] shared by all events): checked to be a regular 0.01-day grid
//                (tolerance 1e-6 d), its first value becomes t_start.
//   .csv / .txt  either one light curve per row (length comma-separated values) or one light
//                curve as a single column of length rows; '#' starts a comment line; a UTF-8
//                byte-order mark is ignored; a first line is a header (skipped) only when none of
//                its fields is a number or empty (a data row with a typo is an error, never a
//                header); "nan", "NaN" or an empty field is a missing point.
//   .npy         NumPy array, float32/float64/int32/int64, little-endian, C or Fortran order,
//                shape [N, length] or [length]; the header is parsed field by field and its claimed
//                size checked against the file's size before anything is allocated.
// Missing points: NaN, and flux <= 0 (the network takes ln(flux)); they are refused under
// NanPolicy::error and, under NanPolicy::interpolate, set to NaN and counted in n_missing.
// Errors (missing file, foreign, truncated or sparse file, wrong length, other grids, ±Inf, a
// light curve with fewer than 2 usable points, missing points under NanPolicy::error) throw
// std::runtime_error naming the file, the event (row) and the problem. Other cadences or lengths
// are not resampled: resample the data onto the 0.01-day grid yourself, knowing that
// interpolation alters the noise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lensflow::io {

constexpr int64_t kObservedLength = 7200;  // 72 days at 0.01 day
constexpr double kObservedCadence = 0.01;  // days

// What to do with NaN (missing) points.
enum class NanPolicy {
  error,        // refuse the file (default): the network never saw gaps
  interpolate,  // keep missing points as NaN and count them; the preprocessing
                // (sim::preprocess_lightcurve) then fills them by linear interpolation of the
                // log flux between the nearest valid neighbours (constant beyond the ends)
};

struct ObservedSet {
  int64_t n_events = 0;
  int64_t length = kObservedLength;
  std::vector<double> flux;        // [n_events, length]
  std::vector<double> t_start;     // [n_events] time of the first point (0 when the file has none)
  std::vector<int64_t> n_missing;  // [n_events] missing (NaN or non-positive) points, now NaN
};

ObservedSet read_observed(const std::string& path, NanPolicy nan = NanPolicy::error,
                          int64_t length = kObservedLength);

// Parses "error" / "interpolate" (for command lines); throws std::invalid_argument otherwise.
NanPolicy parse_nan_policy(const std::string& s);

}  // namespace lensflow::io
