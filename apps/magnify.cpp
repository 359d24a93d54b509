// lensflow-magnify: binary-lens magnifications for a CSV of source positions, or light curves for a
// CSV of events, on CPU threads or the GPU.
//
//   lensflow-magnify points --input pts.csv --output out.csv [--tol 1e-4] [--device cpu|cuda]
//       Columns s,q,y1,y2 (required), rho and a1 (optional; rho > 0 gives the finite source, a1 its
//       linear limb darkening), any others pass through. Writes every input row with A appended
//       (and A_err when rho is present).
//   lensflow-magnify curves --input events.csv --output out.csv (--t0 0 --t1 144 --dt 0.01 | --times t.txt)
//       Columns s,q,alpha,u0,t0,tE,rho (alpha in degrees; curve_id optional, else the row number).
//       Writes curve_id,t,A (and A_err for finite-source curves; --point ignores rho).
// A malformed row, a value outside the supported domain (lens/batch_validate.hpp: s in [1e-3, 1e3],
// q in [1e-9, 1e9], |y1|, |y2| <= 1e8, rho <= 10, and for curves a tE that keeps the source within
// 1e8 Einstein radii over the grid) or a bad option stops the program with a message naming the
// line, field and rule. The output is written to a unique temporary file and renamed (io/
// atomic_file.hpp), so it is complete or absent; an output that is the input is refused; a
// device or FIFO as output is written in place. Curves are computed and written in blocks of
// 2^18 values, so memory does not grow with the number of events or epochs (a point-source
// curve longer than 2^18 epochs restarts its root-solver warm start at each block).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/fs.hpp"
#include "core/thread_pool.hpp"
#include "lens/batch_validate.hpp"
#include "lens/lensflow_lens.hpp"
#if LENSFLOW_HAVE_CUDA
#include "core/cuda_check.hpp"
#endif

namespace {

using lensflow::lens::EventParams;
using lensflow::lens::FiniteSourceOptions;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // raw fields, trimmed
  std::vector<std::size_t> line;               // 1-based line number of each row
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field.
void strip_bom(std::string& line) {
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
}

bool parses_as_number(const std::string& f) {
  if (f.empty()) return false;
  char* end = nullptr;
  std::strtod(f.c_str(), &end);
  return end && *end == '\0';
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(trim(f));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

Csv read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open input file " + path);
  Csv c;
  std::string line;
  std::size_t ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (ln == 1) strip_bom(line);
    if (trim(line).empty()) continue;
    if (c.header.empty()) {
      c.header = split(line);
      for (std::size_t k = 0; k < c.header.size(); ++k)
        if (parses_as_number(c.header[k]))
          throw std::runtime_error(path + ": line " + std::to_string(ln) + " is not a header (field " +
                                   std::to_string(k + 1) + " is the number '" + c.header[k] +
                                   "'); the first line must name the columns");
      continue;
    }
    auto f = split(line);
    if (f.size() != c.header.size())
      throw std::runtime_error(path + ": line " + std::to_string(ln) + " has " + std::to_string(f.size()) +
                               " fields, the header has " + std::to_string(c.header.size()));
    c.rows.push_back(std::move(f));
    c.line.push_back(ln);
  }
  if (c.header.empty()) throw std::runtime_error(path + ": empty file (no header line)");
  return c;
}

int column(const Csv& c, const std::string& name, bool required, const std::string& path) {
  for (std::size_t k = 0; k < c.header.size(); ++k)
    if (c.header[k] == name) return static_cast<int>(k);
  if (required) throw std::runtime_error(path + ": missing required column '" + name + "'");
  return -1;
}

// Parses field `col` of row r as a finite number satisfying `ok`, else throws naming line and field.
double number(const Csv& c, std::size_t r, int col, const char* rule, bool (*ok)(double), const std::string& path) {
  const std::string& txt = c.rows[r][static_cast<std::size_t>(col)];
  const std::string where = path + ": line " + std::to_string(c.line[r]) + ", field '" +
                            c.header[static_cast<std::size_t>(col)] + "' = '" + txt + "': ";
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(txt, &used);
  } catch (const std::exception&) {
    throw std::runtime_error(where + "not a number");
  }
  if (used != txt.size()) throw std::runtime_error(where + "not a number");
  if (!std::isfinite(v)) throw std::runtime_error(where + "not a finite number");
  if (!ok(v)) throw std::runtime_error(where + rule);
  return v;
}

namespace L = lensflow::lens;
bool any(double) { return true; }
bool positive(double v) { return v > 0.0; }
bool non_negative(double v) { return v >= 0.0; }
bool unit_interval(double v) { return v >= 0.0 && v <= 1.0; }
bool separation(double v) { return v >= L::kMinSeparation && v <= L::kMaxSeparation; }
bool mass_ratio(double v) { return v >= L::kMinMassRatio && v <= L::kMaxMassRatio; }
bool source_offset(double v) { return std::fabs(v) <= L::kMaxSourceOffset; }
bool source_radius(double v) { return v >= 0.0 && v <= L::kMaxSourceRadius; }
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

