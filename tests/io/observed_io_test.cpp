// Readers of user light curves: .npy fixtures written by NumPy itself (tests/data/observed/
// make_observed.py: flux[e, j] = 1000 + 10 e + 0.5 j), .h5 and .csv written here; and their errors.
#include "io/observed_io.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "io/h5file.hpp"
#include "sim/realization.hpp"

using namespace lensflow::io;

namespace {

const std::string kData = std::string(LENSFLOW_TEST_DATA) + "/observed/";
constexpr int64_t L = kObservedLength;

double expected(int64_t e, int64_t j) { return 1000.0 + 10.0 * e + 0.5 * j; }

std::string tmp(const std::string& name) {
  return "/tmp/lensflow_observed_" + std::to_string(getpid()) + "_" + name;
}

// Error message of read_observed (empty when it does not throw).
std::string error_of(const std::string& path, NanPolicy p = NanPolicy::error) {
  try {
    read_observed(path, p);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

void write_csv_rows(const std::string& path, const std::vector<std::vector<std::string>>& rows,
                    const std::string& header = "") {
  std::ofstream f(path);
  if (!header.empty()) f << header << "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) f << (i ? "," : "") << r[i];
    f << "\n";
  }
}

std::vector<std::string> curve_fields(int64_t e, int64_t n = L) {
  std::vector<std::string> r;
  for (int64_t j = 0; j < n; ++j) r.push_back(std::to_string(expected(e, j)));
  return r;
}

}  // namespace

TEST(ObservedNpy, Float32CAndFloat64FortranReadTheSameValues) {
  for (const char* name : {"flux_f4_2x7200.npy", "flux_f8_fortran_2x7200.npy"}) {
    const ObservedSet s = read_observed(kData + name);
    ASSERT_EQ(s.n_events, 2) << name;
    ASSERT_EQ(s.flux.size(), size_t(2 * L));
    for (int64_t e = 0; e < 2; ++e)
      for (int64_t j : {int64_t(0), int64_t(1), int64_t(3599), L - 1})
        EXPECT_EQ(s.flux[e * L + j], expected(e, j)) << name << " e=" << e << " j=" << j;
    EXPECT_EQ(s.t_start, std::vector<double>(2, 0.0));
  }
  const ObservedSet one = read_observed(kData + "flux_i8_7200.npy");
  ASSERT_EQ(one.n_events, 1);
  EXPECT_EQ(one.flux[3], std::floor(expected(1, 3)));
}

TEST(ObservedNpy, WrongLengthAndForeignFilesAreRefused) {
  EXPECT_NE(error_of(kData + "flux_f8_2x10.npy").find("[2, 10]"), std::string::npos);
  const std::string foreign = tmp("foreign.npy");
  std::ofstream(foreign) << "this is not numpy";
  EXPECT_NE(error_of(foreign).find("not a NumPy"), std::string::npos);
  // Truncated data: the header of a [2, 7200] file followed by too few bytes.
  std::ifstream src(kData + "flux_f4_2x7200.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(src)), {});
  const std::string trunc = tmp("trunc.npy");
  std::ofstream(trunc, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(error_of(trunc).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(tmp("missing.npy")).find("cannot open"), std::string::npos);
  EXPECT_NE(error_of(tmp("x.fits")).find("unknown extension"), std::string::npos);
  std::remove(foreign.c_str());
  std::remove(trunc.c_str());
}

TEST(ObservedCsv, RowsColumnHeaderAndNanTreatment) {
  const std::string rows = tmp("rows.csv");
  write_csv_rows(rows, {curve_fields(0), curve_fields(1)}, "# comment line");
  ObservedSet s = read_observed(rows);
  ASSERT_EQ(s.n_events, 2);
  EXPECT_DOUBLE_EQ(s.flux[L + 7], expected(1, 7));

  // One column with a header line.
  const std::string col = tmp("col.csv");
  {
    std::ofstream f(col);
    f << "flux\n";
    for (int64_t j = 0; j < L; ++j) f << expected(0, j) << "\n";
  }
  s = read_observed(col);
  ASSERT_EQ(s.n_events, 1);
  EXPECT_DOUBLE_EQ(s.flux[L - 1], expected(0, L - 1));

  // NaN gaps: refused by default, kept and counted on request; the preprocessing then fills them
  // by linear interpolation of ln x (edges: the nearest valid value).
  auto f = curve_fields(0);
  f[0] = "nan";
  f[10] = "";
  f[11] = "NaN";
  const std::string gaps = tmp("gaps.csv");
  write_csv_rows(gaps, {f});
  const std::string err = error_of(gaps);
  EXPECT_NE(err.find("3 NaN"), std::string::npos) << err;
  EXPECT_NE(err.find("point 0"), std::string::npos) << err;
  s = read_observed(gaps, NanPolicy::interpolate);
  EXPECT_EQ(s.n_missing.at(0), 3);
  EXPECT_TRUE(std::isnan(s.flux[10]));
  std::vector<float> x(s.flux.begin(), s.flux.end()), y(L);
  lensflow::sim::preprocess_lightcurve(x.data(), L, y.data());
  for (int64_t j = 0; j < L; ++j) ASSERT_TRUE(std::isfinite(y[j])) << j;
  EXPECT_FLOAT_EQ(y[0], y[1]);  // leading gap: held at the first valid value

  // Wrong length, non-numeric data, infinities, all-NaN.
  const std::string shortf = tmp("short.csv");
  write_csv_rows(shortf, {curve_fields(0, 7199), curve_fields(0, 7199)});
  EXPECT_NE(error_of(shortf).find("7199"), std::string::npos);
  const std::string bad = tmp("bad.csv");
  auto b = curve_fields(0);
  b[5] = "abc";
  write_csv_rows(bad, {curve_fields(0), b});
  EXPECT_NE(error_of(bad).find("non-numeric"), std::string::npos);
  auto inf = curve_fields(0);
  inf[3] = "inf";
  write_csv_rows(bad, {inf});
  EXPECT_NE(error_of(bad, NanPolicy::interpolate).find("infinite"), std::string::npos);
  write_csv_rows(bad, {std::vector<std::string>(L, "nan")});
  EXPECT_NE(error_of(bad, NanPolicy::interpolate).find("no finite"), std::string::npos);
  for (const auto& p : {rows, col, gaps, shortf, bad}) std::remove(p.c_str());
}

TEST(ObservedH5, FluxWithTimeGridAndErrors) {
  std::vector<double> flux(2 * L), time(L);
  for (int64_t e = 0; e < 2; ++e)
    for (int64_t j = 0; j < L; ++j) flux[e * L + j] = expected(e, j);
  for (int64_t j = 0; j < L; ++j) time[j] = 2460000.5 + 0.01 * j;
  const std::string good = tmp("good.h5");
  {
    lensflow::io::H5Writer w(good);
    w.write("flux", flux.data(), {2, uint64_t(L)});
    w.write("time", time.data(), {uint64_t(L)});
    w.commit();
  }
  const ObservedSet s = read_observed(good);
  ASSERT_EQ(s.n_events, 2);
  EXPECT_EQ(s.flux, flux);
  EXPECT_DOUBLE_EQ(s.t_start[1], 2460000.5);

  // A 0.02-day grid is refused (not resampled).
  for (int64_t j = 0; j < L; ++j) time[j] = 0.02 * j;
  const std::string grid = tmp("grid.h5");
  {
    lensflow::io::H5Writer w(grid);
    w.write("flux", flux.data(), {2, uint64_t(L)});
    w.write("time", time.data(), {uint64_t(L)});
    w.commit();
  }
  EXPECT_NE(error_of(grid).find("0.01-day grid"), std::string::npos);
  // A foreign HDF5 file (no 'flux') and a non-HDF5 file with an .h5 name.
  const std::string foreign = tmp("foreign.h5");
  {
    lensflow::io::H5Writer w(foreign);
    w.write("something", flux.data(), {2, uint64_t(L)});
    w.commit();
  }
  EXPECT_NE(error_of(foreign).find("no dataset 'flux'"), std::string::npos);
  const std::string text = tmp("text.h5");
  std::ofstream(text) << "not hdf5";
  EXPECT_NE(error_of(text).find("cannot read as HDF5"), std::string::npos);
  for (const auto& p : {good, grid, foreign, text}) std::remove(p.c_str());
  EXPECT_THROW(parse_nan_policy("drop"), std::invalid_argument);
}
