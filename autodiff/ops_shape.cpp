// autodiff/ops_shape.cpp — slice, concat, index_select, transpose and reshape shorthands.
#include <cstring>
#include <memory>

#include "autodiff/dispatch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/device.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/index.hpp"

namespace lensflow::ad {

namespace {

// dst[o, dst_off + j, :] = src[o, src_off + j, :] for j < count, along `axis`.
void copy_block(const Tensor& src, Tensor& dst, int axis, int64_t src_off, int64_t dst_off,
                int64_t count) {
  const int64_t outer = prod(src.shape(), 0, axis), inner = prod(src.shape(), axis + 1, src.ndim());
  const int64_t ns = src.dim(axis), nd = dst.dim(axis);
  on_device(src, [&] {
    kernels::copy_block_cuda(src.data<float>(), dst.data<float>(), outer, ns, nd, inner,
                             src_off, dst_off, count);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::copy_block_cpu<T>(src.data<T>(), dst.data<T>(), outer, ns, nd, inner, src_off,
                               dst_off, count);
  });
}

// Indices on the tensor's device for the gather kernels. The device copy is queued without a
// synchronization, and the forward's copy is kept for the backward (one upload per op).
struct Indices {
  Indices(const std::vector<int64_t>& idx, Device device) : host(idx), dev(device) {
    if (dev == Device::CUDA && !idx.empty()) {
      ptr = kernels::device_alloc(idx.size() * sizeof(int64_t));
      kernels::copy_host_to_device_async(ptr, idx.data(), idx.size() * sizeof(int64_t));
    }
  }
  ~Indices() {
    for (void* p : {ptr, rows_ptr})
      if (p) kernels::device_free(p);
  }
  Indices(const Indices&) = delete;
  Indices& operator=(const Indices&) = delete;
  const int64_t* get() const {
    return dev == Device::CUDA ? static_cast<const int64_t*>(ptr) : host.data();
  }
  // For the CUDA backward (kernels::gather_sum_axis_cuda), on the device: offsets (n + 1) then
  // cols (m), the positions j of each row r in increasing j (a counting sort, built on first use).
  const int64_t* device_rows_of(int64_t n) const {
    if (!rows_ptr) {
      std::vector<int64_t> csr(size_t(n) + 1 + host.size(), 0);
      int64_t* off = csr.data();
      int64_t* cols = off + n + 1;
      for (int64_t r : host) ++off[r + 1];
      for (int64_t r = 0; r < n; ++r) off[r + 1] += off[r];
      std::vector<int64_t> next(off, off + n);
      for (size_t j = 0; j < host.size(); ++j) cols[next[size_t(host[j])]++] = int64_t(j);
      rows_ptr = kernels::device_alloc(csr.size() * sizeof(int64_t));
      kernels::copy_host_to_device_async(rows_ptr, csr.data(), csr.size() * sizeof(int64_t));
    }
    return static_cast<const int64_t*>(rows_ptr);
  }
  std::vector<int64_t> host;
  Device dev;
  void* ptr = nullptr;
  mutable void* rows_ptr = nullptr;
};

}  // namespace

Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end) {
  check_same("slice", {&a});
  const int ax = normalize_axis("slice", axis, a.ndim());
  if (start < 0 || end < start || end > a.dim(ax))
    shape_error("slice", "range [" + std::to_string(start) + ", " + std::to_string(end) +
                             ") out of bounds on axis " + std::to_string(axis), {&a});
  Shape out = a.shape();
  out[size_t(ax)] = end - start;
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  copy_block(a, y, ax, start, 0, end - start);
  const Shape from = a.shape();
  return record(y, "slice", {a}, [=](const Tensor& g) {
    Tensor gx = Tensor::zeros(from, g.dtype(), g.device());
    copy_block(g, gx, ax, 0, start, end - start);
    return std::vector<Tensor>{gx};
  });
}

Tensor concat(const std::vector<Tensor>& ts, int axis) {
  if (ts.empty()) throw std::invalid_argument("concat: no tensors");
  const int ax = normalize_axis("concat", axis, ts[0].defined() ? ts[0].ndim() : 1);
  Shape out = ts[0].shape();
  int64_t total = 0;
  for (const Tensor& t : ts) {
    check_same("concat", {&ts[0], &t});
    Shape a = t.shape(), b = ts[0].shape();
    if (a.size() != b.size()) shape_error("concat", "different ranks", {&ts[0], &t});
    a[size_t(ax)] = b[size_t(ax)] = 0;
    if (a != b) shape_error("concat", "shapes differ off the concat axis", {&ts[0], &t});
    total += t.dim(ax);
  }
  out[size_t(ax)] = total;
  Tensor y = Tensor::empty(out, ts[0].dtype(), ts[0].device());
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (const Tensor& t : ts) {
    copy_block(t, y, ax, 0, off, t.dim(ax));
    offsets.push_back(off);
    off += t.dim(ax);
  }
  std::vector<int64_t> sizes;
  for (const Tensor& t : ts) sizes.push_back(t.dim(ax));
  return record(y, "concat", ts, [=](const Tensor& g) {
    std::vector<Tensor> gs;
    for (size_t i = 0; i < sizes.size(); ++i)
      gs.push_back(slice(g, ax, offsets[i], offsets[i] + sizes[i]));
    return gs;
  });
}

