"""The binary-lens forward model: magnifications, light curves, critical curves and caustics.

Frame and trajectory are lensflow's (docs/conventions.md §Frame, §Trajectory): origin at the
centre of mass, primary (mass fraction 1/(1+q)) at -s q/(1+q), secondary at +s/(1+q), alpha in
degrees counter-clockwise from the primary->secondary axis, t0 and u0 relative to the centre of
mass. lensflow.conventions converts from and to MulensModel and VBMicrolensing.

Every function takes numpy-broadcastable inputs (scalars, lists, arrays of any layout and real
dtype), returns new float64 arrays of the broadcast shape, releases the GIL while it computes, and
raises ValueError with the library's message (field and flat index) on bad input. threads=0 uses
all of lensflow's worker threads; results are identical bit for bit for any thread count.
"""
import numpy as np

from . import _lensflow
from ._arrays import broadcast_flat, check_scalar, check_threads, tolerances

__all__ = ["point_mag", "finite_mag", "single_lens_mag", "lightcurve", "caustics", "critical_curves"]


def point_mag(s, q, y1, y2, *, threads=0, device="cpu"):
    """Point-source binary-lens magnification A at source position (y1, y2)."""
    shape, (s, q, y1, y2) = broadcast_flat(s=s, q=q, y1=y1, y2=y2)
    A = _lensflow.point_mag(s, q, y1, y2, check_threads(threads), device)
    return A.reshape(shape)


def finite_mag(s, q, y1, y2, rho, a1=0.0, *, tol=None, tol_abs=None, tol_rel=None, threads=0, device="cpu"):
    """Finite-source magnification of a disk of radius rho: returns (A, A_err).

    a1 is the linear limb-darkening coefficient (I ∝ 1 - a1 (1 - sqrt(1 - r²/rho²)), 0 = uniform;
    one value per call). The result aims at |error| <= max(tol_abs, tol_rel * A) (defaults 1e-4 and
    1e-3; tol sets both); A_err is the estimated absolute error of each value.
    """
    shape, (s, q, y1, y2, rho) = broadcast_flat(s=s, q=q, y1=y1, y2=y2, rho=rho)
    ta, tr = tolerances(tol, tol_abs, tol_rel)
    A, err = _lensflow.finite_mag(s, q, y1, y2, rho, check_scalar("a1", a1), ta, tr, check_threads(threads), device)
    return A.reshape(shape), err.reshape(shape)


def single_lens_mag(u, rho=None, a1=0.0, *, threads=0):
    """Single-lens (Paczyński) magnification at lens-source distance u (Einstein radii).

    rho=None: point source, A = (u² + 2) / (u sqrt(u² + 4)) (inf at u = 0). Otherwise a disk of
    radius rho, uniform or linearly limb-darkened with a1, to ~1e-9 relative.
    """
    if rho is None:
        shape, (u,) = broadcast_flat(u=u)
        rho = np.empty(0)
    else:
        shape, (u, rho) = broadcast_flat(u=u, rho=rho)
    A = _lensflow.single_lens_mag(u, rho, check_scalar("a1", a1), check_threads(threads))
    return A.reshape(shape)


def lightcurve(t, s, q, alpha, u0, t0, tE, rho=0.0, *, finite=True, a1=0.0, tol=None, tol_abs=None, tol_rel=None,
               return_error=False, threads=0, device="cpu"):
    """Magnification A(t) of one event, or of a batch of events.

    t is 1-D (days). The event parameters (s, q, alpha [deg], u0, t0 [d], tE [d], rho) broadcast
    together to the batch shape B (scalars: one event); the result has shape B + (len(t),): 1-D for
    one event, [E, len(t)] for E events. finite=False gives point-source curves (rho ignored).
    return_error=True returns (A, A_err).
    """
    t = np.ascontiguousarray(np.asarray(t, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"t must be 1-D, got shape {t.shape}")
    shape, fields = broadcast_flat(s=s, q=q, alpha=alpha, u0=u0, t0=t0, tE=tE, rho=rho)
    events = np.stack(fields, axis=1) if fields[0].size else np.empty((0, 7))
    ta, tr = tolerances(tol, tol_abs, tol_rel)
    A, err = _lensflow.lightcurves(events, t, bool(finite), check_scalar("a1", a1), ta, tr, bool(return_error),
                                   check_threads(threads), device)
    out_shape = shape + (t.size,)
    return (A.reshape(out_shape), err.reshape(out_shape)) if return_error else A.reshape(out_shape)


def _curves(s, q, n_points):
    s, q = check_scalar("s", s), check_scalar("q", q)
    return _lensflow.critical_and_caustic(s, q, int(n_points))


def caustics(s, q, n_points=512):
    """Caustics of the lens (s, q): a list of closed curves (1, 2 or 3), each a complex array y1 + i y2.

    Each curve is sampled at n_points points per root track; its last point joins its first (the
    first is not repeated).
    """
    return _curves(s, q, n_points)[1]


def critical_curves(s, q, n_points=512):
    """Critical curves of the lens (s, q), as caustics() (complex arrays z1 + i z2, lens plane)."""
    return _curves(s, q, n_points)[0]
