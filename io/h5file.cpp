// io/h5file.cpp — HDF5 C API behind io/h5file.hpp.
#include "io/h5file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace lensflow::io {
namespace {

// HDF5 prints its own error stack by default; we report errors through exceptions instead.
void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
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
}

template <class T>
std::vector<T> read_whole(hid_t file, const std::string& path, const std::string& name) {
  if (!link_exists(file, name)) fail(path, "missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), path, "'" + name + "' is not a dataset"), H5Dclose);
  Handle space(check(H5Dget_space(ds), path, "unreadable dataspace of '" + name + "'"), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail(path, "unreadable extent of '" + name + "'");
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
  if (row0 + nrows > dims[0])
    fail(path, "rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) + ") out of range for '" +
                   name + "' with " + std::to_string(dims[0]) + " rows");
  std::vector<hsize_t> start(rank, 0), cnt(dims);
  start[0] = row0;
  cnt[0] = nrows;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  std::uint64_t per_row = 1;
  for (int i = 1; i < rank; ++i) per_row *= dims[i];
  std::vector<T> out(nrows * per_row);
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

H5Writer::H5Writer(const std::string& path) : path_(path) {
  quiet_hdf5();
  tmp_ = path + ".tmp-" + std::to_string(::getpid());
  file_ = H5Fcreate(tmp_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0) fail(path, "cannot create file (directory missing or not writable?)");
}

H5Writer::~H5Writer() {
  if (file_ >= 0) {
    H5Fclose(file_);
    std::remove(tmp_.c_str());
  }
}

std::int64_t H5Writer::ensure_parent(const std::string& name) {
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

void H5Writer::write(const std::string& n, const float* d, const Dims& s) { write_whole(ensure_parent(n), path_, n, d, s); }
void H5Writer::write(const std::string& n, const double* d, const Dims& s) { write_whole(ensure_parent(n), path_, n, d, s); }
void H5Writer::write(const std::string& n, const std::int64_t* d, const Dims& s) { write_whole(ensure_parent(n), path_, n, d, s); }
void H5Writer::write(const std::string& n, const std::int32_t* d, const Dims& s) { write_whole(ensure_parent(n), path_, n, d, s); }
void H5Writer::write(const std::string& n, const std::uint8_t* d, const Dims& s) { write_whole(ensure_parent(n), path_, n, d, s); }

void H5Writer::create_f32(const std::string& name, const Dims& shape, std::uint64_t chunk_rows) {
  ensure_parent(name);
  std::vector<hsize_t> dims(shape.begin(), shape.end()), chunk(dims);
  if (dims.empty()) fail(path_, "dataset '" + name + "' needs at least one axis");
  chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(chunk_rows, std::max<hsize_t>(dims[0], 1)));
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (dims[0] > 0) H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
  Handle ds(check(H5Dcreate2(file_, name.c_str(), H5T_NATIVE_FLOAT, space, H5P_DEFAULT, plist, H5P_DEFAULT), path_,
                  "cannot create dataset '" + name + "'"),
            H5Dclose);
}

void H5Writer::write_rows(const std::string& name, std::uint64_t row0, std::uint64_t nrows, const float* data) {
  Handle ds(check(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), path_, "missing dataset '" + name + "'"), H5Dclose);
  Handle space(H5Dget_space(ds), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (row0 + nrows > dims[0]) fail(path_, "rows out of range for '" + name + "'");
  std::vector<hsize_t> start(rank, 0), cnt(dims);
  start[0] = row0;
  cnt[0] = nrows;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  if (nrows > 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, mspace, space, H5P_DEFAULT, data) < 0)
    fail(path_, "cannot write rows of '" + name + "' (disk full?)");
}

void H5Writer::attr(const std::string& obj, const std::string& key, double v) {
  write_attr(file_, path_, obj, key, H5T_NATIVE_DOUBLE, &v, 1, true);
}
void H5Writer::attr(const std::string& obj, const std::string& key, std::int64_t v) {
  write_attr(file_, path_, obj, key, H5T_NATIVE_INT64, &v, 1, true);
}
void H5Writer::attr(const std::string& obj, const std::string& key, const std::vector<double>& v) {
  write_attr(file_, path_, obj, key, H5T_NATIVE_DOUBLE, v.data(), v.size(), false);
}
void H5Writer::attr(const std::string& obj, const std::string& key, const std::string& v) {
  // Variable-length UTF-8 string: h5py reads it as str.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* p = v.c_str();
  write_attr(file_, path_, obj, key, type, &p, 1, true);
}

void H5Writer::commit() {
  if (file_ < 0) fail(path_, "commit() called twice");
  bool ok = H5Fflush(file_, H5F_SCOPE_GLOBAL) >= 0;
  ok = H5Fclose(file_) >= 0 && ok;
  file_ = -1;
  if (ok) {
    int fd = ::open(tmp_.c_str(), O_RDONLY);
    ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
  }
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_.c_str());
    fail(path_, "cannot finish writing (disk full or directory not writable?); nothing was replaced");
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
  if (file_ >= 0) H5Fclose(file_);
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
