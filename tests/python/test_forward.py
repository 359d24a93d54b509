"""The forward model from Python: shapes and broadcasting, dtypes and layouts, errors, thread-count
independence, analytic limits, and critical curves checked against det J = 0."""
import numpy as np
import pytest

import lensflow as lf

RNG = np.random.default_rng(13)


def test_import_is_the_installed_package():
    # run.sh installs into a venv; the test must not be running the source tree.
    assert "site-packages" in lf.__file__


def test_point_mag_broadcasts_like_elementwise_calls():
    s = np.array([[0.7], [1.0], [1.6]])           # (3, 1)
    y1 = np.linspace(-0.5, 0.5, 4)                # (4,)
    A = lf.point_mag(s, 1e-2, y1, 0.05)
    assert A.shape == (3, 4) and A.dtype == np.float64
    for i in range(3):
        for j in range(4):
            assert A[i, j] == lf.point_mag(s[i, 0], 1e-2, y1[j], 0.05)
    assert lf.point_mag(1.0, 0.1, 0.2, 0.1).shape == ()


def test_empty_inputs_give_empty_results():
    assert lf.point_mag(1.0, 0.1, np.empty((0, 3)), 0.0).shape == (0, 3)
    assert lf.lightcurve(np.empty(0), [1.0, 2.0], 0.1, 10, 0.1, 0, 10, 0.01).shape == (2, 0)


def test_dtypes_and_layouts_give_the_same_values():
    y = RNG.uniform(-1, 1, size=(6, 8))
    ref = lf.point_mag(1.1, 0.05, y, y.T[::-1].T)
    yF = np.asfortranarray(y)
    assert np.array_equal(lf.point_mag(1.1, 0.05, yF, y.T[::-1].T), ref)
    big = np.zeros((6, 16))
    big[:, ::2] = y                                # strided view
    assert np.array_equal(lf.point_mag(1.1, 0.05, big[:, ::2], y.T[::-1].T), ref)
    assert np.array_equal(lf.point_mag(1, 1, [0, 2], [1, 3]), lf.point_mag(1.0, 1.0, [0.0, 2.0], [1.0, 3.0]))
    f32 = y.astype(np.float32)
    assert np.array_equal(lf.point_mag(1.1, 0.05, f32, 0.0), lf.point_mag(1.1, 0.05, f32.astype(np.float64), 0.0))


def test_inputs_are_not_modified():
    y = RNG.uniform(-1, 1, 100)
    keep = y.copy()
    lf.finite_mag(1.0, 0.1, y, y, 0.01)
    assert np.array_equal(y, keep)