struct Settings {
  std::string input, output, device = "cpu", times_file;
  double tol = 0.0, tol_abs = 0.0, tol_rel = 0.0, t0 = 0.0, t1 = 144.0, dt = 0.01;
  bool has_tol = false, has_tol_abs = false, has_tol_rel = false;
  int threads = 0;
  bool point_only = false;
};

// The finite-source options asked for; a given tolerance that is not a finite number > 0 (--tol)
// or >= 0 (--tol-abs, --tol-rel) is refused, never replaced by a default.
FiniteSourceOptions options_of(const Settings& st, double a1) {
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

void refuse_overlaps(const Settings& st) {
  lensflow::core::refuse_overlaps({{"--output", st.output}}, {{"--input", st.input}, {"--times", st.times_file}});
}

bool use_cuda(const Settings& st) {
  if (st.device == "cpu") return false;
  if (!lensflow::lens::cuda_device_available())
    throw std::runtime_error("--device cuda: no CUDA device available (or lensflow built without CUDA)");
  return true;
}

void run_points(const Settings& st) {
  refuse_overlaps(st);
  const Csv c = read_csv(st.input);
  const int cs = column(c, "s", true, st.input), cq = column(c, "q", true, st.input);
  const int cy1 = column(c, "y1", true, st.input), cy2 = column(c, "y2", true, st.input);
  const int crho = column(c, "rho", false, st.input), ca1 = column(c, "a1", false, st.input);
  const std::size_t n = c.rows.size();
  std::vector<double> s(n), q(n), y1(n), y2(n), rho(n, 0.0), a1(n, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    s[r] = number(c, r, cs, "s must be > 0", positive, st.input);
    number(c, r, cs, kSRule, separation, st.input);
    q[r] = number(c, r, cq, "q must be > 0", positive, st.input);
    number(c, r, cq, kQRule, mass_ratio, st.input);
    y1[r] = number(c, r, cy1, kYRule, source_offset, st.input);
    y2[r] = number(c, r, cy2, kYRule, source_offset, st.input);
    if (crho >= 0) rho[r] = number(c, r, crho, "rho must be >= 0", non_negative, st.input);
    if (crho >= 0) number(c, r, crho, kRhoRule, source_radius, st.input);
    if (ca1 >= 0) a1[r] = number(c, r, ca1, "a1 must be in [0, 1]", unit_interval, st.input);
  }
  const bool finite = crho >= 0;
  if (finite) options_of(st, 0.0);  // refuse bad tolerances before any work
  const bool cuda = use_cuda(st);
  std::vector<double> A(n, 0.0), A_err(n, 0.0);
  if (!finite) {
    if (cuda) {
#if LENSFLOW_HAVE_CUDA
      DeviceArray<double> ds(s), dq(q), dy1(y1), dy2(y2), dA(n);
      lensflow::lens::point_mag_device(ds.p, dq.p, dy1.p, dy2.p, n, dA.p, nullptr);
      dA.to_host(A);
#endif
    } else {
      lensflow::lens::point_mag_host(s.data(), q.data(), y1.data(), y2.data(), n, A.data(), st.threads);
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
        lensflow::lens::finite_mag_device(ds.p, dq.p, dy1.p, dy2.p, drho.p, m, opt, dA.p, dE.p, nullptr);
        dA.to_host(gA);
        dE.to_host(gE);
#endif
      } else {
        lensflow::lens::finite_mag_host(gs.data(), gq.data(), gy1.data(), gy2.data(), grho.data(), m, opt, gA.data(),
                                        gE.data(), st.threads);
      }
      for (std::size_t k = 0; k < m; ++k) {
        A[idx[k]] = gA[k];
        A_err[idx[k]] = gE[k];
      }
    }
  }
  lensflow::core::write_text_file(st.output, [&](std::ostream& out) {
    for (std::size_t k = 0; k < c.header.size(); ++k) out << c.header[k] << ',';
    out << (finite ? "A,A_err\n" : "A\n");
    for (std::size_t r = 0; r < n; ++r) {
      for (const auto& f : c.rows[r]) out << f << ',';
      out << A[r];
      if (finite) out << ',' << A_err[r];
      out << '\n';
    }
  });
  std::cerr << "lensflow-magnify: " << n << " rows -> " << st.output << "\n";
}

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

