// Tests of the batched API (lens/lensflow_lens.hpp): host results equal the per-point physics for
// any thread count, bad inputs raise std::invalid_argument naming field and index, and the CUDA
// twins equal the CPU results (point source: 1e-9 relative on >= 99.9% of points; finite source:
// within the requested tolerance) — skipped without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lens/binary_lens.hpp"
#include "lens/lensflow_lens.hpp"
#include "lens/lightcurve.hpp"
#include "tests/lens/reference_csv.hpp"
#include "tests/gpu_required.hpp"
#if LENSFLOW_HAVE_CUDA
#include <cuda_runtime.h>
#endif

using namespace lensflow::lens;
using lensflow::test::data_path;
using lensflow::test::read_csv;

namespace {

struct Points {
  std::vector<double> s, q, y1, y2, rho;
};

Points reference_points() {
  const auto ref = read_csv(data_path("binary_uniform.csv"));
  return {ref["s"], ref["q"], ref["y1"], ref["y2"], ref["rho"]};
}

std::vector<EventParams> reference_events() {
  const auto p = read_csv(data_path("lightcurve_params.csv"));
  std::vector<EventParams> ev;
  for (std::size_t k = 0; k < p.rows; ++k)
    ev.push_back({p["s"][k], p["q"][k], p["alpha_deg"][k], p["u0"][k], p["t0"][k], p["tE"][k], p["rho"][k]});
  return ev;
}

template <class F>
std::string error_of(const F& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BatchHost, PointMagEqualsPerPointPhysicsForAnyThreadCount) {
  const Points p = reference_points();
  const std::size_t n = p.s.size();
  std::vector<double> A1(n), A2(n), A0(n);
  point_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), n, A1.data(), 1);
  point_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), n, A2.data(), 3);
  point_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), n, A0.data(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double direct = binary_point_mag(make_binary_lens(p.s[i], p.q[i]), cplx(p.y1[i], p.y2[i]));
    ASSERT_EQ(A1[i], direct) << i;
    ASSERT_EQ(A2[i], direct) << i;
    ASSERT_EQ(A0[i], direct) << i;
  }
}

TEST(BatchHost, LightcurvesEqualPerEventPhysics) {
  const auto ev = reference_events();
  std::vector<double> t(1440);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 0.1 * i;
  std::vector<double> A(ev.size() * t.size()), A_err(A.size(), -1.0), one(t.size());
  lightcurves_host(ev.data(), ev.size(), t.data(), t.size(), false, FiniteSourceOptions{}, A.data(), A_err.data(), 2);
  for (std::size_t k = 0; k < ev.size(); ++k) {
    point_lightcurve(ev[k], t.data(), long(t.size()), one.data());
    for (std::size_t i = 0; i < t.size(); ++i) {
      ASSERT_EQ(A[k * t.size() + i], one[i]);
      ASSERT_EQ(A_err[k * t.size() + i], 0.0);
    }
  }
}

TEST(BatchHost, InvalidInputsNameFieldAndIndex) {
  std::vector<double> s = {1.0, 1.0, 1.0, 1.0}, q = {0.1, 0.1, 0.1, 0.1}, y1 = {0.1, 0.2, 0.3, 0.4},
                      y2 = {0.0, 0.0, 0.0, 0.0}, A(4);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto call = [&] { point_mag_host(s.data(), q.data(), y1.data(), y2.data(), 4, A.data()); };
  s[2] = nan;
  EXPECT_NE(error_of(call).find("s[2]"), std::string::npos) << error_of(call);
  s[2] = 1.0;
  q[1] = -0.5;
  EXPECT_NE(error_of(call).find("q[1]"), std::string::npos);
  q[1] = 0.1;
  y2[3] = std::numeric_limits<double>::infinity();
  EXPECT_NE(error_of(call).find("y2[3]"), std::string::npos);
  y2[3] = 0.0;
  EXPECT_EQ(error_of(call), "");
  EXPECT_NE(error_of([&] { point_mag_host(nullptr, q.data(), y1.data(), y2.data(), 4, A.data()); }).find("s is null"),
            std::string::npos);

  std::vector<EventParams> ev = {{1.0, 0.1, 30.0, 0.1, 10.0, 20.0, 1e-3}, {1.0, 0.1, 30.0, 0.1, 10.0, 0.0, 1e-3}};
  std::vector<double> t = {0.0, 1.0}, Ac(4);
  EXPECT_NE(error_of([&] {
              lightcurves_host(ev.data(), 2, t.data(), 2, false, FiniteSourceOptions{}, Ac.data(), nullptr);
            }).find("event.tE[1]"),
            std::string::npos);
  ev[1].tE = 20.0;
  t[1] = nan;
  EXPECT_NE(error_of([&] {
              lightcurves_host(ev.data(), 2, t.data(), 2, false, FiniteSourceOptions{}, Ac.data(), nullptr);
            }).find("t[1]"),
            std::string::npos);
}

