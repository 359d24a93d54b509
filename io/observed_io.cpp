// io/observed_io.cpp — see observed_io.hpp.
#include "io/observed_io.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "io/h5file.hpp"

namespace lensflow::io {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string lower_ext(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return "";
  std::string e = path.substr(dot + 1);
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

// Shape [N, length] or [length] -> N; anything else is an error naming the shape.
int64_t events_of_shape(const std::string& path, const std::string& what, const io::Dims& d,
                        int64_t length) {
  auto shape = [&] {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
  };
  if (d.size() == 1 && static_cast<int64_t>(d[0]) == length) return 1;
  if (d.size() == 2 && static_cast<int64_t>(d[1]) == length) return static_cast<int64_t>(d[0]);
  fail(path, what + " has shape " + shape() + "; expected [N, " + std::to_string(length) + "] or [" +
                 std::to_string(length) + "] (72 days at 0.01 day; other grids must be resampled)");
}

// Refuses ±Inf, curves with fewer than 2 usable points and (policy error) any missing point;
// counts the missing points otherwise. A point is missing when it is NaN or not positive: the
// network takes ln(flux), so a flux <= 0 cannot enter it; such points become NaN here, and the
// preprocessing fills them like gaps (and --refine leaves them out of the likelihood).
void check_missing(ObservedSet& s, const std::string& path, NanPolicy nan) {
  s.n_missing.assign(s.n_events, 0);
  const int64_t L = s.length;
  for (int64_t e = 0; e < s.n_events; ++e) {
    double* f = s.flux.data() + e * L;
    int64_t first_nan = -1, n_nan = 0, first_bad = -1, n_bad = 0;
    for (int64_t i = 0; i < L; ++i) {
      if (std::isinf(f[i]))
        fail(path, "event " + std::to_string(e) + " has an infinite flux at point " + std::to_string(i));
      if (std::isnan(f[i])) {
        if (n_nan++ == 0) first_nan = i;
      } else if (!(f[i] > 0.0)) {
        if (n_bad++ == 0) first_bad = i;
      }
    }
    if (n_nan + n_bad > L - 2)
      fail(path, "event " + std::to_string(e) + " has no finite, positive flux points to use (" +
                     std::to_string(L - n_nan - n_bad) + " of " + std::to_string(L) + "; at least 2 needed)");
    if (n_bad > 0 && nan == NanPolicy::error) {
      std::ostringstream v;
      v << f[first_bad];
      fail(path, "event " + std::to_string(e) + " has " + std::to_string(n_bad) +
                     " non-positive flux points (first at point " + std::to_string(first_bad) + ": " + v.str() +
                     "); the network takes ln(flux), so they cannot be used as they are: use --nan interpolate "
                     "to treat them as missing points");
    }
    if (n_nan > 0 && nan == NanPolicy::error)
      fail(path, "event " + std::to_string(e) + " has " + std::to_string(n_nan) +
                     " NaN flux points (first at point " + std::to_string(first_nan) +
                     "); use --nan interpolate to fill gaps linearly");
    for (int64_t i = 0; i < L; ++i)
      if (!(f[i] > 0.0)) f[i] = NAN;
    s.n_missing[e] = n_nan + n_bad;
  }
}

void check_time_grid(const std::string& path, const double* t, int64_t L, int64_t event) {
  for (int64_t i = 1; i < L; ++i)
    if (!(std::fabs(t[i] - t[0] - i * kObservedCadence) < 1e-6))
      fail(path, "time of event " + std::to_string(event) + " is not the regular 0.01-day grid (point " +
                     std::to_string(i) + " at " + std::to_string(t[i]) + ", expected " +
                     std::to_string(t[0] + i * kObservedCadence) + "); resample onto that grid first");
}

ObservedSet read_h5(const std::string& path, int64_t L) {
  std::unique_ptr<io::H5Reader> r;
  try {
    r = std::make_unique<io::H5Reader>(path);
  } catch (const io::H5Error& e) {
    fail(path, std::string("cannot read as HDF5: ") + e.what());
  }
  if (!r->has("flux"))
    fail(path, "no dataset 'flux' (expected flux shaped [N, " + std::to_string(L) + "])");
  ObservedSet s;
  s.length = L;
  s.n_events = events_of_shape(path, "dataset 'flux'", r->shape("flux"), L);
  s.flux = r->read_f64("flux");
  s.t_start.assign(s.n_events, 0.0);
  if (r->has("time")) {
    const io::Dims td = r->shape("time");
    const int64_t nt = events_of_shape(path, "dataset 'time'", td, L);
    if (nt != 1 && nt != s.n_events)
      fail(path, "dataset 'time' has " + std::to_string(nt) + " rows but 'flux' has " +
                     std::to_string(s.n_events));
    const auto t = r->read_f64("time");
    for (int64_t e = 0; e < s.n_events; ++e) {
      const double* te = t.data() + (nt == 1 ? 0 : e * L);
      check_time_grid(path, te, L, e);
      s.t_start[e] = te[0];
    }
  }
  return s;
}

// Parses one CSV field; empty and "nan" are NaN. Returns false for a non-numeric field.
bool parse_field(std::string f, double& v) {
  f.erase(0, f.find_first_not_of(" \t\r"));
  f.erase(f.find_last_not_of(" \t\r") + 1);
  std::string l = f;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l.empty() || l == "nan") {
    v = NAN;
    return true;
  }
  char* end = nullptr;
  v = std::strtod(f.c_str(), &end);
  return end && *end == '\0';
}

// A header names columns: every field is a non-empty word that is not a number (nor "nan").
bool is_header(const std::string& line) {
  std::stringstream ss(line);
  std::string field;
  int n = 0;
  while (std::getline(ss, field, ',')) {
    double v;
    field.erase(0, field.find_first_not_of(" \t\r"));
    field.erase(field.find_last_not_of(" \t\r") + 1);
    if (field.empty() || parse_field(field, v)) return false;
    ++n;
  }
  return n > 0 && line.back() != ',';
}

ObservedSet read_csv(const std::string& path, int64_t L) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open file");
  std::vector<std::vector<double>> rows;
  std::string line;
  int64_t lineno = 0;
  bool first_line = true;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 byte-order mark
    const auto p = line.find_first_not_of(" \t\r");
    if (p == std::string::npos || line[p] == '#') continue;
    // Only a line that looks like a header is one: a data line with a typo is an error, not a
    // header to skip (that would drop an event silently).
    if (first_line && is_header(line)) {
      first_line = false;
      continue;
    }
    first_line = false;
    std::vector<double> row;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) {
      double v;
      if (!parse_field(field, v))
        fail(path, "line " + std::to_string(lineno) + " has a non-numeric field '" + field + "' (field " +
                       std::to_string(row.size() + 1) + ")");
      row.push_back(v);
    }
    if (!line.empty() && line.back() == ',') row.push_back(NAN);  // trailing empty field
    rows.push_back(std::move(row));
  }
  if (rows.empty()) fail(path, "no data rows");
  ObservedSet s;
  s.length = L;
  const bool column = std::all_of(rows.begin(), rows.end(), [](const auto& r) { return r.size() == 1; });
  if (column) {
    if (static_cast<int64_t>(rows.size()) != L)
      fail(path, "a single-column CSV must hold one light curve of " + std::to_string(L) +
                     " points; found " + std::to_string(rows.size()));
    s.n_events = 1;
    for (const auto& r : rows) s.flux.push_back(r[0]);
  } else {
    for (size_t i = 0; i < rows.size(); ++i)
      if (static_cast<int64_t>(rows[i].size()) != L)
        fail(path, "row " + std::to_string(i) + " has " + std::to_string(rows[i].size()) +
                       " values; each light curve needs " + std::to_string(L) +
                       " (72 days at 0.01 day; other grids must be resampled)");
    s.n_events = static_cast<int64_t>(rows.size());
    for (const auto& r : rows) s.flux.insert(s.flux.end(), r.begin(), r.end());
  }
  s.t_start.assign(s.n_events, 0.0);
  return s;
}

