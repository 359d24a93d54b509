// python/src/forward.cpp — the forward model (lens/lensflow_lens.hpp) for Python: point and finite
// source, single lens, light curves, critical curves and caustics. Each entry point takes flat
// C-contiguous arrays, validates them in the library (ValueError naming field and index), and runs
// with the GIL released. device="cuda" copies the inputs to the GPU, runs the device twin and copies
// the results back.
#include <cmath>
#include <complex>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "core/thread_pool.hpp"
#include "lens/batch_validate.hpp"
#include "lens/caustics.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/single_lens.hpp"

#if LENSFLOW_HAVE_CUDA
#include "core/cuda_buffers.cuh"
#endif

namespace lensflow::python {
namespace {

using lens::EventParams;
using lens::FiniteSourceOptions;

// The accuracy goals and limb darkening asked for; the work budget stays the library's default.
FiniteSourceOptions finite_options(double a1, double tol_abs, double tol_rel) {
  return FiniteSourceOptions{tol_abs, tol_rel, a1};
}

void require_same_length(const char* fn, std::size_t n, std::initializer_list<std::pair<const char*, const Array*>> arrays) {
  for (const auto& [name, a] : arrays)
    if (static_cast<std::size_t>(a->size()) != n)
      throw std::invalid_argument(std::string(fn) + ": " + name + " has " + std::to_string(a->size()) +
                                  " values, expected " + std::to_string(n));
}

#if LENSFLOW_HAVE_CUDA
// A device copy of n host doubles (or n uninitialized ones when h is null).
template <class T>
struct DeviceCopy {
  core::DeviceArray<T> a;
  DeviceCopy(const T* h, std::size_t n) {
    a.reserve(n, "lensflow (Python)");
    if (h && n) LF_CUDA_CHECK(cudaMemcpy(a.get(), h, n * sizeof(T), cudaMemcpyHostToDevice));
  }
  void to_host(T* h, std::size_t n) const {
    if (n) LF_CUDA_CHECK(cudaMemcpy(h, a.get(), n * sizeof(T), cudaMemcpyDeviceToHost));
  }
};
#endif

Array point_mag(const Array& s, const Array& q, const Array& y1, const Array& y2, int threads,
                const std::string& device) {
  const std::size_t n = s.size();
  require_same_length("point_mag", n, {{"q", &q}, {"y1", &y1}, {"y2", &y2}});
  const bool cuda = use_cuda(device);
  Array A = new_array(n);
  double* out = A.mutable_data();
  const double *ps = s.data(), *pq = q.data(), *p1 = y1.data(), *p2 = y2.data();
  without_gil([&] {
    if (!cuda) return lens::point_mag_host(ps, pq, p1, p2, n, out, threads);
#if LENSFLOW_HAVE_CUDA
    DeviceCopy<double> ds(ps, n), dq(pq, n), d1(p1, n), d2(p2, n), dA(nullptr, n);
    lens::point_mag_device(ds.a.get(), dq.a.get(), d1.a.get(), d2.a.get(), n, dA.a.get(), nullptr);
    dA.to_host(out, n);
#endif
  });
  return A;
}

std::pair<Array, Array> finite_mag(const Array& s, const Array& q, const Array& y1, const Array& y2,
                                   const Array& rho, double a1, double tol_abs, double tol_rel, int threads,
                                   const std::string& device) {
  const std::size_t n = s.size();
  require_same_length("finite_mag", n, {{"q", &q}, {"y1", &y1}, {"y2", &y2}, {"rho", &rho}});
  const bool cuda = use_cuda(device);
  const FiniteSourceOptions opt = finite_options(a1, tol_abs, tol_rel);
  Array A = new_array(n), err = new_array(n);
  double* out = A.mutable_data();
  double* out_err = err.mutable_data();
  const double *ps = s.data(), *pq = q.data(), *p1 = y1.data(), *p2 = y2.data(), *pr = rho.data();
  without_gil([&] {
    if (!cuda) return lens::finite_mag_host(ps, pq, p1, p2, pr, n, opt, out, out_err, threads);
#if LENSFLOW_HAVE_CUDA
    DeviceCopy<double> ds(ps, n), dq(pq, n), d1(p1, n), d2(p2, n), dr(pr, n), dA(nullptr, n), dE(nullptr, n);
    lens::finite_mag_device(ds.a.get(), dq.a.get(), d1.a.get(), d2.a.get(), dr.a.get(), n, opt, dA.a.get(),
                            dE.a.get(), nullptr);
    dA.to_host(out, n);
    dE.to_host(out_err, n);
#endif
  });
  return {A, err};
}

// events: [E, 7] rows (s, q, alpha_deg, u0, t0, tE, rho), the layout of lens::EventParams.
// with_error = false leaves the error array empty (and unallocated on the device).
std::pair<Array, Array> lightcurves(const Array& events, const Array& t, bool finite, double a1, double tol_abs,
                                    double tol_rel, bool with_error, int threads, const std::string& device) {
  static_assert(sizeof(EventParams) == 7 * sizeof(double), "EventParams is 7 packed doubles");
  if (events.ndim() != 2 || events.shape(1) != 7)
    throw std::invalid_argument("lightcurve: events must be an [E, 7] array");
  const std::size_t n_ev = events.shape(0), n_t = t.size(), n = n_ev * n_t;
  const bool cuda = use_cuda(device);
  const FiniteSourceOptions opt = finite_options(a1, tol_abs, tol_rel);
  Array A = new_array(n), err = new_array(with_error ? n : 0);
  double* out = A.mutable_data();
  double* out_err = with_error ? err.mutable_data() : nullptr;
  // The array's rows are EventParams (same layout; checked above).
  const auto* ev = reinterpret_cast<const EventParams*>(events.data());
  const double* pt = t.data();
  without_gil([&] {
    if (!cuda) return lens::lightcurves_host(ev, n_ev, pt, n_t, finite, opt, out, out_err, threads);
#if LENSFLOW_HAVE_CUDA
    DeviceCopy<EventParams> dev(ev, n_ev);
    DeviceCopy<double> dt(pt, n_t), dA(nullptr, n), dE(nullptr, with_error ? n : 0);
    lens::lightcurves_device(dev.a.get(), n_ev, dt.a.get(), n_t, finite, opt, dA.a.get(),
                             with_error ? dE.a.get() : nullptr, nullptr);
    dA.to_host(out, n);
    if (with_error) dE.to_host(out_err, n);
#endif
  });
  return {A, err};
}

// Single lens (Paczyński), point source when rho is empty, else a uniform or limb-darkened disk.
Array single_lens_mag(const Array& u, const Array& rho, double a1, int threads) {
  const char* fn = "single_lens_mag";
  const std::size_t n = u.size();
  const bool finite = rho.size() > 0;
  if (finite) require_same_length(fn, n, {{"rho", &rho}});
  if (!(std::isfinite(a1) && a1 >= 0.0 && a1 <= 1.0)) lens::detail::bad_value(fn, "a1", 0, a1, "must be in [0, 1]");
  const double* pu = u.data();
  const double* pr = finite ? rho.data() : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(pu[i])) lens::detail::bad_value(fn, "u", i, pu[i], "must be finite");
    if (finite) lens::detail::check_rho(fn, "rho", i, pr[i]);
  }
  Array A = new_array(n);
  double* out = A.mutable_data();
  without_gil([&] {
    core::parallel_for_chunks(n, 16, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i)
        out[i] = finite ? lens::single_finite_mag_ld(std::fabs(pu[i]), pr[i], a1) : lens::single_point_mag(std::fabs(pu[i]));
    });
  });
  return A;
}

