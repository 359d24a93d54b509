"""lensflow against MulensModel and VBMicrolensing after converting the parameters
(lensflow.conventions): light curves agree to 1e-3 relative, point and finite source, on events
that cross caustics and events that do not. Skips, saying why, when a package is not importable
(`pip install .[test]` or scripts/install_deps.sh installs them)."""
import math

import numpy as np
import pytest

import lensflow as lf
from lensflow import conventions as cv

# (s, q, alpha, u0, t0, tE, rho): resonant, close, wide and planetary lenses; the first three
# cross caustics (checked below), the last passes between them.
EVENTS = [
    (1.0, 0.1, 30.0, 0.05, 10.0, 20.0, 3e-3),
    (0.7, 0.03, 120.0, -0.02, 0.0, 15.0, 1e-3),
    (1.4, 5e-3, 200.0, 0.01, -3.0, 30.0, 5e-3),
    (1.2, 1e-3, 315.0, 0.3, 5.0, 8.0, 2e-3),
]
T = np.linspace(-40.0, 50.0, 1801)


def _crosses_a_caustic(ev):
    # A source disk crossing a caustic makes the point-source curve jump by orders of magnitude.
    A = lf.lightcurve(np.linspace(-40, 50, 20001), *ev[:6], finite=False)
    return A.max() > 50


def test_the_event_set_has_caustic_crossings():
    assert [_crosses_a_caustic(ev) for ev in EVENTS] == [True, True, True, False]


def test_conversions_round_trip():
    for ev in EVENTS:
        d = dict(zip(cv.EVENT_FIELDS, ev))
        back = cv.from_mulensmodel(cv.to_mulensmodel(*ev))
        back_vbm = cv.from_vbmicrolensing(cv.to_vbmicrolensing(*ev))
        for k in cv.EVENT_FIELDS:
            assert back[k] == pytest.approx(d[k] % 360 if k == "alpha" else d[k], rel=1e-12, abs=1e-12)
            assert back_vbm[k] == pytest.approx(d[k] % 360 if k == "alpha" else d[k], rel=1e-12, abs=1e-12)
    assert cv.to_mulensmodel(1, 0.1, 30, 0.1, 0, 10)["alpha"] == 210.0
    with pytest.raises(ValueError, match="pi_E_N"):
        cv.from_mulensmodel({"t_0": 0, "u_0": 0.1, "t_E": 10, "s": 1, "q": 0.1, "alpha": 10, "pi_E_N": 0.1})
    with pytest.raises(ValueError, match="missing"):
        cv.from_mulensmodel({"t_0": 0, "u_0": 0.1, "t_E": 10})
    with pytest.raises(ValueError, match="rho"):
        cv.to_vbmicrolensing(1, 0.1, 30, 0.1, 0, 10, 0.0)


@pytest.fixture(scope="module")
def mm():
    return pytest.importorskip("MulensModel", reason="MulensModel not installed (pip install .[test])")


@pytest.fixture(scope="module")
def vbm():
    VBMicrolensing = pytest.importorskip("VBMicrolensing", reason="VBMicrolensing not installed (pip install .[test])")
    v = VBMicrolensing.VBMicrolensing()
    v.Tol = 1e-5
    v.RelTol = 1e-5
    return v


@pytest.mark.parametrize("ev", EVENTS)
def test_point_source_matches_mulensmodel(mm, ev):
    model = mm.Model(cv.to_mulensmodel(*ev[:6]))
    ref = model.get_magnification(T)
    A = lf.lightcurve(T, *ev, finite=False)
    assert np.allclose(A, ref, rtol=1e-3, atol=0)


@pytest.mark.parametrize("ev", EVENTS)
def test_finite_source_matches_mulensmodel(mm, ev):
    model = mm.Model(cv.to_mulensmodel(*ev))
    model.set_magnification_methods([T[0] - 1, "VBBL", T[-1] + 1])
    model.set_magnification_methods_parameters({"vbbl": {"accuracy": 1e-5}})
    ref = model.get_magnification(T)
    A = lf.lightcurve(T, *ev, tol_rel=1e-4, tol_abs=1e-5)
    assert np.allclose(A, ref, rtol=1e-3, atol=0)


def test_mulensmodel_parameters_convert_back(mm):
    for ev in EVENTS:
        model = mm.Model(cv.to_mulensmodel(*ev))
        got = cv.from_mulensmodel(model.parameters)
        assert [got[k] for k in cv.EVENT_FIELDS] == pytest.approx([ev[0], ev[1], ev[2] % 360, *ev[3:]], rel=1e-12)


@pytest.mark.parametrize("ev", EVENTS)
def test_finite_source_matches_vbmicrolensing_lightcurve(vbm, ev):
    ref = np.asarray(vbm.BinaryLightCurve(cv.to_vbmicrolensing(*ev), T.tolist())[0])
    A = lf.lightcurve(T, *ev, tol_rel=1e-4, tol_abs=1e-5)
    assert np.allclose(A, ref, rtol=1e-3, atol=0)


def test_point_source_matches_vbmicrolensing_binarymag0(vbm):
    rng = np.random.default_rng(5)
    s, q = 10 ** rng.uniform(-0.4, 0.4, 300), 10 ** rng.uniform(-5, 0, 300)
    y1, y2 = rng.uniform(-1.5, 1.5, (2, 300))
    ref = np.array([vbm.BinaryMag0(*a) for a in zip(s, q, y1, y2)])
    assert np.allclose(lf.point_mag(s, q, y1, y2), ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize("ev", EVENTS[:3])
def test_limb_darkened_source_matches_vbmicrolensing(ev):
    VBMicrolensing = pytest.importorskip("VBMicrolensing", reason="VBMicrolensing not installed (pip install .[test])")
    v = VBMicrolensing.VBMicrolensing()
    v.Tol = v.RelTol = 1e-5
    v.a1 = 0.6  # docs/conventions.md §Frame: lensflow's a1 is VBMicrolensing's
    ref = np.asarray(v.BinaryLightCurve(cv.to_vbmicrolensing(*ev), T.tolist())[0])
    A = lf.lightcurve(T, *ev, a1=0.6, tol_rel=1e-4, tol_abs=1e-5)
    assert np.allclose(A, ref, rtol=1e-3, atol=0)


@pytest.mark.parametrize("s", [0.5, 1.0, 3.0])
def test_caustics_match_vbmicrolensing(s):
    VBMicrolensing = pytest.importorskip("VBMicrolensing", reason="VBMicrolensing not installed (pip install .[test])")
    v = VBMicrolensing.VBMicrolensing()
    q = 0.1
    for ours, theirs in ((lf.caustics(s, q), v.Caustics(s, q)), (lf.critical_curves(s, q), v.Criticalcurves(s, q))):
        assert len(ours) == len(theirs)
        a = np.concatenate(ours)
        b = np.concatenate([np.asarray(x) + 1j * np.asarray(y) for x, y in theirs])
        # Every point of each set lies on the other's curves (up to the sampling step).
        step = np.median(np.abs(np.diff(b)))
        d_ab = np.min(np.abs(a[:, None] - b[None, :]), axis=1)
        d_ba = np.min(np.abs(b[:, None] - a[None, :]), axis=1)
        assert d_ab.max() < 3 * step and d_ba.max() < 3 * step