// The value of `key` in a .npy header dict ("{'descr': '<f8', 'fortran_order': False,
// 'shape': (2, 7200), }"), up to the next top-level comma; "" when absent.
std::string npy_value(const std::string& h, const std::string& key) {
  const auto k = h.find("'" + key + "'");
  if (k == std::string::npos) return "";
  const auto colon = h.find(':', k);
  if (colon == std::string::npos) return "";
  std::string v;
  int depth = 0;
  for (std::size_t i = colon + 1; i < h.size(); ++i) {
    const char c = h[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if ((c == ',' && depth == 0) || c == '}') break;
    v += c;
  }
  v.erase(0, v.find_first_not_of(" "));
  v.erase(v.find_last_not_of(" ") + 1);
  return v;
}

// Minimal .npy reader (format versions 1-3). The header is checked field by field and its claimed
// size against the file's real size before anything is allocated; values are converted in blocks.
ObservedSet read_npy(const std::string& path, int64_t L) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    fail(path, "not a NumPy .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t hlen = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) fail(path, "truncated .npy header");
    hlen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) fail(path, "truncated .npy header");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    fail(path, "unsupported .npy format version " + std::to_string(major));
  }
  if (hlen > (1u << 20) || hlen > file_size) fail(path, "implausible .npy header length " + std::to_string(hlen));
  std::string h(hlen, '\0');
  if (!in.read(h.data(), hlen)) fail(path, "truncated .npy header");
  const uint64_t data_offset = uint64_t(in.tellg());

  std::string descr = npy_value(h, "descr");
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"') || descr.back() != descr.front())
    fail(path, ".npy header: 'descr' is missing or not a quoted dtype (header: " + h + ")");
  descr = descr.substr(1, descr.size() - 2);
  const std::string fo = npy_value(h, "fortran_order");
  if (fo != "True" && fo != "False")
    fail(path, ".npy header: 'fortran_order' must be True or False (header: " + h + ")");
  const bool fortran = fo == "True";
  const std::string sh = npy_value(h, "shape");
  if (sh.size() < 2 || sh.front() != '(' || sh.back() != ')')
    fail(path, ".npy header: 'shape' must be a tuple like (2, 7200) (header: " + h + ")");
  io::Dims dims;
  {
    std::stringstream ss(sh.substr(1, sh.size() - 2));
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      tok.erase(0, tok.find_first_not_of(" "));
      tok.erase(tok.find_last_not_of(" ") + 1);
      if (tok.empty()) continue;
      const bool digits = tok.size() <= 18 && tok.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) fail(path, ".npy header: shape entry '" + tok + "' is not a dimension (header: " + h + ")");
      dims.push_back(std::strtoull(tok.c_str(), nullptr, 10));
    }
  }
  size_t width;
  char kind;
  if (descr == "<f8" || descr == "=f8") width = 8, kind = 'f';
  else if (descr == "<f4" || descr == "=f4") width = 4, kind = 'f';
  else if (descr == "<i8" || descr == "=i8") width = 8, kind = 'i';
  else if (descr == "<i4" || descr == "=i4") width = 4, kind = 'i';
  else fail(path, "unsupported .npy dtype '" + descr + "' (use little-endian float32/64 or int32/64)");
  ObservedSet s;
  s.length = L;
  s.n_events = events_of_shape(path, "array", dims, L);
  // Claimed size against the bytes really there, before allocating (in long double: a claimed
  // shape may overflow 64-bit products).
  const long double claimed = static_cast<long double>(s.n_events) * static_cast<long double>(L) * width;
  if (claimed > static_cast<long double>(file_size - data_offset)) {
    std::ostringstream os;
    os << "truncated .npy data: the header claims shape " << sh << " of " << descr << " (" << claimed
       << " bytes) but the file holds " << file_size - data_offset << " bytes of data";
    fail(path, os.str());
  }
  const uint64_t n = uint64_t(s.n_events) * uint64_t(L);
  s.flux.resize(n);
  std::vector<char> raw;
  constexpr uint64_t kBlock = uint64_t(1) << 17;  // values converted per read
  for (uint64_t i0 = 0; i0 < n; i0 += kBlock) {
    const uint64_t m = std::min(kBlock, n - i0);
    raw.resize(m * width);
    if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size())))
      fail(path, "truncated .npy data (expected " + std::to_string(n) + " values)");
    for (uint64_t k = 0; k < m; ++k) {
      const char* p = raw.data() + k * width;
      double v;
      if (kind == 'f' && width == 8) { double x; std::memcpy(&x, p, 8); v = x; }
      else if (kind == 'f') { float x; std::memcpy(&x, p, 4); v = x; }
      else if (width == 8) { int64_t x; std::memcpy(&x, p, 8); v = double(x); }
      else { int32_t x; std::memcpy(&x, p, 4); v = double(x); }
      // Fortran order of [N, L]: element (e, j) is stored at j * N + e.
      const uint64_t i = i0 + k;
      const uint64_t N = uint64_t(s.n_events);
      const uint64_t dst = (fortran && dims.size() == 2) ? (i % N) * uint64_t(L) + i / N : i;
      s.flux[dst] = v;
    }
  }
  s.t_start.assign(s.n_events, 0.0);
  return s;
}

}  // namespace

NanPolicy parse_nan_policy(const std::string& s) {
  if (s == "error") return NanPolicy::error;
  if (s == "interpolate") return NanPolicy::interpolate;
  throw std::invalid_argument("NaN policy must be 'error' or 'interpolate', got '" + s + "'");
}

ObservedSet read_observed(const std::string& path, NanPolicy nan, int64_t length) {
  if (length < 2) throw std::invalid_argument("read_observed: length must be >= 2");
  const std::string e = lower_ext(path);
  ObservedSet s;
  if (e == "h5" || e == "hdf5") s = read_h5(path, length);
  else if (e == "csv" || e == "txt") s = read_csv(path, length);
  else if (e == "npy") s = read_npy(path, length);
  else fail(path, "unknown extension '." + e + "' (expected .h5, .hdf5, .csv, .txt or .npy)");
  if (s.n_events < 1) fail(path, "no light curve in the file");
  check_missing(s, path, nan);
  return s;
}

}  // namespace lensflow::io
