// pipeline/magnify_run.hpp — what `lensflow-magnify` does: binary-lens magnifications for a CSV of
// source positions, or light curves for a CSV of events, on CPU threads or the GPU.
//
//   points: columns s,q,y1,y2 (required), rho and a1 (optional; rho > 0 gives the finite source, a1
//     its linear limb darkening), any others pass through. Writes every input row with A appended
//     (and A_err when rho is present).
//   curves: columns s,q,alpha,u0,t0,tE,rho (alpha in degrees; curve_id optional, else the row
//     number), on the grid t0 + i dt up to t1 or the times of a file. Writes curve_id,t,A (and
//     A_err for finite-source curves; point_only ignores rho).
// A malformed row (io/text_tables.hpp), a value outside the supported domain
// (lens/batch_validate.hpp: s in [1e-3, 1e3], q in [1e-9, 1e9], |y1|, |y2| <= 1e8, rho <= 10, and
// for curves a tE that keeps the source within 1e8 Einstein radii over the grid) or a bad option is
// a std::runtime_error naming the line, field and rule. The output is written to a unique
// temporary file and renamed (core/atomic_file.hpp), so it is complete or absent; an output that
// is the input is refused; a device or FIFO as output is written in place. Curves are computed
// and written in blocks of 2^18 values, so memory does not grow with the number of events or
// epochs (a point-source curve longer than 2^18 epochs restarts its root-solver warm start at each
// block).
#pragma once

#include <cstddef>
#include <string>

namespace lensflow::pipeline {

struct MagnifyOptions {
  std::string input, output, device = "cpu", times_file;
  double tol = 0.0, tol_abs = 0.0, tol_rel = 0.0, t0 = 0.0, t1 = 144.0, dt = 0.01;
  bool has_tol = false, has_tol_abs = false, has_tol_rel = false;  // given (a given 0 is an error)
  int threads = 0;
  bool point_only = false;
};

// Returns the number of rows written.
std::size_t magnify_points(const MagnifyOptions& opt);

struct MagnifyCurves {
  std::size_t n_curves = 0, n_epochs = 0;
};
MagnifyCurves magnify_curves(const MagnifyOptions& opt);

}  // namespace lensflow::pipeline
