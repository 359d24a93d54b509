// io/h5file.cpp — HDF5 C API behind io/h5file.hpp.
#include "io/h5file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>

namespace lensflow::io {
namespace {

// Set once HDF5 failed to close a file (an I/O error while writing its metadata). HDF5 1.10 then
// keeps a half-destroyed file object that its shutdown dereferences (SIGSEGV at exit), so the
// shutdown is skipped and the process's memory and descriptors go back to the OS as they are.
std::atomic<bool> g_close_failed{false};

extern "C" void shut_hdf5_down() {
  if (!g_close_failed.load()) H5close();
}

// Once per process, before any other HDF5 call: our exit handler instead of HDF5's, and no
// printed error stacks (errors are reported through exceptions).
void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (H5dont_atexit() >= 0) std::atexit(shut_hdf5_down);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

// H5Fclose, remembering a failure (see g_close_failed).
bool close_file(hid_t file) {
  if (H5Fclose(file) >= 0) return true;
  g_close_failed = true;
  return false;
}

// Closes an HDF5 handle on scope exit with the matching close function.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Handle() {
    if (id >= 0) close(id);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id; }
  // Closes now and reports the result (a dataset's close writes its cached chunks).
  herr_t close_now() {
    const herr_t r = id >= 0 ? close(id) : 0;
    id = -1;
    return r;
  }
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw H5Error(file + ": " + what);
}

hid_t check(hid_t id, const std::string& file, const std::string& what) {
  if (id < 0) fail(file, what);
  return id;
}

