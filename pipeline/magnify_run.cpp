// pipeline/magnify_run.cpp — see magnify_run.hpp.
#include "pipeline/magnify_run.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "io/text_tables.hpp"
#include "lens/batch_validate.hpp"
#include "lens/lensflow_lens.hpp"
#if LENSFLOW_HAVE_CUDA
#include "core/cuda_check.hpp"
#endif

namespace lensflow::pipeline {

using io::csv_column;
using io::csv_number;
using lens::EventParams;
using lens::FiniteSourceOptions;

namespace {

bool any(double) { return true; }
bool positive(double v) { return v > 0.0; }
bool non_negative(double v) { return v >= 0.0; }
bool unit_interval(double v) { return v >= 0.0 && v <= 1.0; }
bool separation(double v) { return v >= lens::kMinSeparation && v <= lens::kMaxSeparation; }
bool mass_ratio(double v) { return v >= lens::kMinMassRatio && v <= lens::kMaxMassRatio; }
bool source_offset(double v) { return std::fabs(v) <= lens::kMaxSourceOffset; }
bool source_radius(double v) { return v >= 0.0 && v <= lens::kMaxSourceRadius; }
constexpr const char* kSRule = "s must be in [0.001, 1000], the supported domain";
constexpr const char* kQRule = "q must be in [1e-09, 1e+09], the supported domain";
constexpr const char* kYRule = "|y| must be <= 1e+08, the supported domain";
constexpr const char* kRhoRule = "rho must be in [0, 10], the supported domain";
constexpr const char* kU0Rule = "|u0| must be <= 1e+08, the supported domain";

// Values per block of light curves computed and written at once (t, A and A_err: 6 MB).
constexpr std::size_t kBlockValues = std::size_t(1) << 18;
constexpr double kMaxEpochs = 1e8;  // per curve

#if LENSFLOW_HAVE_CUDA
// Device copy of a host vector, freed on scope exit.
template <class T>
struct DeviceArray {
  T* p = nullptr;
  explicit DeviceArray(const std::vector<T>& h) {
    LF_CUDA_CHECK(cudaMalloc(&p, sizeof(T) * (h.empty() ? 1 : h.size())));
    LF_CUDA_CHECK(cudaMemcpy(p, h.data(), sizeof(T) * h.size(), cudaMemcpyHostToDevice));
  }
  explicit DeviceArray(std::size_t n) { LF_CUDA_CHECK(cudaMalloc(&p, sizeof(T) * (n ? n : 1))); }
  void to_host(std::vector<T>& h) const {
    LF_CUDA_CHECK(cudaMemcpy(h.data(), p, sizeof(T) * h.size(), cudaMemcpyDeviceToHost));
  }
  ~DeviceArray() { cudaFree(p); }
};
#endif

// The finite-source options asked for; a given tolerance that is not a finite number > 0 (--tol)
// or >= 0 (--tol-abs, --tol-rel) is refused, never replaced by a default.
FiniteSourceOptions options_of(const MagnifyOptions& st, double a1) {
  auto check = [](const char* name, double v, bool zero_ok) {
    if (!std::isfinite(v) || v < 0.0 || (!zero_ok && v == 0.0)) {
      std::ostringstream os;
      os << name << " " << v << " is invalid: a tolerance must be a finite number " << (zero_ok ? ">= 0" : "> 0");
      throw std::runtime_error(os.str());
    }
  };
  FiniteSourceOptions opt{};
  if (st.has_tol) {
    check("--tol", st.tol, false);
    opt.tol_abs = opt.tol_rel = st.tol;
  }
  if (st.has_tol_abs) {
    check("--tol-abs", st.tol_abs, true);
    opt.tol_abs = st.tol_abs;
  }
  if (st.has_tol_rel) {
    check("--tol-rel", st.tol_rel, true);
    opt.tol_rel = st.tol_rel;
  }
  if (opt.tol_abs == 0.0 && opt.tol_rel == 0.0)
    throw std::runtime_error("--tol-abs and --tol-rel are both 0: no accuracy is attainable");
  opt.a1 = a1;
  return opt;
}

void refuse_overlaps(const MagnifyOptions& st) {
  core::refuse_overlaps({{"--output", st.output}}, {{"--input", st.input}, {"--times", st.times_file}});
}

bool use_cuda(const MagnifyOptions& st) {
  if (st.device == "cpu") return false;
  if (!lens::cuda_device_available())
    throw std::runtime_error("--device cuda: no CUDA device available (or lensflow built without CUDA)");
  return true;
}

}  // namespace

std::size_t magnify_points(const MagnifyOptions& st) {
  core::set_num_threads(st.threads);
  refuse_overlaps(st);
  const io::CsvTable c = io::read_csv_table(st.input);
  const int cs = csv_column(c, "s", true, st.input), cq = csv_column(c, "q", true, st.input);
  const int cy1 = csv_column(c, "y1", true, st.input), cy2 = csv_column(c, "y2", true, st.input);
  const int crho = csv_column(c, "rho", false, st.input), ca1 = csv_column(c, "a1", false, st.input);
  const std::size_t n = c.rows.size();
  std::vector<double> s(n), q(n), y1(n), y2(n), rho(n, 0.0), a1(n, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    s[r] = csv_number(c, r, cs, "s must be > 0", positive, st.input);
    csv_number(c, r, cs, kSRule, separation, st.input);
    q[r] = csv_number(c, r, cq, "q must be > 0", positive, st.input);
    csv_number(c, r, cq, kQRule, mass_ratio, st.input);
    y1[r] = csv_number(c, r, cy1, kYRule, source_offset, st.input);
    y2[r] = csv_number(c, r, cy2, kYRule, source_offset, st.input);
    if (crho >= 0) rho[r] = csv_number(c, r, crho, "rho must be >= 0", non_negative, st.input);
    if (crho >= 0) csv_number(c, r, crho, kRhoRule, source_radius, st.input);
    if (ca1 >= 0) a1[r] = csv_number(c, r, ca1, "a1 must be in [0, 1]", unit_interval, st.input);
  }
  const bool finite = crho >= 0;
  if (finite) options_of(st, 0.0);  // refuse bad tolerances before any work
  const bool cuda = use_cuda(st);
  std::vector<double> A(n, 0.0), A_err(n, 0.0);
  if (!finite) {
    if (cuda) {
#if LENSFLOW_HAVE_CUDA
      DeviceArray<double> ds(s), dq(q), dy1(y1), dy2(y2), dA(n);
      lens::point_mag_device(ds.p, dq.p, dy1.p, dy2.p, n, dA.p, nullptr);
      dA.to_host(A);
#endif
    } else {
      lens::point_mag_host(s.data(), q.data(), y1.data(), y2.data(), n, A.data(), st.threads);
    }
  } else {
    // One batched call per distinct limb-darkening coefficient.
    std::map<double, std::vector<std::size_t>> groups;
    for (std::size_t r = 0; r < n; ++r) groups[a1[r]].push_back(r);
    for (const auto& [coef, idx] : groups) {
      const std::size_t m = idx.size();
      std::vector<double> gs(m), gq(m), gy1(m), gy2(m), grho(m), gA(m), gE(m);
      for (std::size_t k = 0; k < m; ++k) {
        gs[k] = s[idx[k]];
        gq[k] = q[idx[k]];
        gy1[k] = y1[idx[k]];
        gy2[k] = y2[idx[k]];
        grho[k] = rho[idx[k]];
      }
      const FiniteSourceOptions opt = options_of(st, coef);
      if (cuda) {
#if LENSFLOW_HAVE_CUDA
        DeviceArray<double> ds(gs), dq(gq), dy1(gy1), dy2(gy2), drho(grho), dA(m), dE(m);
        lens::finite_mag_device(ds.p, dq.p, dy1.p, dy2.p, drho.p, m, opt, dA.p, dE.p, nullptr);
        dA.to_host(gA);
        dE.to_host(gE);
#endif
      } else {
        lens::finite_mag_host(gs.data(), gq.data(), gy1.data(), gy2.data(), grho.data(), m, opt, gA.data(),
                                        gE.data(), st.threads);
      }
      for (std::size_t k = 0; k < m; ++k) {
        A[idx[k]] = gA[k];
        A_err[idx[k]] = gE[k];
      }
    }
  }
  core::write_text_file(st.output, [&](std::ostream& out) {
    for (std::size_t k = 0; k < c.header.size(); ++k) out << c.header[k] << ',';
    out << (finite ? "A,A_err\n" : "A\n");
    for (std::size_t r = 0; r < n; ++r) {
      for (const auto& f : c.rows[r]) out << f << ',';
      out << A[r];
      if (finite) out << ',' << A_err[r];
      out << '\n';
    }
  });
  return n;
}

namespace {

// The epochs: a file of times (real data, read whole) or t0 + i dt for i = 0 … n - 1, generated a
// block at a time so that a long grid takes no memory.
struct TimeGrid {
  std::vector<double> file_times;
  double t0 = 0.0, dt = 0.0;
  std::size_t n = 0;
  double at(std::size_t i) const { return file_times.empty() ? t0 + dt * static_cast<double>(i) : file_times[i]; }
  double lo() const { return file_times.empty() ? t0 : *std::min_element(file_times.begin(), file_times.end()); }
  double hi() const { return file_times.empty() ? at(n - 1) : *std::max_element(file_times.begin(), file_times.end()); }
};

TimeGrid time_grid(const MagnifyOptions& st) {
  TimeGrid g;
  if (!st.times_file.empty()) {
    g.file_times = io::read_times_file(st.times_file);
    if (double(g.file_times.size()) > kMaxEpochs) throw std::runtime_error(st.times_file + ": more than 1e8 epochs");
    g.n = g.file_times.size();
    return g;
  }
  if (!(st.dt > 0.0) || !(st.t1 >= st.t0) || !std::isfinite(st.t0) || !std::isfinite(st.t1) || !std::isfinite(st.dt))
    throw std::runtime_error("time grid: need finite --t0 <= --t1 and a finite --dt > 0");
  // Counted in double first: (t1 - t0) / dt may not fit in an integer (--dt 1e-300).
  const double span = std::floor((st.t1 - st.t0) / st.dt + 1e-9);
  if (!(span + 1.0 <= kMaxEpochs)) {
    std::ostringstream os;
    os << "time grid: (--t1 - --t0) / --dt = " << span + 1.0 << " epochs, more than the limit of 1e8 per curve";
    throw std::runtime_error(os.str());
  }
  g.t0 = st.t0;
  g.dt = st.dt;
  g.n = static_cast<std::size_t>(span) + 1;
  if (g.n > 1 && (g.at(1) == g.at(0) || g.at(g.n - 1) == g.at(g.n - 2))) {
    std::ostringstream os;
    os << "time grid: --dt " << st.dt << " is below the resolution of the times near " << st.t0 << " .. " << st.t1
       << " (epochs would repeat)";
    throw std::runtime_error(os.str());
  }
  return g;
}

}  // namespace

MagnifyCurves magnify_curves(const MagnifyOptions& st) {
  core::set_num_threads(st.threads);
  refuse_overlaps(st);
  const io::CsvTable c = io::read_csv_table(st.input);
  const std::string& p = st.input;
  const int cs = csv_column(c, "s", true, p), cq = csv_column(c, "q", true, p), ca = csv_column(c, "alpha", true, p);
  const int cu = csv_column(c, "u0", true, p), ct0 = csv_column(c, "t0", true, p), ctE = csv_column(c, "tE", true, p);
  const int crho = csv_column(c, "rho", !st.point_only, p), cid = csv_column(c, "curve_id", false, p);
  const std::size_t n = c.rows.size();
  const TimeGrid grid = time_grid(st);
  std::vector<EventParams> ev(n);
  std::vector<std::string> ids(n);
  for (std::size_t r = 0; r < n; ++r) {
    ev[r].s = csv_number(c, r, cs, "s must be > 0", positive, p);
    csv_number(c, r, cs, kSRule, separation, p);
    ev[r].q = csv_number(c, r, cq, "q must be > 0", positive, p);
    csv_number(c, r, cq, kQRule, mass_ratio, p);
    ev[r].alpha_deg = csv_number(c, r, ca, "", any, p);
    ev[r].u0 = csv_number(c, r, cu, kU0Rule, source_offset, p);
    ev[r].t0 = csv_number(c, r, ct0, "", any, p);
    ev[r].tE = csv_number(c, r, ctE, "tE must be > 0", positive, p);
    ev[r].rho = crho >= 0 ? csv_number(c, r, crho, "rho must be >= 0", non_negative, p) : 0.0;
    if (crho >= 0 && !st.point_only) csv_number(c, r, crho, kRhoRule, source_radius, p);
    ids[r] = cid >= 0 ? c.rows[r][static_cast<std::size_t>(cid)] : std::to_string(r);
    // The source must stay inside the domain over the whole grid: |t - t0| / tE + |u0| bounds |y|.
    const double far_t = std::fabs(grid.lo() - ev[r].t0) > std::fabs(grid.hi() - ev[r].t0) ? grid.lo() : grid.hi();
    const double dist = std::fabs(far_t - ev[r].t0) / ev[r].tE + std::fabs(ev[r].u0);
    if (!(dist <= lens::kMaxSourceOffset)) {
      std::ostringstream os;
      os << p << ": line " << c.line[r] << ", field 'tE' = '" << c.rows[r][static_cast<std::size_t>(ctE)]
         << "': the source is " << dist << " Einstein radii from the lens at t = " << far_t
         << ", outside the supported domain (|y| <= 1e+08); use a larger tE or a shorter time grid";
      throw std::runtime_error(os.str());
    }
  }
  const bool finite = !st.point_only;
  const FiniteSourceOptions opt = finite ? options_of(st, 0.0) : FiniteSourceOptions{};
  const bool cuda = use_cuda(st);

  // Blocks: whole curves of several events when they are short, else pieces of one curve.
  const std::size_t n_t = grid.n;
  const std::size_t ev_block = std::max<std::size_t>(1, kBlockValues / n_t);
  const std::size_t t_block = std::min(n_t, kBlockValues);
  std::vector<double> t(t_block), A, A_err;
  core::TextOutput out(st.output);
  std::ostream& os = out.stream();
  os << (finite ? "curve_id,t,A,A_err\n" : "curve_id,t,A\n");
  for (std::size_t k0 = 0; k0 < n; k0 += ev_block) {
    const std::size_t m = std::min(ev_block, n - k0);
    for (std::size_t i0 = 0; i0 < n_t; i0 += t_block) {
      const std::size_t nt = std::min(t_block, n_t - i0);
      t.resize(nt);
      for (std::size_t i = 0; i < nt; ++i) t[i] = grid.at(i0 + i);
      A.assign(m * nt, 0.0);
      A_err.assign(m * nt, 0.0);
      if (cuda) {
#if LENSFLOW_HAVE_CUDA
        const std::vector<EventParams> part(ev.begin() + k0, ev.begin() + k0 + m);
        DeviceArray<EventParams> dev(part);
        DeviceArray<double> dt(t), dA(A.size()), dE(A.size());
        lens::lightcurves_device(dev.p, m, dt.p, nt, finite, opt, dA.p, dE.p, nullptr);
        dA.to_host(A);
        dE.to_host(A_err);
#endif
      } else {
        lens::lightcurves_host(ev.data() + k0, m, t.data(), nt, finite, opt, A.data(), A_err.data(),
                                         st.threads);
      }
      for (std::size_t k = 0; k < m; ++k)
        for (std::size_t i = 0; i < nt; ++i) {
          os << ids[k0 + k] << ',' << t[i] << ',' << A[k * nt + i];
          if (finite) os << ',' << A_err[k * nt + i];
          os << '\n';
        }
      if (!os) break;  // a write error (disk full): out.commit() reports it
    }
    if (!os) break;
  }
  out.commit();
  return {n, n_t};
}

}  // namespace lensflow::pipeline