TimeGrid time_grid(const Settings& st) {
  TimeGrid g;
  if (!st.times_file.empty()) {
    std::ifstream in(st.times_file);
    if (!in) throw std::runtime_error("cannot open times file " + st.times_file);
    std::string line;
    std::size_t ln = 0;
    while (std::getline(in, line)) {
      ++ln;
      if (ln == 1) strip_bom(line);
      const std::string v = trim(line);
      if (v.empty()) continue;
      std::size_t used = 0;
      double x = 0.0;
      try {
        x = std::stod(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || !std::isfinite(x))
        throw std::runtime_error(st.times_file + ": line " + std::to_string(ln) + ": '" + v + "' is not a finite time");
      g.file_times.push_back(x);
    }
    if (g.file_times.empty()) throw std::runtime_error(st.times_file + ": no times");
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

void run_curves(const Settings& st) {
  refuse_overlaps(st);
  const Csv c = read_csv(st.input);
  const std::string& p = st.input;
  const int cs = column(c, "s", true, p), cq = column(c, "q", true, p), ca = column(c, "alpha", true, p);
  const int cu = column(c, "u0", true, p), ct0 = column(c, "t0", true, p), ctE = column(c, "tE", true, p);
  const int crho = column(c, "rho", !st.point_only, p), cid = column(c, "curve_id", false, p);
  const std::size_t n = c.rows.size();
  const TimeGrid grid = time_grid(st);
  std::vector<EventParams> ev(n);
  std::vector<std::string> ids(n);
  for (std::size_t r = 0; r < n; ++r) {
    ev[r].s = number(c, r, cs, "s must be > 0", positive, p);
    number(c, r, cs, kSRule, separation, p);
    ev[r].q = number(c, r, cq, "q must be > 0", positive, p);
    number(c, r, cq, kQRule, mass_ratio, p);
    ev[r].alpha_deg = number(c, r, ca, "", any, p);
    ev[r].u0 = number(c, r, cu, kU0Rule, source_offset, p);
    ev[r].t0 = number(c, r, ct0, "", any, p);
    ev[r].tE = number(c, r, ctE, "tE must be > 0", positive, p);
    ev[r].rho = crho >= 0 ? number(c, r, crho, "rho must be >= 0", non_negative, p) : 0.0;
    if (crho >= 0 && !st.point_only) number(c, r, crho, kRhoRule, source_radius, p);
    ids[r] = cid >= 0 ? c.rows[r][static_cast<std::size_t>(cid)] : std::to_string(r);
    // The source must stay inside the domain over the whole grid: |t - t0| / tE + |u0| bounds |y|.
    const double far_t = std::fabs(grid.lo() - ev[r].t0) > std::fabs(grid.hi() - ev[r].t0) ? grid.lo() : grid.hi();
    const double dist = std::fabs(far_t - ev[r].t0) / ev[r].tE + std::fabs(ev[r].u0);
    if (!(dist <= L::kMaxSourceOffset)) {
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
  lensflow::core::TextOutput out(st.output);
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
        lensflow::lens::lightcurves_device(dev.p, m, dt.p, nt, finite, opt, dA.p, dE.p, nullptr);
        dA.to_host(A);
        dE.to_host(A_err);
#endif
      } else {
        lensflow::lens::lightcurves_host(ev.data() + k0, m, t.data(), nt, finite, opt, A.data(), A_err.data(),
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
  std::cerr << "lensflow-magnify: " << n << " curves x " << n_t << " epochs -> " << st.output << "\n";
}

void add_common(CLI::App* sub, Settings& st) {
  sub->add_option("--input,-i", st.input, "input CSV")->required()->check(CLI::ExistingFile);
  sub->add_option("--output,-o", st.output, "output CSV (written atomically)")->required();
  sub->add_option("--tol", st.tol, "finite-source tolerance, absolute and relative (> 0)")
      ->each([&st](const std::string&) { st.has_tol = true; });
  sub->add_option("--tol-abs", st.tol_abs, "finite-source absolute tolerance (>= 0; overrides --tol)")
      ->each([&st](const std::string&) { st.has_tol_abs = true; });
  sub->add_option("--tol-rel", st.tol_rel, "finite-source relative tolerance (>= 0; overrides --tol)")
      ->each([&st](const std::string&) { st.has_tol_rel = true; });
  sub->add_option("--device", st.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--threads", st.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lensflow-magnify: binary-lens magnifications and light curves from CSV files"};
  app.require_subcommand(1);
  Settings st;
  auto* points = app.add_subcommand("points", "magnification of each row (s,q,y1,y2[,rho][,a1])");
  add_common(points, st);
  auto* curves = app.add_subcommand("curves", "light curves of events (s,q,alpha,u0,t0,tE,rho) on a time grid");
  add_common(curves, st);
  curves->add_option("--t0", st.t0, "first epoch [days]");
  curves->add_option("--t1", st.t1, "last epoch [days]");
  curves->add_option("--dt", st.dt, "epoch step [days]");
  curves->add_option("--times", st.times_file, "file of epochs, one per line (instead of --t0/--t1/--dt)")
      ->check(CLI::ExistingFile);
  curves->add_flag("--point", st.point_only, "point-source curves (rho not needed)");
  CLI11_PARSE(app, argc, argv);
  try {
    lensflow::core::set_num_threads(st.threads);
    if (points->parsed()) run_points(st);
    else run_curves(st);
  } catch (const std::exception& e) {
    std::cerr << "lensflow-magnify: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