bool link_exists(hid_t file, const std::string& name) {
  // Walk the path one component at a time: H5Lexists fails on a missing intermediate group.
  std::size_t pos = 0;
  while (true) {
    pos = name.find('/', pos + 1);
    std::string part = name.substr(0, pos);
    if (!part.empty() && part != "/" && H5Lexists(file, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

template <class T> hid_t mem_type();
template <> hid_t mem_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t mem_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t mem_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t mem_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t mem_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }

std::uint64_t count(const Dims& d) {
  std::uint64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

// a * b, or false when it does not fit in 64 bits.
bool mul_fits(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

// Bytes that a dataset's values take once read into memory as T (H5Error when absurdly large).
template <class T>
std::size_t memory_bytes(const std::string& path, const std::string& name, std::uint64_t n) {
  std::uint64_t b = 0;
  if (!mul_fits(n, sizeof(T), b) || b > std::uint64_t(std::numeric_limits<std::ptrdiff_t>::max()))
    fail(path, "dataset '" + name + "' claims " + std::to_string(n) + " values, more than memory can hold");
  return std::size_t(b);
}

// The check behind H5Reader::require_stored for an open dataset.
void require_stored_ds(hid_t ds, const std::string& path, const std::string& name) {
  Handle space(check(H5Dget_space(ds), path, "unreadable dataspace of '" + name + "'"), H5Sclose);
  const hssize_t npoints = H5Sget_simple_extent_npoints(space);
  if (npoints < 0) fail(path, "unreadable extent of '" + name + "'");
  if (npoints == 0) return;
  Handle type(check(H5Dget_type(ds), path, "unreadable type of '" + name + "'"), H5Tclose);
  std::uint64_t claimed = 0;
  if (!mul_fits(std::uint64_t(npoints), H5Tget_size(type), claimed))
    fail(path, "dataset '" + name + "' claims more bytes than a file can hold");
  Handle dcpl(check(H5Dget_create_plist(ds), path, "unreadable properties of '" + name + "'"), H5Pclose);
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout == H5D_COMPACT) return;  // the values sit in the object header itself
  if (layout == H5D_VIRTUAL) fail(path, "dataset '" + name + "' is virtual (its data lives in other files)");
  if (H5Pget_external_count(dcpl) > 0) fail(path, "dataset '" + name + "' keeps its data in external files");
  const hsize_t stored = H5Dget_storage_size(ds);
  if (H5Pget_nfilters(dcpl) == 0) {
    if (stored < claimed)
      fail(path, "dataset '" + name + "' claims " + std::to_string(npoints) + " values (" +
                     std::to_string(claimed) + " bytes) but the file stores only " + std::to_string(stored) +
                     " bytes of them (sparse or unwritten dataset)");
    return;
  }
  // Compressed: the size says little, but every chunk must be there (a missing chunk would read
  // back as fill values).
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank), chunk(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (H5Pget_chunk(dcpl, rank, chunk.data()) != rank) fail(path, "unreadable chunking of '" + name + "'");
  hsize_t expected = 1;
  for (int i = 0; i < rank; ++i) expected *= (dims[i] + chunk[i] - 1) / chunk[i];
  hsize_t have = 0;
  if (H5Dget_num_chunks(ds, H5S_ALL, &have) < 0) fail(path, "cannot count the chunks of '" + name + "'");
  if (have < expected)
    fail(path, "dataset '" + name + "' has only " + std::to_string(have) + " of its " + std::to_string(expected) +
                   " chunks stored (sparse or unwritten dataset)");
}

template <class T>
void write_whole(hid_t file, const std::string& path, const std::string& name, const T* data, const Dims& shape) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), path,
                     "cannot create dataspace for " + name),
               H5Sclose);
  Handle ds(check(H5Dcreate2(file, name.c_str(), mem_type<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  path, "cannot create dataset '" + name + "' (exists already?)"),
            H5Dclose);
  if (count(shape) > 0 && H5Dwrite(ds, mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(path, "cannot write dataset '" + name + "' (disk full?)");
  if (ds.close_now() < 0) fail(path, "cannot write dataset '" + name + "' (disk full?)");
}

template <class T>
std::vector<T> read_whole(hid_t file, const std::string& path, const std::string& name) {
  if (!link_exists(file, name)) fail(path, "missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), path, "'" + name + "' is not a dataset"), H5Dclose);
  Handle space(check(H5Dget_space(ds), path, "unreadable dataspace of '" + name + "'"), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail(path, "unreadable extent of '" + name + "'");
  memory_bytes<T>(path, name, std::uint64_t(n));
  require_stored_ds(ds, path, name);
  std::vector<T> out(static_cast<std::size_t>(n));
  if (n > 0 && H5Dread(ds, mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail(path, "cannot read dataset '" + name + "' (truncated file or wrong type?)");
  return out;
}

template <class T>
std::vector<T> read_rows(hid_t file, const std::string& path, const std::string& name, std::uint64_t row0,
                         std::uint64_t nrows) {
  if (!link_exists(file, name)) fail(path, "missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), path, "'" + name + "' is not a dataset"), H5Dclose);
  Handle space(check(H5Dget_space(ds), path, "unreadable dataspace of '" + name + "'"), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 1) fail(path, "'" + name + "' has no rows");
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (row0 > dims[0] || nrows > dims[0] - row0)
    fail(path, "rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) + ") out of range for '" +
                   name + "' with " + std::to_string(dims[0]) + " rows");
  std::vector<hsize_t> start(rank, 0), cnt(dims);
  start[0] = row0;
  cnt[0] = nrows;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  std::uint64_t per_row = 1;
  for (int i = 1; i < rank; ++i) per_row *= dims[i];
  std::uint64_t total = 0;
  if (!mul_fits(nrows, per_row, total)) fail(path, "rows of '" + name + "' too large to read");
  memory_bytes<T>(path, name, total);
  std::vector<T> out(total);
  if (nrows > 0 && H5Dread(ds, mem_type<T>(), mspace, space, H5P_DEFAULT, out.data()) < 0)
    fail(path, "cannot read rows of '" + name + "' (truncated file?)");
  return out;
}

// Opens the object an attribute hangs on ("/" is the file's root group).
hid_t open_object(hid_t file, const std::string& path, const std::string& obj) {
  if (obj != "/" && !link_exists(file, obj)) fail(path, "missing object '" + obj + "'");
  return check(H5Oopen(file, obj.c_str(), H5P_DEFAULT), path, "cannot open object '" + obj + "'");
}

void write_attr(hid_t file, const std::string& path, const std::string& obj, const std::string& key, hid_t type,
                const void* data, hsize_t n, bool scalar) {
  Handle o(open_object(file, path, obj), H5Oclose);
  if (H5Aexists(o, key.c_str()) > 0) H5Adelete(o, key.c_str());
  Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle a(check(H5Acreate2(o, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), path,
                 "cannot create attribute '" + key + "' on '" + obj + "'"),
           H5Aclose);
  if (H5Awrite(a, type, data) < 0) fail(path, "cannot write attribute '" + key + "' on '" + obj + "'");
}

hid_t open_attr(hid_t file, const std::string& path, const std::string& obj, const std::string& key) {
  Handle o(open_object(file, path, obj), H5Oclose);
  if (H5Aexists(o, key.c_str()) <= 0) fail(path, "missing attribute '" + key + "' on '" + obj + "'");
  return check(H5Aopen(o, key.c_str(), H5P_DEFAULT), path, "cannot open attribute '" + key + "'");
}

template <class T>
std::vector<T> read_attr(hid_t file, const std::string& path, const std::string& obj, const std::string& key) {
  Handle a(open_attr(file, path, obj, key), H5Aclose);
  Handle space(H5Aget_space(a), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space);
  Handle type(H5Aget_type(a), H5Tclose);
  if (H5Tget_class(type) == H5T_STRING) fail(path, "attribute '" + key + "' on '" + obj + "' is a string, not a number");
  std::vector<T> out(static_cast<std::size_t>(n));
  if (H5Aread(a, mem_type<T>(), out.data()) < 0) fail(path, "cannot read attribute '" + key + "'");
  return out;
}

}  // namespace

H5Writer::H5Writer(const std::string& path) : path_(path), tmp_(path, core::SpecialFiles::refuse) {
  quiet_hdf5();
  file_ = H5Fcreate(tmp_.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0) fail(path, "cannot create file (directory missing or not writable?)");
}

H5Writer::~H5Writer() {
  if (file_ >= 0) abandon();
}

namespace {

// The descriptor of an open file of the default (sec2) driver, or -1.
int file_descriptor(hid_t file) {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || !handle) return -1;
  return *static_cast<int*>(handle);
}

// Slack for the metadata HDF5 writes on top of the data (object headers, chunk indexes).
constexpr std::uint64_t kMetadataSlack = 256 * 1024;

}  // namespace

void H5Writer::reserve(std::uint64_t bytes) {
  hsize_t size = 0;
  const int fd = file_descriptor(file_);
  if (fd < 0 || H5Fget_filesize(file_, &size) < 0) return;
  const std::uint64_t want = std::uint64_t(size) + bytes + kMetadataSlack;
  if (want <= reserved_) return;
  // KEEP_SIZE allocates blocks without changing the file's length, which HDF5 relies on.
  if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, off_t(want)) == 0) {
    reserved_ = want;
    return;
  }
  const int err = errno;
  if (err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) return;  // no fallocate here: unprotected
  abandon();
  fail(path_, "cannot write: " + std::string(std::strerror(err)) + "; nothing was replaced");
}

void H5Writer::abandon() {
  // The file is discarded: truncating it first frees its space, so the metadata HDF5 writes while
  // closing fits even on a full disk, and the close succeeds.
  const int fd = file_descriptor(file_);
  if (fd >= 0) static_cast<void>(::ftruncate(fd, 0) == 0);  // on failure less is freed; close anyway
  close_file(file_);
  file_ = -1;
  tmp_.discard();
}

std::int64_t H5Writer::ensure_parent(const std::string& name) {
  if (file_ < 0) fail(path_, "the file is already closed");
  // Create every missing group along the path.
  std::size_t pos = 0;
  while ((pos = name.find('/', pos + 1)) != std::string::npos) {
    std::string grp = name.substr(0, pos);
    if (grp.empty() || grp == "/") continue;
    if (H5Lexists(file_, grp.c_str(), H5P_DEFAULT) <= 0) {
      hid_t g = H5Gcreate2(file_, grp.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (g < 0) fail(path_, "cannot create group '" + grp + "'");
      H5Gclose(g);
    }
  }
  return file_;
}

template <class T>
void H5Writer::put_whole(const std::string& name, const T* data, const Dims& shape) {
  std::uint64_t bytes = 0;
  if (!mul_fits(count(shape), sizeof(T), bytes)) fail(path_, "dataset '" + name + "' is too large");
  ensure_parent(name);
  reserve(bytes);
  write_whole(file_, path_, name, data, shape);
}

void H5Writer::write(const std::string& n, const float* d, const Dims& s) { put_whole(n, d, s); }
void H5Writer::write(const std::string& n, const double* d, const Dims& s) { put_whole(n, d, s); }
void H5Writer::write(const std::string& n, const std::int64_t* d, const Dims& s) { put_whole(n, d, s); }
void H5Writer::write(const std::string& n, const std::int32_t* d, const Dims& s) { put_whole(n, d, s); }
void H5Writer::write(const std::string& n, const std::uint8_t* d, const Dims& s) { put_whole(n, d, s); }

template <class T>
void H5Writer::create_chunked(const std::string& name, const Dims& shape, std::uint64_t chunk_rows) {
  ensure_parent(name);
  std::vector<hsize_t> dims(shape.begin(), shape.end()), chunk(dims);
  if (dims.empty()) fail(path_, "dataset '" + name + "' needs at least one axis");
  chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(chunk_rows, std::max<hsize_t>(dims[0], 1)));
  for (std::size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(chunk[i], 1);
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (dims[0] > 0) H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
  Handle ds(check(H5Dcreate2(file_, name.c_str(), mem_type<T>(), space, H5P_DEFAULT, plist, H5P_DEFAULT), path_,
                  "cannot create dataset '" + name + "'"),
            H5Dclose);
}

void H5Writer::create_f32(const std::string& name, const Dims& shape, std::uint64_t chunk_rows) {
  create_chunked<float>(name, shape, chunk_rows);
}
void H5Writer::create_f64(const std::string& name, const Dims& shape, std::uint64_t chunk_rows) {
  create_chunked<double>(name, shape, chunk_rows);
}

template <class T>
void H5Writer::put_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const T* data) {
  if (file_ < 0) fail(path_, "the file is already closed");
  Handle ds(check(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), path_, "missing dataset '" + name + "'"), H5Dclose);
  Handle space(H5Dget_space(ds), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (row0 > dims[0] || nrows > dims[0] - row0) fail(path_, "rows out of range for '" + name + "'");
  std::vector<hsize_t> start(rank, 0), cnt(dims);
  start[0] = row0;
  cnt[0] = nrows;
  std::uint64_t n = 1;
  for (auto c : cnt) n *= c;
  reserve(n * sizeof(T));
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  if (nrows > 0 && H5Dwrite(ds, mem_type<T>(), mspace, space, H5P_DEFAULT, data) < 0)
    fail(path_, "cannot write rows of '" + name + "' (disk full?)");
  if (ds.close_now() < 0) fail(path_, "cannot write rows of '" + name + "' (disk full?)");
}

void H5Writer::write_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const float* data) {
  put_rows(name, row0, nrows, data);
}
void H5Writer::write_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const double* data) {
  put_rows(name, row0, nrows, data);
}

void H5Writer::attr(const std::string& obj, const std::string& key, double v) {
  ensure_parent(obj);
  write_attr(file_, path_, obj, key, H5T_NATIVE_DOUBLE, &v, 1, true);
}
void H5Writer::attr(const std::string& obj, const std::string& key, std::int64_t v) {
  ensure_parent(obj);
  write_attr(file_, path_, obj, key, H5T_NATIVE_INT64, &v, 1, true);
}
void H5Writer::attr(const std::string& obj, const std::string& key, const std::vector<double>& v) {
  ensure_parent(obj);
  write_attr(file_, path_, obj, key, H5T_NATIVE_DOUBLE, v.data(), v.size(), false);
}
void H5Writer::attr(const std::string& obj, const std::string& key, const std::string& v) {
  ensure_parent(obj);
  // Variable-length UTF-8 string: h5py reads it as str.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* p = v.c_str();
  write_attr(file_, path_, obj, key, type, &p, 1, true);
}

void H5Writer::close() {
  if (file_ < 0) fail(path_, "close() or commit() called twice");
  reserve(0);  // room for the metadata written while closing
  // No H5Fflush before: in HDF5 1.10 a failed flush leaves the cache unable to close.
  const bool ok = close_file(file_);
  file_ = -1;
  if (!ok) {
    tmp_.discard();
    fail(path_, "cannot finish writing (disk full?); nothing was replaced");
  }
  // Give back the blocks reserved past the end of the finished file.
  const int fd = ::open(tmp_.path().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && reserved_ > std::uint64_t(st.st_size))
      ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size, off_t(reserved_ - st.st_size));
    ::close(fd);
  }
}

