// io/dataset.cpp — shard files of the training set (layout in io/dataset.hpp).
#include "io/dataset.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include "core/hash.hpp"
#include "io/prior_fields.hpp"

namespace lensflow::io {

namespace {

constexpr const char* kFormat = "lensflow-dataset";
constexpr const char* kThetaColumns = "s,q,alpha_deg,u0,t0,tE,rho";

void write_settings(H5Writer& w, const DatasetSettings& s) {
  w.attr("/", "format", std::string(kFormat));
  w.attr("/", "format_version", kDatasetFormatVersion);
  w.attr("/", "lensflow_version", s.lensflow_version);
  w.attr("/", "prior_names", prior_field_names());
  w.attr("/", "prior", s.prior);
  w.attr("/", "seed", std::int64_t(s.seed));
  w.attr("/", "n_events", std::int64_t(s.n_events));
  w.attr("/", "events_per_shard", std::int64_t(s.events_per_shard));
  w.attr("/", "num_shards", std::int64_t(s.num_shards));
  w.attr("/", "cut_mode", s.cut_mode);
  w.attr("/", "cut_snr_base", s.cut_snr_base);
  w.attr("/", "cut_threshold", s.cut_threshold);
  w.attr("/", "cut_window", std::vector<double>{s.cut_window_lo, s.cut_window_hi});
  w.attr("/", "finite_source", std::int64_t(s.finite_source ? 1 : 0));
  w.attr("/", "fs_tol_rel", s.fs_tol_rel);
  w.attr("/", "fs_tol_abs", s.fs_tol_abs);
  w.attr("/", "n_t", std::int64_t(s.n_t));
  w.attr("/", "dt", s.dt);
  w.attr("/", "t0_sim", s.t0_sim);
  w.attr("/", "theta_raw_columns", std::string(kThetaColumns));
}

// Reads the settings of an open shard; H5Error (naming the file) when it is not a lensflow dataset.
DatasetSettings read_settings(const H5Reader& r) {
  if (!r.has_attr("/", "format") || r.attr_str("/", "format") != kFormat)
    throw H5Error(r.path() + ": not a lensflow dataset shard (no format = '" + std::string(kFormat) + "' attribute)");
  const std::int64_t v = r.attr_i64("/", "format_version");
  if (v != kDatasetFormatVersion)
    throw H5Error(r.path() + ": dataset format version " + std::to_string(v) + ", this build reads version " +
                  std::to_string(kDatasetFormatVersion));
  DatasetSettings s;
  s.lensflow_version = r.attr_str("/", "lensflow_version");
  s.prior = r.attr_f64s("/", "prior");
  if (s.prior.size() != kPriorFieldCount) throw H5Error(r.path() + ": attribute 'prior' must hold 18 values");
  s.seed = std::uint64_t(r.attr_i64("/", "seed"));
  s.n_events = std::uint64_t(r.attr_i64("/", "n_events"));
  s.events_per_shard = std::uint64_t(r.attr_i64("/", "events_per_shard"));
  s.num_shards = std::uint64_t(r.attr_i64("/", "num_shards"));
  s.cut_mode = r.attr_str("/", "cut_mode");
  s.cut_snr_base = r.attr_f64("/", "cut_snr_base");
  s.cut_threshold = r.attr_f64("/", "cut_threshold");
  const auto win = r.attr_f64s("/", "cut_window");
  if (win.size() != 2) throw H5Error(r.path() + ": attribute 'cut_window' must hold 2 values");
  s.cut_window_lo = win[0];
  s.cut_window_hi = win[1];
  s.finite_source = r.attr_i64("/", "finite_source") != 0;
  s.fs_tol_rel = r.attr_f64("/", "fs_tol_rel");
  s.fs_tol_abs = r.attr_f64("/", "fs_tol_abs");
  s.n_t = std::uint64_t(r.attr_i64("/", "n_t"));
  s.dt = r.attr_f64("/", "dt");
  s.t0_sim = r.attr_f64("/", "t0_sim");
  return s;
}

// Shard-level attributes and dataset shapes; returns (shard, first_index, n_drawn, n_accepted).
struct ShardInfo {
  std::uint64_t shard, first_index, n_drawn, n_accepted;
};

ShardInfo read_shard_info(const H5Reader& r, const DatasetSettings& s) {
  ShardInfo info{std::uint64_t(r.attr_i64("/", "shard")), std::uint64_t(r.attr_i64("/", "first_index")),
                 std::uint64_t(r.attr_i64("/", "n_drawn")), std::uint64_t(r.attr_i64("/", "n_accepted"))};
  const std::uint64_t N = info.n_accepted;
  auto expect = [&](const char* name, const Dims& d) {
    if (!r.has(name)) throw H5Error(r.path() + ": missing dataset '" + std::string(name) + "'");
    if (r.shape(name) != d) {
      std::ostringstream os;
      os << r.path() << ": dataset '" << name << "' has shape (";
      for (auto x : r.shape(name)) os << x << ",";
      os << ") but the attributes imply (";
      for (auto x : d) os << x << ",";
      os << ")";
      throw H5Error(os.str());
    }
  };
  expect("theta_raw", {N, kThetaRawCols});
  expect("mag", {N, s.n_t});
  expect("chi2_dof", {N});
  expect("event_index", {N});
  expect("all_chi2_dof", {info.n_drawn});
  r.require_stored("mag");  // a sparse mag would read back as zeros
  if (info.shard >= s.num_shards)
    throw H5Error(r.path() + ": shard " + std::to_string(info.shard) + " out of range (num_shards " +
                  std::to_string(s.num_shards) + ")");
  if (info.first_index != info.shard * s.events_per_shard || N > info.n_drawn)
    throw H5Error(r.path() + ": inconsistent first_index / n_accepted attributes");
  return info;
}

bool is_shard_name(const std::string& name) {
  unsigned a = 0, b = 0;
  char tail[8] = {0};
  // shard_<digits>_of_<digits>.h5 and nothing after (temporary files end in .tmp-<pid>).
  return std::sscanf(name.c_str(), "shard_%u_of_%u.h%7s", &a, &b, tail) == 3 && std::string(tail) == "5" &&
         name == shard_file_name(a, b);
}

}  // namespace

std::string settings_mismatch(const DatasetSettings& a, const DatasetSettings& b) {
  if (a.prior != b.prior) return "prior ranges differ";
  if (a.seed != b.seed) return "seed differs (" + std::to_string(a.seed) + " vs " + std::to_string(b.seed) + ")";
  if (a.n_events != b.n_events) return "n_events differs";
  if (a.events_per_shard != b.events_per_shard) return "events_per_shard differs";
  if (a.num_shards != b.num_shards) return "num_shards differs";
  if (a.cut_mode != b.cut_mode) return "cut mode differs (" + a.cut_mode + " vs " + b.cut_mode + ")";
  if (a.cut_snr_base != b.cut_snr_base || a.cut_threshold != b.cut_threshold || a.cut_window_lo != b.cut_window_lo ||
      a.cut_window_hi != b.cut_window_hi)
    return "cut settings differ";
  if (a.finite_source != b.finite_source || a.fs_tol_rel != b.fs_tol_rel || a.fs_tol_abs != b.fs_tol_abs)
    return "finite-source settings differ";
  if (a.n_t != b.n_t || a.dt != b.dt || a.t0_sim != b.t0_sim) return "time grid differs";
  return "";
}

std::string shard_file_name(std::uint64_t shard, std::uint64_t num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "shard_%05llu_of_%05llu.h5", static_cast<unsigned long long>(shard),
                static_cast<unsigned long long>(num_shards));
  return buf;
}