TEST(BatchHost, FiniteMagIsIndependentOfThreadCount) {
  const Points p = reference_points();
  const std::size_t n = 600;  // a slice: finite source costs more
  FiniteSourceOptions opt{};
  std::vector<double> A1(n), A2(n), e1(n), e2(n);
  finite_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), p.rho.data(), n, opt, A1.data(), e1.data(), 1);
  finite_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), p.rho.data(), n, opt, A2.data(), e2.data(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(A1[i], A2[i]) << i;
    ASSERT_EQ(e1[i], e2[i]) << i;
  }
  std::vector<double> rho = p.rho;
  rho[5] = -1e-3;
  EXPECT_NE(error_of([&] {
              finite_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), rho.data(), n, opt, A1.data(), nullptr);
            }).find("rho[5]"),
            std::string::npos);
}

#if LENSFLOW_HAVE_CUDA
namespace {
// Device buffer copied from / to a host vector.
template <class T>
struct DeviceVec {
  T* ptr = nullptr;
  std::size_t n = 0;
  explicit DeviceVec(const std::vector<T>& h) : n(h.size()) {
    EXPECT_EQ(cudaMalloc(&ptr, sizeof(T) * std::max<std::size_t>(n, 1)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> to_host() const {
    std::vector<T> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), ptr, sizeof(T) * n, cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
  ~DeviceVec() { cudaFree(ptr); }
};

double fraction_within(const std::vector<double>& a, const std::vector<double>& b, double rel) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ok += std::fabs(a[i] - b[i]) <= rel * std::fabs(b[i]);
  return double(ok) / a.size();
}
}  // namespace
#endif

TEST(BatchDevice, PointMagMatchesCpu) {
#if !LENSFLOW_HAVE_CUDA
  LENSFLOW_SKIP_WITHOUT_GPU(false) << "built without CUDA: device parity not tested";
#else
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_device_available()) << "no CUDA device present: device parity not tested";
  const Points p = reference_points();
  const std::size_t n = p.s.size();
  std::vector<double> A_cpu(n);
  point_mag_host(p.s.data(), p.q.data(), p.y1.data(), p.y2.data(), n, A_cpu.data());
  DeviceVec<double> s(p.s), q(p.q), y1(p.y1), y2(p.y2), A(std::vector<double>(n, 0.0));
  point_mag_device(s.ptr, q.ptr, y1.ptr, y2.ptr, n, A.ptr, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const auto A_gpu = A.to_host();
  const double frac = fraction_within(A_gpu, A_cpu, 1e-9);
  std::printf("  GPU vs CPU point source: %.4f%% within 1e-9 relative\n", 100.0 * frac);
  EXPECT_GE(frac, 0.999);
  for (double a : A_gpu) ASSERT_TRUE(std::isfinite(a) && a >= 1.0);

  // Validation on the device names the field and the index.
  std::vector<double> bad_q = p.q;
  bad_q[7] = -1.0;
  DeviceVec<double> qb(bad_q);
  EXPECT_NE(error_of([&] { point_mag_device(s.ptr, qb.ptr, y1.ptr, y2.ptr, n, A.ptr, nullptr); }).find("q[7]"),
            std::string::npos);
#endif
}

TEST(BatchDevice, LightcurvesMatchCpu) {
#if !LENSFLOW_HAVE_CUDA
  LENSFLOW_SKIP_WITHOUT_GPU(false) << "built without CUDA: device parity not tested";
#else
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_device_available()) << "no CUDA device present: device parity not tested";
  const auto ev = reference_events();
  std::vector<double> t(14400);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 0.01 * i;
  std::vector<double> A_cpu(ev.size() * t.size());
  lightcurves_host(ev.data(), ev.size(), t.data(), t.size(), false, FiniteSourceOptions{}, A_cpu.data(), nullptr);
  DeviceVec<EventParams> d_ev(ev);
  DeviceVec<double> d_t(t), d_A(std::vector<double>(A_cpu.size(), 0.0));
  lightcurves_device(d_ev.ptr, ev.size(), d_t.ptr, t.size(), false, FiniteSourceOptions{}, d_A.ptr, nullptr, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_GE(fraction_within(d_A.to_host(), A_cpu, 1e-9), 0.999);
#endif
}

// Host and device run the same code without FMA contraction (lens/CMakeLists.txt), so they take the
// same branches and agree to round-off almost everywhere; where libm and CUDA's math differ in the
// last bits a branch can still flip, and then the two values differ by at most their error estimates.
TEST(BatchDevice, FiniteMagMatchesCpuWithinErrorEstimates) {
#if !LENSFLOW_HAVE_CUDA
  LENSFLOW_SKIP_WITHOUT_GPU(false) << "built without CUDA: device parity not tested";
#else
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_device_available()) << "no CUDA device present: device parity not tested";
  const Points p = reference_points();
  const std::size_t n = 2000;
  FiniteSourceOptions opt{};
  std::vector<double> A_cpu(n), E_cpu(n), ref_s(p.s.begin(), p.s.begin() + n), ref_q(p.q.begin(), p.q.begin() + n),
      ref_y1(p.y1.begin(), p.y1.begin() + n), ref_y2(p.y2.begin(), p.y2.begin() + n),
      ref_rho(p.rho.begin(), p.rho.begin() + n);
  finite_mag_host(ref_s.data(), ref_q.data(), ref_y1.data(), ref_y2.data(), ref_rho.data(), n, opt, A_cpu.data(),
                  E_cpu.data());
  DeviceVec<double> s(ref_s), q(ref_q), y1(ref_y1), y2(ref_y2), rho(ref_rho), A(std::vector<double>(n, 0.0)),
      E(std::vector<double>(n, 0.0));
  finite_mag_device(s.ptr, q.ptr, y1.ptr, y2.ptr, rho.ptr, n, opt, A.ptr, E.ptr, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const auto A_gpu = A.to_host(), E_gpu = E.to_host();
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) {
    same += std::fabs(A_gpu[i] - A_cpu[i]) <= 1e-9 * A_cpu[i];
    EXPECT_LE(std::fabs(A_gpu[i] - A_cpu[i]), E_gpu[i] + E_cpu[i] + 1e-9 * A_cpu[i]) << i;
  }
  std::printf("  GPU vs CPU finite source: %.2f%% within 1e-9 relative\n", 100.0 * same / n);
  // Repeated launches give the same bits (no state survives a launch).
  finite_mag_device(s.ptr, q.ptr, y1.ptr, y2.ptr, rho.ptr, n, opt, A.ptr, E.ptr, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(A.to_host(), A_gpu);
#endif
}

TEST(BatchDevice, FiniteLightcurvesMatchCpuWithinErrorEstimates) {
#if !LENSFLOW_HAVE_CUDA
  LENSFLOW_SKIP_WITHOUT_GPU(false) << "built without CUDA: device parity not tested";
#else
  LENSFLOW_SKIP_WITHOUT_GPU(cuda_device_available()) << "no CUDA device present: device parity not tested";
  const auto ev = reference_events();
  std::vector<double> t(14400);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 0.01 * i;
  FiniteSourceOptions opt{};
  std::vector<double> A_cpu(ev.size() * t.size()), E_cpu(A_cpu.size());
  lightcurves_host(ev.data(), ev.size(), t.data(), t.size(), true, opt, A_cpu.data(), E_cpu.data());
  DeviceVec<EventParams> d_ev(ev);
  DeviceVec<double> d_t(t), d_A(std::vector<double>(A_cpu.size(), 0.0)), d_E(std::vector<double>(A_cpu.size(), 0.0));
  lightcurves_device(d_ev.ptr, ev.size(), d_t.ptr, t.size(), true, opt, d_A.ptr, d_E.ptr, nullptr);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const auto A_gpu = d_A.to_host(), E_gpu = d_E.to_host();
  std::size_t same = 0, off = 0;
  for (std::size_t i = 0; i < A_cpu.size(); ++i) {
    same += std::fabs(A_gpu[i] - A_cpu[i]) <= 1e-9 * A_cpu[i];
    off += std::fabs(A_gpu[i] - A_cpu[i]) > E_gpu[i] + E_cpu[i] + 1e-9 * A_cpu[i];
  }
  std::printf("  GPU vs CPU finite light curves: %.3f%% within 1e-9 relative, %zu beyond the error estimates\n",
              100.0 * same / A_cpu.size(), off);
  EXPECT_EQ(off, 0u);
#endif
}
