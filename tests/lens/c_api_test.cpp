// Tests of the C interface (lens/lensflow_lens.h): results equal the C++ API, errors come back as
// status codes with a message naming the field and index, device calls without a GPU report
// LENSFLOW_UNAVAILABLE. (tests/consumer compiles the header as C.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lens/lensflow_lens.h"
#include "lens/lensflow_lens.hpp"

TEST(CApi, PointMagEqualsCppApi) {
  const std::vector<double> s = {0.5, 1.0, 2.0}, q = {1e-3, 0.5, 1.0}, y1 = {0.1, -0.2, 1.5}, y2 = {0.05, 0.0, -0.3};
  std::vector<double> A(3), A_cpp(3);
  ASSERT_EQ(lensflow_point_mag(s.data(), q.data(), y1.data(), y2.data(), 3, A.data(), 0), LENSFLOW_OK);
  EXPECT_STREQ(lensflow_last_error(), "");
  lensflow::lens::point_mag_host(s.data(), q.data(), y1.data(), y2.data(), 3, A_cpp.data());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(A[i], A_cpp[i]);
}

TEST(CApi, LightcurvesEqualCppApi) {
  const lensflow_event ev[2] = {{1.1, 0.01, 30.0, 0.1, 5.0, 10.0, 1e-3}, {0.7, 0.3, 200.0, 0.4, 2.0, 3.0, 1e-3}};
  std::vector<double> t(100);
  for (int i = 0; i < 100; ++i) t[i] = 0.1 * i;
  std::vector<double> A(200), A_cpp(200);
  ASSERT_EQ(lensflow_lightcurves(ev, 2, t.data(), 100, 0, nullptr, A.data(), nullptr, 1), LENSFLOW_OK);
  const lensflow::lens::EventParams evp[2] = {{1.1, 0.01, 30.0, 0.1, 5.0, 10.0, 1e-3},
                                              {0.7, 0.3, 200.0, 0.4, 2.0, 3.0, 1e-3}};
  lensflow::lens::lightcurves_host(evp, 2, t.data(), 100, false, lensflow::lens::FiniteSourceOptions{}, A_cpp.data(),
                                   nullptr);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(A[i], A_cpp[i]);
}

TEST(CApi, ErrorsBecomeStatusAndMessage) {
  const std::vector<double> s = {1.0, 1.0}, q = {0.1, NAN}, y = {0.1, 0.2};
  std::vector<double> A(2);
  EXPECT_EQ(lensflow_point_mag(s.data(), q.data(), y.data(), y.data(), 2, A.data(), 0), LENSFLOW_INVALID_ARGUMENT);
  EXPECT_NE(std::string(lensflow_last_error()).find("q[1]"), std::string::npos) << lensflow_last_error();
  EXPECT_EQ(lensflow_finite_mag(s.data(), s.data(), y.data(), y.data(), y.data(), 2, nullptr, A.data(), nullptr, 0),
            LENSFLOW_INVALID_ARGUMENT);
  EXPECT_NE(std::string(lensflow_last_error()).find("opt is null"), std::string::npos);
  // A later successful call clears the message.
  EXPECT_EQ(lensflow_point_mag(s.data(), s.data(), y.data(), y.data(), 2, A.data(), 0), LENSFLOW_OK);
  EXPECT_STREQ(lensflow_last_error(), "");
}

TEST(CApi, FiniteOptionsDefaultsAndFiniteCall) {
  lensflow_finite_options opt;
  lensflow_default_finite_options(&opt);
  const lensflow::lens::FiniteSourceOptions d{};
  EXPECT_EQ(opt.tol_abs, d.tol_abs);
  EXPECT_EQ(opt.tol_rel, d.tol_rel);
  EXPECT_EQ(opt.a1, d.a1);
  const std::vector<double> s = {1.0}, q = {0.1}, y1 = {0.3}, y2 = {0.2}, rho = {1e-3};
  std::vector<double> A(1), err(1), A_cpp(1);
  ASSERT_EQ(lensflow_finite_mag(s.data(), q.data(), y1.data(), y2.data(), rho.data(), 1, &opt, A.data(), err.data(), 1),
            LENSFLOW_OK);
  lensflow::lens::finite_mag_host(s.data(), q.data(), y1.data(), y2.data(), rho.data(), 1, d, A_cpp.data(), nullptr, 1);
  EXPECT_EQ(A[0], A_cpp[0]);
  EXPECT_GE(err[0], 0.0);
}

TEST(CApi, DeviceCallsReportUnavailableWithoutGpu) {
  if (lensflow_cuda_device_available()) GTEST_SKIP() << "a CUDA device is present (covered by batch_parity_test)";
  double x = 1.0, A = 0.0;
  EXPECT_EQ(lensflow_point_mag_device(&x, &x, &x, &x, 1, &A, nullptr), LENSFLOW_UNAVAILABLE);
  EXPECT_NE(std::string(lensflow_last_error()).find("CUDA"), std::string::npos) << lensflow_last_error();
}