// Closed curves as complex arrays (x + iy), the last point joining the first (not repeated).
py::list complex_curves(const std::vector<std::vector<lens::cplx>>& curves) {
  py::list out;
  for (const auto& c : curves) {
    py::array_t<std::complex<double>> a(static_cast<py::ssize_t>(c.size()));
    auto* p = a.mutable_data();
    for (std::size_t i = 0; i < c.size(); ++i) p[i] = {c[i].re, c[i].im};
    out.append(a);
  }
  return out;
}

std::pair<py::list, py::list> critical_and_caustic(double s, double q, int n_per_track) {
  const double zero = 0.0;
  double unused = 0.0;
  lens::detail::validate_points("caustics", &s, &q, &zero, &zero, nullptr, 1, &unused);
  if (n_per_track < 16 || n_per_track > 1000000)
    lens::detail::bad_value("caustics", "n_points", 0, n_per_track, "must be in [16, 1e6]");
  lens::CausticCurves c;
  without_gil([&] { c = lens::caustic_curves(s, q, n_per_track); });
  return {complex_curves(c.critical), complex_curves(c.caustic)};
}

}  // namespace

void bind_forward(py::module_& m) {
  using namespace pybind11::literals;
  m.def("point_mag", &point_mag, "s"_a, "q"_a, "y1"_a, "y2"_a, "threads"_a, "device"_a);
  m.def("finite_mag", &finite_mag, "s"_a, "q"_a, "y1"_a, "y2"_a, "rho"_a, "a1"_a, "tol_abs"_a, "tol_rel"_a,
        "threads"_a, "device"_a);
  m.def("lightcurves", &lightcurves, "events"_a, "t"_a, "finite"_a, "a1"_a, "tol_abs"_a, "tol_rel"_a, "with_error"_a,
        "threads"_a, "device"_a);
  m.def("single_lens_mag", &single_lens_mag, "u"_a, "rho"_a, "a1"_a, "threads"_a);
  m.def("critical_and_caustic", &critical_and_caustic, "s"_a, "q"_a, "n_per_track"_a);
}

}  // namespace lensflow::python
