// io/h5file.hpp — small HDF5 wrapper for lensflow's files (datasets, checkpoints, posterior
// samples). Files stay plain HDF5 so h5py reads them without lensflow.
//
// Writing is atomic (core/atomic_file.hpp): H5Writer writes a uniquely named temporary file beside
// <path> and commit() closes, fsyncs and renames it onto <path>; a writer destroyed without
// commit() removes its temporary file, so a crash or a full disk never leaves a half-written file
// under the final name. Disk space is reserved (fallocate) before every write and before the
// close, so a full disk is reported as an H5Error before HDF5 itself meets it: HDF5 1.10 cannot
// recover from a failed metadata write (the file stays half closed and the library crashes at
// exit), so it must never see one.
// Reading checks that the file exists, is HDF5, and holds the named objects with the expected
// types and shapes, and that a dataset's claimed size is really stored in the file before
// allocating memory for it (a tiny file claiming a huge sparse dataset is refused); every failure
// is an H5Error whose message names the file and the object.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"

namespace lensflow::io {

using Dims = std::vector<std::uint64_t>;

struct H5Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class H5Writer {
 public:
  // Creates the temporary file next to `path` (same directory, so the rename is atomic). `path`
  // must be (or become) a regular file: a device, FIFO or directory there is refused.
  explicit H5Writer(const std::string& path);
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // Whole datasets. `name` may contain groups ("model/layer0/W"); missing groups are created.
  void write(const std::string& name, const float* data, const Dims& shape);
  void write(const std::string& name, const double* data, const Dims& shape);
  void write(const std::string& name, const std::int64_t* data, const Dims& shape);
  void write(const std::string& name, const std::int32_t* data, const Dims& shape);
  void write(const std::string& name, const std::uint8_t* data, const Dims& shape);

  // Large arrays written in pieces: create once (chunked along the first axis, gzip-free for
  // speed), then fill rows [row0, row0 + nrows) in any order.
  void create_f32(const std::string& name, const Dims& shape, std::uint64_t chunk_rows);
  void create_f64(const std::string& name, const Dims& shape, std::uint64_t chunk_rows);
  void write_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const float* data);
  void write_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const double* data);

  // Attributes on "/" (the file), a group or a dataset.
  void attr(const std::string& obj, const std::string& key, double value);
  void attr(const std::string& obj, const std::string& key, std::int64_t value);
  void attr(const std::string& obj, const std::string& key, const std::string& value);
  void attr(const std::string& obj, const std::string& key, const std::vector<double>& value);

  // Finishes the HDF5 file (flush and close) without renaming it: commit it later with file()
  // (alone or with other outputs through commit_all). Throws H5Error (the temp file is removed).
  void close();
  // close(), then fsync and rename onto the final path. Throws H5Error (the temp file is removed).
  void commit();
  const std::string& path() const { return path_; }
  core::AtomicFile& file() { return tmp_; }

 private:
  std::int64_t ensure_parent(const std::string& name);
  void reserve(std::uint64_t bytes);  // disk space for `bytes` more (H5Error when the disk is full)
  void abandon();                     // closes the file after a failure, releasing its disk space
  template <class T>
  void create_chunked(const std::string& name, const Dims& shape, std::uint64_t chunk_rows);
  template <class T>
  void put_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const T* data);
  template <class T>
  void put_whole(const std::string& name, const T* data, const Dims& shape);
  std::string path_;
  core::AtomicFile tmp_;
  std::int64_t file_ = -1;
  std::uint64_t reserved_ = 0;  // bytes from offset 0 known to be allocated on disk
};

class H5Reader {
 public:
  explicit H5Reader(const std::string& path);
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  bool has(const std::string& name) const;  // dataset or group
  Dims shape(const std::string& name) const;
  // Throws unless every byte dataset `name` claims is stored in the file (not sparse, external or
  // virtual). The whole-dataset reads check this themselves; row readers call it once.
  void require_stored(const std::string& name) const;

  // Whole datasets, converted to the requested type by HDF5 (any numeric storage type).
  std::vector<float> read_f32(const std::string& name) const;
  std::vector<double> read_f64(const std::string& name) const;
  std::vector<std::int64_t> read_i64(const std::string& name) const;
  // Rows [row0, row0 + nrows) along the first axis.
  std::vector<float> read_rows_f32(const std::string& name, std::uint64_t row0, std::uint64_t nrows) const;
  std::vector<double> read_rows_f64(const std::string& name, std::uint64_t row0, std::uint64_t nrows) const;

  bool has_attr(const std::string& obj, const std::string& key) const;
  double attr_f64(const std::string& obj, const std::string& key) const;
  std::int64_t attr_i64(const std::string& obj, const std::string& key) const;
  std::string attr_str(const std::string& obj, const std::string& key) const;
  std::vector<double> attr_f64s(const std::string& obj, const std::string& key) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::int64_t file_ = -1;
};

}  // namespace lensflow::io