void H5Writer::commit() {
  close();
  try {
    tmp_.commit();
  } catch (const core::OutputError& e) {
    throw H5Error(e.what());
  }
}

H5Reader::H5Reader(const std::string& path) : path_(path) {
  quiet_hdf5();
  if (::access(path.c_str(), R_OK) != 0) fail(path, "no such file or not readable");
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, "not an HDF5 file (foreign or truncated)");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) fail(path, "cannot open HDF5 file (truncated?)");
}

H5Reader::~H5Reader() {
  if (file_ >= 0) close_file(file_);
}

bool H5Reader::has(const std::string& name) const { return link_exists(file_, name); }

Dims H5Reader::shape(const std::string& name) const {
  if (!has(name)) fail(path_, "missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), path_, "'" + name + "' is not a dataset"), H5Dclose);
  Handle space(H5Dget_space(ds), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return Dims(dims.begin(), dims.end());
}

void H5Reader::require_stored(const std::string& name) const {
  if (!has(name)) fail(path_, "missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), path_, "'" + name + "' is not a dataset"), H5Dclose);
  require_stored_ds(ds, path_, name);
}

std::vector<float> H5Reader::read_f32(const std::string& n) const { return read_whole<float>(file_, path_, n); }
std::vector<double> H5Reader::read_f64(const std::string& n) const { return read_whole<double>(file_, path_, n); }
std::vector<std::int64_t> H5Reader::read_i64(const std::string& n) const { return read_whole<std::int64_t>(file_, path_, n); }
std::vector<float> H5Reader::read_rows_f32(const std::string& n, std::uint64_t r0, std::uint64_t nr) const {
  return read_rows<float>(file_, path_, n, r0, nr);
}
std::vector<double> H5Reader::read_rows_f64(const std::string& n, std::uint64_t r0, std::uint64_t nr) const {
  return read_rows<double>(file_, path_, n, r0, nr);
}

bool H5Reader::has_attr(const std::string& obj, const std::string& key) const {
  if (obj != "/" && !has(obj)) return false;
  Handle o(H5Oopen(file_, obj.c_str(), H5P_DEFAULT), H5Oclose);
  return o.id >= 0 && H5Aexists(o, key.c_str()) > 0;
}

double H5Reader::attr_f64(const std::string& obj, const std::string& key) const {
  auto v = read_attr<double>(file_, path_, obj, key);
  if (v.size() != 1) fail(path_, "attribute '" + key + "' on '" + obj + "' is not a scalar");
  return v[0];
}
std::int64_t H5Reader::attr_i64(const std::string& obj, const std::string& key) const {
  auto v = read_attr<std::int64_t>(file_, path_, obj, key);
  if (v.size() != 1) fail(path_, "attribute '" + key + "' on '" + obj + "' is not a scalar");
  return v[0];
}
std::vector<double> H5Reader::attr_f64s(const std::string& obj, const std::string& key) const {
  return read_attr<double>(file_, path_, obj, key);
}
std::string H5Reader::attr_str(const std::string& obj, const std::string& key) const {
  Handle a(open_attr(file_, path_, obj, key), H5Aclose);
  Handle type(H5Aget_type(a), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) fail(path_, "attribute '" + key + "' on '" + obj + "' is not a string");
  Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mtype, H5Tget_cset(type));  // HDF5 will not convert between ASCII and UTF-8
  if (H5Tis_variable_str(type) > 0) {
    H5Tset_size(mtype, H5T_VARIABLE);
    char* p = nullptr;
    if (H5Aread(a, mtype, &p) < 0) fail(path_, "cannot read attribute '" + key + "'");
    std::string s = p ? p : "";
    Handle space(H5Aget_space(a), H5Sclose);
    H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, &p);
    return s;
  }
  std::size_t n = H5Tget_size(type);
  H5Tset_size(mtype, n);
  std::string s(n, '\0');
  if (H5Aread(a, mtype, s.data()) < 0) fail(path_, "cannot read attribute '" + key + "'");
  s.resize(s.find('\0') == std::string::npos ? n : s.find('\0'));
  return s;
}

}  // namespace lensflow::io
