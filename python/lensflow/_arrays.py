"""Argument handling shared by the wrappers: broadcasting, float64 conversion, threads, device."""
import operator

import numpy as np


def broadcast_flat(**named):
    """Broadcasts the named inputs together (numpy rules) and returns (shape, flat arrays).

    Each input becomes a C-contiguous float64 array of the broadcast shape, flattened; an input
    that already is one is passed on without a copy. A value numpy cannot cast to float64, or a
    complex one (the cast would drop its imaginary part), raises ValueError naming the argument.
    """
    arrays = {}
    for name, value in named.items():
        if np.iscomplexobj(value):
            raise ValueError(f"{name}: complex values are not accepted (real float64 expected)")
        try:
            arrays[name] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name}: not convertible to float64 ({e})") from None
    try:
        views = np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k}{v.shape}" for k, v in arrays.items())
        raise ValueError(f"shapes do not broadcast together: {shapes}") from None
    shape = views[0].shape if views else ()
    flat = [np.ascontiguousarray(v).reshape(-1) for v in views]
    return shape, flat


def check_threads(threads):
    """threads: a non-negative int (0 = all of lensflow's worker threads)."""
    try:
        n = operator.index(threads)
    except TypeError:
        raise ValueError(f"threads = {threads!r} is invalid (must be an int >= 0)") from None
    if n < 0:
        raise ValueError(f"threads = {n} is invalid (must be an int >= 0; 0 = all cores)")
    return n


def check_scalar(name, value):
    """A finite Python float from a scalar argument (ValueError naming it otherwise)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r} is invalid (must be a number)") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} = {v} is invalid (must be finite)")
    return v


def tolerances(tol, tol_abs, tol_rel):
    """Finite-source accuracy goals: tol sets both unless tol_abs/tol_rel are given."""
    if tol is not None:
        tol = check_scalar("tol", tol)
        tol_abs = tol if tol_abs is None else tol_abs
        tol_rel = tol if tol_rel is None else tol_rel
    tol_abs = 1e-4 if tol_abs is None else check_scalar("tol_abs", tol_abs)
    tol_rel = 1e-3 if tol_rel is None else check_scalar("tol_rel", tol_rel)
    return tol_abs, tol_rel