Tensor index_select(const Tensor& a, int axis, const std::vector<int64_t>& idx) {
  check_same("index_select", {&a});
  const int ax = normalize_axis("index_select", axis, a.ndim());
  const int64_t n = a.dim(ax), m = int64_t(idx.size());
  for (int64_t i : idx)
    if (i < 0 || i >= n)
      shape_error("index_select", "index " + std::to_string(i) + " out of range on axis " +
                                      std::to_string(axis), {&a});
  const int64_t outer = prod(a.shape(), 0, ax), inner = prod(a.shape(), ax + 1, a.ndim());
  Shape out = a.shape();
  out[size_t(ax)] = m;
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  const auto ix = std::make_shared<const Indices>(idx, a.device());
  on_device(a, [&] {
    kernels::gather_axis_cuda(a.data<float>(), y.data<float>(), ix->get(), outer, n, m,
                              inner);
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::gather_axis_cpu<T>(a.data<T>(), y.data<T>(), ix->get(), outer, n, m, inner);
  });
  const Shape from = a.shape();
  return record(y, "index_select", {a}, [=](const Tensor& g) {
    Tensor gx;
    on_device(g, [&] {  // a gather per target row: no atomics, the CPU's sums
      gx = Tensor::empty(from, g.dtype(), g.device());
      kernels::gather_sum_axis_cuda(g.data<float>(), gx.data<float>(), ix->device_rows_of(n),
                                    ix->device_rows_of(n) + n + 1, outer, n, m, inner);
    }, [&](auto tag) {
      using T = decltype(tag);
      gx = Tensor::zeros(from, g.dtype(), g.device());
      kernels::scatter_add_axis_cpu<T>(g.data<T>(), gx.data<T>(), ix->get(), outer, n, m, inner);
    });
    return std::vector<Tensor>{gx};
  });
}

Tensor transpose(const Tensor& a, int d0, int d1) {
  check_same("transpose", {&a});
  const int n = a.ndim();
  const int x0 = normalize_axis("transpose", d0, n), x1 = normalize_axis("transpose", d1, n);
  if (n > kernels::kMaxDims) shape_error("transpose", "more than 8 dims", {&a});
  if (x0 == x1) return a;
  std::vector<int64_t> strides(size_t(n), 1);
  for (int k = n - 2; k >= 0; --k) strides[size_t(k)] = strides[size_t(k + 1)] * a.dim(k + 1);
  Shape out = a.shape();
  std::swap(out[size_t(x0)], out[size_t(x1)]);
  std::swap(strides[size_t(x0)], strides[size_t(x1)]);
  kernels::StridedIndex ix;
  ix.ndim = n;
  for (int k = 0; k < n; ++k) {
    ix.shape[k] = out[size_t(k)];
    ix.stride[k] = strides[size_t(k)];
  }
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  on_device(a, [&] {
    kernels::strided_copy_cuda(a.data<float>(), y.data<float>(), ix, y.numel());
  }, [&](auto tag) {
    using T = decltype(tag);
    kernels::strided_copy_cpu<T>(a.data<T>(), y.data<T>(), ix, y.numel());
  });
  return record(y, "transpose", {a}, [=](const Tensor& g) {
    return std::vector<Tensor>{transpose(g, x0, x1)};
  });
}

Tensor flatten(const Tensor& a, int start_axis) {
  check_same("flatten", {&a});
  const int s = normalize_axis("flatten", start_axis, a.ndim());
  Shape out(a.shape().begin(), a.shape().begin() + s);
  out.push_back(prod(a.shape(), s, a.ndim()));
  return a.reshape(out);
}

Tensor unsqueeze(const Tensor& a, int axis) {
  check_same("unsqueeze", {&a});
  const int ax = normalize_axis("unsqueeze", axis, a.ndim() + 1);
  Shape out = a.shape();
  out.insert(out.begin() + ax, 1);
  return a.reshape(out);
}

Tensor squeeze(const Tensor& a, int axis) {
  check_same("squeeze", {&a});
  const int ax = normalize_axis("squeeze", axis, a.ndim());
  if (a.dim(ax) != 1) shape_error("squeeze", "dim " + std::to_string(axis) + " is not 1", {&a});
  Shape out = a.shape();
  out.erase(out.begin() + ax);
  return a.reshape(out);
}

}  // namespace lensflow::ad