void write_shard(const std::string& path, const DatasetSettings& s, const ShardData& d) {
  const std::size_t N = d.event_index.size();
  if (d.theta_raw.size() != N * kThetaRawCols || d.mag.size() != N * s.n_t || d.chi2_dof.size() != N ||
      d.all_chi2_dof.size() != d.n_drawn || N > d.n_drawn)
    throw std::invalid_argument("write_shard: inconsistent array sizes for " + path);
  if (s.prior.size() != kPriorFieldCount) throw std::invalid_argument("write_shard: prior must hold 18 values");
  H5Writer w(path);
  write_settings(w, s);
  w.attr("/", "shard", std::int64_t(d.shard));
  w.attr("/", "first_index", std::int64_t(d.first_index));
  w.attr("/", "n_drawn", std::int64_t(d.n_drawn));
  w.attr("/", "n_accepted", std::int64_t(N));
  w.write("theta_raw", d.theta_raw.data(), {N, kThetaRawCols});
  // One row per chunk: the training loader reads random rows.
  w.create_f32("mag", {N, s.n_t}, 1);
  if (N > 0) w.write_rows("mag", 0, N, d.mag.data());
  w.write("chi2_dof", d.chi2_dof.data(), {N});
  w.write("event_index", d.event_index.data(), {N});
  w.write("all_chi2_dof", d.all_chi2_dof.data(), {d.n_drawn});
  w.commit();
}