@pytest.mark.parametrize("call, match", [
    (lambda: lf.point_mag(1.0, [0.1, -1.0], 0.0, 0.0), r"q\[1\] = -1 is invalid"),
    (lambda: lf.point_mag(np.nan, 0.1, 0.0, 0.0), r"s\[0\] = nan is invalid"),
    (lambda: lf.point_mag(1e20, 0.1, 0.0, 0.0), r"outside the supported range"),
    (lambda: lf.point_mag(1.0, 0.1, [0.0, 0.0, np.inf], 0.0), r"y1\[2\] = inf"),
    (lambda: lf.point_mag(1.0, 0.1, np.zeros(3), np.zeros(4)), r"do not broadcast"),
    (lambda: lf.point_mag(1.0, 0.1, "abc", 0.0), r"y1: not convertible"),
    (lambda: lf.point_mag(1.0, 0.1, np.array([0.1 + 1j]), 0.0), r"y1: complex"),
    (lambda: lf.finite_mag(1.0, 0.1, 0.0, 0.0, -0.1), r"rho\[0\] = -0.1\d* is invalid"),
    (lambda: lf.finite_mag(1.0, 0.1, 0.0, 0.0, 0.01, a1=1.5), r"a1"),
    (lambda: lf.finite_mag(1.0, 0.1, 0.0, 0.0, 0.01, tol_abs=0, tol_rel=0), r"both 0"),
    (lambda: lf.single_lens_mag([1.0, np.nan]), r"u\[1\] = nan"),
    (lambda: lf.lightcurve([0.0, 1.0], 1.0, 0.1, 0.0, 0.1, 0.0, [10.0, -1.0], 0.01), r"tE\[1\] = -1"),
    (lambda: lf.lightcurve(np.zeros((2, 2)), 1.0, 0.1, 0.0, 0.1, 0.0, 10.0), r"t must be 1-D"),
    (lambda: lf.caustics(-1.0, 0.1), r"s\[0\] = -1"),
    (lambda: lf.point_mag(1.0, 0.1, 0.0, 0.0, device="gpu"), r"device = 'gpu' is invalid"),
    (lambda: lf.point_mag(1.0, 0.1, 0.0, 0.0, threads=-1), r"threads = -1"),
])
def test_bad_input_raises_value_error_with_the_field(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cuda_without_a_device_says_why():
    if lf.cuda_device_available():
        pytest.skip("a CUDA device is available (test_cuda_matches_cpu covers it)")
    with pytest.raises(RuntimeError, match="device='cuda'"):
        lf.point_mag(1.0, 0.1, 0.0, 0.0, device="cuda")


def test_cuda_matches_cpu():
    if not lf.cuda_device_available():
        pytest.skip("no CUDA device (or lensflow built without CUDA)")
    y = RNG.uniform(-1, 1, (2, 500))
    cpu = lf.point_mag(0.9, 0.01, y[0], y[1])
    gpu = lf.point_mag(0.9, 0.01, y[0], y[1], device="cuda")
    assert np.allclose(gpu, cpu, rtol=1e-12, atol=0)
    A, _ = lf.finite_mag(0.9, 0.01, y[0], y[1], 0.01)
    Ag, _ = lf.finite_mag(0.9, 0.01, y[0], y[1], 0.01, device="cuda")
    assert np.allclose(Ag, A, rtol=2e-3)
    t = np.linspace(-30, 30, 1000)
    L = lf.lightcurve(t, [0.9, 1.2], 0.01, [20, 200], 0.05, 0.0, 15.0, 0.003)
    Lg = lf.lightcurve(t, [0.9, 1.2], 0.01, [20, 200], 0.05, 0.0, 15.0, 0.003, device="cuda")
    assert np.allclose(Lg, L, rtol=2e-3)


def test_results_do_not_depend_on_thread_count():
    n = 3000
    s = 10 ** RNG.uniform(-0.3, 0.3, n)
    q = 10 ** RNG.uniform(-4, 0, n)
    y1, y2 = RNG.uniform(-1, 1, (2, n))
    runs = [lf.finite_mag(s, q, y1, y2, 0.005, threads=k) for k in (1, 2, 0)]
    for A, err in runs[1:]:
        assert np.array_equal(A, runs[0][0]) and np.array_equal(err, runs[0][1])
    t = np.linspace(-20, 20, 700)
    curves = [lf.lightcurve(t, s[:8], q[:8], 40.0, 0.05, 0.0, 10.0, 0.003, threads=k) for k in (1, 2)]
    assert np.array_equal(curves[0], curves[1])


def test_pool_size_changes_speed_not_results():
    y1, y2 = RNG.uniform(-1, 1, (2, 2000))
    ref = lf.finite_mag(0.8, 0.02, y1, y2, 0.003)[0]
    n_all = lf.default_thread_count()  # the default: all cores
    try:
        lf.set_num_threads(1)
        assert lf.default_thread_count() == 1
        assert np.array_equal(lf.finite_mag(0.8, 0.02, y1, y2, 0.003)[0], ref)
    finally:
        lf.set_num_threads(0)  # back to all cores
    assert lf.default_thread_count() == n_all
    with pytest.raises(ValueError, match="n = -2"):
        lf.set_num_threads(-2)


def test_single_lens_against_the_formula_and_its_limits():
    u = np.array([0.01, 0.1, 0.5, 1.0, 3.0])
    assert np.allclose(lf.single_lens_mag(u), (u**2 + 2) / (u * np.sqrt(u**2 + 4)), rtol=1e-15)
    assert np.array_equal(lf.single_lens_mag(-u), lf.single_lens_mag(u))
    # A disk far from the lens magnifies like a point; at u = 0 a uniform disk gives sqrt(1 + 4/rho²).
    assert np.allclose(lf.single_lens_mag(3.0, 1e-3), lf.single_lens_mag(3.0), rtol=1e-7)
    rho = 0.05
    assert lf.single_lens_mag(0.0, rho) == pytest.approx(np.sqrt(1 + 4 / rho**2), rel=1e-8)


def test_binary_lens_limits():
    # Far from the lens A -> 1; a tiny companion far from the source leaves the Paczyński curve.
    assert lf.point_mag(1.0, 0.5, 1e4, 0.0) == pytest.approx(1.0, abs=1e-12)
    u = np.linspace(0.05, 1.0, 20)
    # q = 1e-9 at s = 100: the primary sits at -s q/(1+q) = -1e-7 and the companion's shear is ~1e-13.
    A = lf.point_mag(100.0, 1e-9, u, 0.0)
    assert np.allclose(A, lf.single_lens_mag(u + 100.0 * 1e-9 / (1 + 1e-9)), rtol=1e-8)
    # Finite source far from caustics: tends to the point source as rho -> 0.
    A_fs, err = lf.finite_mag(1.0, 0.1, 0.8, 0.6, 1e-4, tol_rel=1e-6)
    assert A_fs == pytest.approx(lf.point_mag(1.0, 0.1, 0.8, 0.6), rel=1e-5)
    assert err >= 0
    # The mirror symmetry (s, q, y1, y2) = (s, 1/q, -y1, y2) of docs/conventions.md §Frame.
    y1, y2 = RNG.uniform(-1, 1, (2, 200))
    assert np.allclose(lf.point_mag(1.2, 0.3, y1, y2), lf.point_mag(1.2, 1 / 0.3, -y1, y2), rtol=1e-9)


def test_lightcurve_is_point_mag_along_the_trajectory():
    # docs/conventions.md §Trajectory: tau = (t - t0)/tE, y1 = tau cos a - u0 sin a, y2 = tau sin a + u0 cos a.
    t = np.linspace(-40, 40, 333)
    s, q, alpha, u0, t0, tE = 0.95, 3e-3, 57.0, 0.03, 2.0, 12.0
    a = np.radians(alpha)
    tau = (t - t0) / tE
    A_direct = lf.point_mag(s, q, tau * np.cos(a) - u0 * np.sin(a), tau * np.sin(a) + u0 * np.cos(a))
    A_curve = lf.lightcurve(t, s, q, alpha, u0, t0, tE, finite=False)
    assert A_curve.shape == t.shape
    assert np.allclose(A_curve, A_direct, rtol=1e-9)
    batch, err = lf.lightcurve(t, [s, s], q, alpha, [u0, 0.2], t0, tE, 1e-3, return_error=True)
    assert batch.shape == (2, t.size) and err.shape == (2, t.size)
    assert np.array_equal(batch[1], lf.lightcurve(t, s, q, alpha, 0.2, t0, tE, 1e-3))


def _det_jacobian(z, s, q):
    m1, m2 = 1 / (1 + q), q / (1 + q)
    z1, z2 = -s * q / (1 + q), s / (1 + q)
    zb = np.conj(z)
    return 1 - np.abs(m1 / (zb - z1) ** 2 + m2 / (zb - z2) ** 2) ** 2


@pytest.mark.parametrize("s, n_curves", [(0.5, 3), (1.0, 1), (3.0, 2)])
def test_critical_curves_and_caustics(s, n_curves):
    q = 0.1
    crit = lf.critical_curves(s, q, n_points=256)
    caus = lf.caustics(s, q, n_points=256)
    assert len(crit) == len(caus) == n_curves
    for zc, yc in zip(crit, caus):
        assert zc.dtype == np.complex128 and zc.shape == yc.shape
        assert np.max(np.abs(_det_jacobian(zc, s, q))) < 1e-8
        # The lens equation maps the critical curve onto the caustic.
        m1, m2 = 1 / (1 + q), q / (1 + q)
        z1, z2 = -s * q / (1 + q), s / (1 + q)
        zb = np.conj(zc)
        assert np.allclose(zc - m1 / (zb - z1) - m2 / (zb - z2), yc, atol=1e-12)
        # Closed: the step from the last point back to the first is like the others.
        steps = np.abs(np.diff(np.append(zc, zc[0])))
        assert steps[-1] < 5 * np.median(steps)
