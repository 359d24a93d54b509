// Dataset shards: round trip through the reader and through h5py; split membership; resume
// statuses; clear errors for foreign, truncated, mismatched and duplicate files.
#include "io/dataset.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace lensflow::io;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(LENSFLOW_BINARY_DIR) / "test_tmp" / ("dataset_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

DatasetSettings settings() {
  DatasetSettings s;
  s.prior = {0.2, 5, 1e-6, 1, 0, 360, 0, 2, 0, 72, 1, 100, 1.15, 0.45, 1e-4, 1e-2, 0.1, 1};
  s.seed = 9;
  s.n_events = 10;
  s.events_per_shard = 5;
  s.num_shards = 2;
  s.n_t = 16;
  s.dt = 9.0;
  s.lensflow_version = "test";
  return s;
}

// Shard with n_acc accepted rows whose values encode (shard, row, column).
ShardData shard(std::uint64_t i, std::size_t n_acc, std::size_t n_t) {
  ShardData d;
  d.shard = i;
  d.first_index = i * 5;
  d.n_drawn = 5;
  for (std::size_t r = 0; r < n_acc; ++r) {
    for (std::size_t c = 0; c < kThetaRawCols; ++c) d.theta_raw.push_back(100.0 * i + 10.0 * r + c);
    for (std::size_t t = 0; t < n_t; ++t) d.mag.push_back(float(1000 * i + 100 * r + t) + 0.5f);
    d.chi2_dof.push_back(1.0 + r);
    d.event_index.push_back(std::int64_t(d.first_index + 2 * r));
  }
  for (std::size_t k = 0; k < 5; ++k) d.all_chi2_dof.push_back(0.25 * k);
  return d;
}

}  // namespace

TEST(Dataset, RoundTripThroughTheReader) {
  const auto dir = fresh_dir("roundtrip");
  const auto s = settings();
  write_shard((dir / shard_file_name(1, 2)).string(), s, shard(1, 2, s.n_t));
  write_shard((dir / shard_file_name(0, 2)).string(), s, shard(0, 3, s.n_t));
  std::ofstream(dir / "shard_00000_of_00002.h5.tmp-999") << "leftover";  // ignored
  DatasetReader r(dir.string());
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r.n_t(), 16u);
  EXPECT_EQ(r.n_drawn(), 10u);
  EXPECT_TRUE(r.missing_shards().empty());
  EXPECT_EQ(r.settings().seed, 9u);
  EXPECT_EQ(r.theta_raw(0)[3], 3.0);     // shard 0 row 0 column 3
  EXPECT_EQ(r.theta_raw(4)[2], 112.0);   // shard 1 row 1 column 2
  EXPECT_EQ(r.event_index(3), 5);
  EXPECT_EQ(r.chi2_dof(4), 2.0);
  std::vector<float> m(2 * 16);
  const std::size_t rows[2] = {4, 1};
  r.read_mag_rows(rows, 2, m.data());
  EXPECT_EQ(m[7], 1107.5f);
  EXPECT_EQ(m[16 + 15], 115.5f);
  EXPECT_THROW(r.read_mag(5, m.data()), std::out_of_range);
  EXPECT_EQ(r.all_chi2_dof().size(), 10u);
}

TEST(Dataset, ReadableByH5py) {
  const auto dir = fresh_dir("h5py");
  const auto s = settings();
  const auto path = (dir / shard_file_name(0, 2)).string();
  write_shard(path, s, shard(0, 3, s.n_t));
  const std::string cmd =
      "python3 -c \"import h5py,sys; f=h5py.File('" + path +
      "','r'); "
      "ok = f['mag'].shape==(3,16) and f['mag'].dtype=='float32' and f['theta_raw'][2,4]==24.0 and "
      "f['event_index'][1]==2 and f.attrs['seed']==9 and f.attrs['cut_mode']=='paper' and "
      "len(f.attrs['prior'])==18 and f['all_chi2_dof'].shape==(5,) and f['mag'][1,3]==103.5; "
      "sys.exit(0 if ok else 1)\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(Dataset, EmptyShardIsValid) {
  const auto dir = fresh_dir("empty");
  const auto s = settings();
  write_shard((dir / shard_file_name(0, 2)).string(), s, shard(0, 0, s.n_t));
  DatasetReader r(dir.string());
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.missing_shards(), std::vector<std::uint64_t>{1});
}