ShardStatus check_shard(const std::string& path, const DatasetSettings& expected, std::uint64_t shard,
                        std::string* why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ShardStatus::missing;
  try {
    H5Reader r(path);
    const DatasetSettings s = read_settings(r);
    const std::string mm = settings_mismatch(s, expected);
    if (!mm.empty()) {
      if (why) *why = path + ": " + mm + " from the requested run";
      return ShardStatus::mismatched;
    }
    const ShardInfo info = read_shard_info(r, s);
    if (info.shard != shard) {
      if (why) *why = path + ": holds shard " + std::to_string(info.shard) + ", expected " + std::to_string(shard);
      return ShardStatus::mismatched;
    }
    return ShardStatus::complete;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return ShardStatus::corrupt;
  }
}

Split split_of_event(std::int64_t event_index, const SplitOptions& opt) {
  const double u = core::unit_interval_closed_open(core::splitmix64(std::uint64_t(event_index) ^ opt.salt));
  if (u < opt.test_fraction) return Split::test;
  if (u < opt.test_fraction + (1.0 - opt.test_fraction) * opt.validation_fraction) return Split::validation;
  return Split::train;
}

std::vector<std::string> shard_files(const std::string& dir_or_file) {
  struct stat st;
  if (::stat(dir_or_file.c_str(), &st) != 0) throw H5Error(dir_or_file + ": no such file or directory");
  if (!S_ISDIR(st.st_mode)) return {dir_or_file};
  std::vector<std::string> files;
  DIR* d = ::opendir(dir_or_file.c_str());
  if (!d) throw H5Error(dir_or_file + ": cannot list the directory");
  while (dirent* e = ::readdir(d))
    if (is_shard_name(e->d_name)) files.push_back(dir_or_file + "/" + e->d_name);
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

DatasetReader::DatasetReader(const std::string& dir_or_file) {
  auto files = shard_files(dir_or_file);
  if (files.empty()) throw H5Error(dir_or_file + ": no shard_XXXXX_of_YYYYY.h5 files in the directory");
  open_all(std::move(files));
}

DatasetReader::DatasetReader(const std::vector<std::string>& files) {
  if (files.empty()) throw H5Error("DatasetReader: empty list of shard files");
  open_all(files);
}

void DatasetReader::open_all(std::vector<std::string> files) {
  std::sort(files.begin(), files.end());
  std::map<std::uint64_t, std::string> seen;
  for (const std::string& path : files) {
    auto r = std::make_unique<H5Reader>(path);
    const DatasetSettings s = read_settings(*r);
    if (files_.empty()) {
      settings_ = s;
    } else {
      const std::string mm = settings_mismatch(settings_, s);
      if (!mm.empty()) throw H5Error(path + ": incompatible with " + paths_.front() + ": " + mm);
    }
    const ShardInfo info = read_shard_info(*r, s);
    if (seen.count(info.shard))
      throw H5Error(path + ": shard " + std::to_string(info.shard) + " also in " + seen[info.shard]);
    seen[info.shard] = path;
    paths_.push_back(path);
    shard_ids_.push_back(info.shard);
    file_first_row_.push_back(size());
    const auto th = r->read_f64("theta_raw");
    const auto c2 = r->read_f64("chi2_dof");
    const auto ei = r->read_i64("event_index");
    const auto all = r->read_f64("all_chi2_dof");
    theta_raw_.insert(theta_raw_.end(), th.begin(), th.end());
    chi2_dof_.insert(chi2_dof_.end(), c2.begin(), c2.end());
    event_index_.insert(event_index_.end(), ei.begin(), ei.end());
    all_chi2_dof_.insert(all_chi2_dof_.end(), all.begin(), all.end());
    n_drawn_ += info.n_drawn;
    files_.push_back(std::move(r));
  }
}

std::vector<std::uint64_t> DatasetReader::missing_shards() const {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 0; i < settings_.num_shards; ++i)
    if (std::find(shard_ids_.begin(), shard_ids_.end(), i) == shard_ids_.end()) out.push_back(i);
  return out;
}

void DatasetReader::read_mag(std::size_t row, float* out) const { read_mag_rows(&row, 1, out); }

void DatasetReader::read_mag_rows(const std::size_t* rows, std::size_t n, float* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t row = rows[k];
    if (row >= size())
      throw std::out_of_range("DatasetReader: row " + std::to_string(row) + " >= N = " + std::to_string(size()));
    const std::size_t f = std::size_t(std::upper_bound(file_first_row_.begin(), file_first_row_.end(), row) -
                                      file_first_row_.begin()) - 1;
    const auto v = files_[f]->read_rows_f32("mag", row - file_first_row_[f], 1);
    std::copy(v.begin(), v.end(), out + k * n_t());
  }
}

std::vector<std::size_t> DatasetReader::split_rows(Split split, const SplitOptions& opt) const {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < size(); ++r)
    if (split_of_event(event_index_[r], opt) == split) rows.push_back(r);
  return rows;
}

}  // namespace lensflow::io