TEST(Dataset, CheckShardStatuses) {
  const auto dir = fresh_dir("status");
  const auto s = settings();
  const auto p0 = (dir / shard_file_name(0, 2)).string();
  EXPECT_EQ(check_shard(p0, s, 0), ShardStatus::missing);
  write_shard(p0, s, shard(0, 2, s.n_t));
  EXPECT_EQ(check_shard(p0, s, 0), ShardStatus::complete);
  std::string why;
  EXPECT_EQ(check_shard(p0, s, 1, &why), ShardStatus::mismatched);
  auto other = s;
  other.seed = 10;
  EXPECT_EQ(check_shard(p0, other, 0, &why), ShardStatus::mismatched);
  EXPECT_NE(why.find("seed"), std::string::npos) << why;
  // Truncate the file: corrupt.
  fs::resize_file(p0, fs::file_size(p0) / 2);
  EXPECT_EQ(check_shard(p0, s, 0, &why), ShardStatus::corrupt);
  EXPECT_NE(why.find(p0), std::string::npos) << why;
}

TEST(Dataset, ClearErrorsForBadFiles) {
  const auto dir = fresh_dir("errors");
  const auto s = settings();
  const auto p0 = (dir / shard_file_name(0, 2)).string(), p1 = (dir / shard_file_name(1, 2)).string();
  write_shard(p0, s, shard(0, 2, s.n_t));
  auto other = s;
  other.cut_mode = "fit";
  write_shard(p1, other, shard(1, 2, s.n_t));
  try {
    DatasetReader r(dir.string());
    FAIL() << "mixed settings accepted";
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find(p1), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cut mode"), std::string::npos) << e.what();
  }
  // Duplicate shard number.
  const auto p2 = (dir / "copy.h5").string();
  fs::copy_file(p0, p2);
  EXPECT_THROW(DatasetReader(std::vector<std::string>{p0, p2}), H5Error);
  // A foreign HDF5 file and a non-HDF5 file.
  {
    H5Writer w((dir / "foreign.h5").string());
    const double x = 1;
    w.write("x", &x, {1});
    w.commit();
  }
  try {
    DatasetReader r((dir / "foreign.h5").string());
    FAIL();
  } catch (const H5Error& e) {
    EXPECT_NE(std::string(e.what()).find("foreign.h5"), std::string::npos);
  }
  std::ofstream(dir / "text.h5") << "not hdf5";
  EXPECT_THROW(DatasetReader((dir / "text.h5").string()), H5Error);
  EXPECT_THROW(DatasetReader((dir / "nope").string()), H5Error);
  // Inconsistent sizes are refused before anything is written.
  auto bad = shard(0, 2, s.n_t);
  bad.mag.pop_back();
  EXPECT_THROW(write_shard((dir / "bad.h5").string(), s, bad), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
}

TEST(Dataset, SplitIsDeterministicWithTheRequestedFractions) {
  SplitOptions opt;
  const int n = 100000;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i) counts[int(split_of_event(i, opt))]++;
  EXPECT_NEAR(counts[2] / double(n), 0.05, 4 * std::sqrt(0.05 * 0.95 / n));
  EXPECT_NEAR(counts[1] / double(n), 0.095, 4 * std::sqrt(0.095 * 0.905 / n));
  EXPECT_EQ(split_of_event(12345, opt), split_of_event(12345, opt));
  // Test membership does not depend on the validation fraction.
  SplitOptions nov = opt;
  nov.validation_fraction = 0.0;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(split_of_event(i, opt) == Split::test, split_of_event(i, nov) == Split::test);
}
