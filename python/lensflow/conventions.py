"""Parameter conversions between lensflow and MulensModel / VBMicrolensing.

lensflow (docs/conventions.md §Frame, §Trajectory): origin at the centre of mass; the primary,
mass fraction 1/(1+q), at x = -s q/(1+q) and the secondary at x = +s/(1+q), so q = m_secondary /
m_primary is the mass of the body at +x over that of the body at -x; alpha in degrees,
counter-clockwise from the primary->secondary axis to the source's direction of motion; t0 and u0
are the time and impact parameter of closest approach to the centre of mass; the source is at
y1 = tau cos(alpha) - u0 sin(alpha), y2 = tau sin(alpha) + u0 cos(alpha), tau = (t - t0)/tE.

MulensModel (version 3): the same origin, bodies and q (the heavier body at negative x for
q < 1), the same t_0, u_0, t_E, rho and s, but its source moves as
x = -tau cos(alpha) + u_0 sin(alpha), y = -tau sin(alpha) - u_0 cos(alpha): its alpha is lensflow's
plus 180 degrees.

VBMicrolensing: BinaryMag0 / BinaryMag2 / BinaryMag(s, q, y1, y2, ...) take lensflow's frame as
is. BinaryLightCurve(params, times) takes params = [ln s, ln q, u0, alpha, ln rho, ln tE, t0] with
alpha in radians and, like MulensModel, 180 degrees from lensflow's (its source moves the other
way along the same line).

Only static binary lenses are converted: parallax, orbital motion, shear or several sources
have no lensflow counterpart and are refused (ValueError naming the parameter).
"""
import math

__all__ = ["from_mulensmodel", "to_mulensmodel", "from_vbmicrolensing", "to_vbmicrolensing", "EVENT_FIELDS"]

# lensflow's event fields, in the order of lensflow.lightcurve's arguments.
EVENT_FIELDS = ("s", "q", "alpha", "u0", "t0", "tE", "rho")

# lensflow field -> MulensModel parameter name.
_MM_NAMES = {"s": "s", "q": "q", "alpha": "alpha", "u0": "u_0", "t0": "t_0", "tE": "t_E", "rho": "rho"}


def _flip_alpha_deg(alpha):
    """alpha + 180 degrees, in [0, 360)."""
    return (alpha + 180.0) % 360.0


def _finite(name, value):
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v} is invalid (must be finite)")
    return v


def from_mulensmodel(parameters):
    """lensflow event dict (s, q, alpha, u0, t0, tE, rho) from MulensModel parameters.

    parameters: a dict of MulensModel names (t_0, u_0, t_E, s, q, alpha [, rho]) or an object with
    a ``parameters`` dict (a MulensModel.ModelParameters or the .parameters of a Model). rho is
    0 (point source) when absent. Other parameters (parallax, orbital motion, t_star, ...) raise
    ValueError naming them.
    """
    params = getattr(parameters, "parameters", parameters)
    params = dict(params)
    if hasattr(params.get("alpha"), "to"):  # astropy Quantity (older MulensModel)
        params["alpha"] = params["alpha"].to("deg").value
    known = set(_MM_NAMES.values())
    extra = sorted(set(params) - known)
    if extra:
        raise ValueError(f"MulensModel parameters {extra} have no lensflow counterpart (static binary lens only)")
    missing = [n for f, n in _MM_NAMES.items() if f != "rho" and n not in params]
    if missing:
        raise ValueError(f"MulensModel parameters {missing} are missing (need t_0, u_0, t_E, s, q, alpha)")
    ev = {f: _finite(n, params[n]) for f, n in _MM_NAMES.items() if n in params}
    ev.setdefault("rho", 0.0)
    ev["alpha"] = _flip_alpha_deg(ev["alpha"])
    return ev


def to_mulensmodel(s, q, alpha, u0, t0, tE, rho=None):
    """MulensModel parameter dict (for MulensModel.Model) of a lensflow event; rho None or 0: point source."""
    out = {"t_0": _finite("t0", t0), "u_0": _finite("u0", u0), "t_E": _finite("tE", tE), "s": _finite("s", s),
           "q": _finite("q", q), "alpha": _flip_alpha_deg(_finite("alpha", alpha))}
    if rho:
        out["rho"] = _finite("rho", rho)
    return out


def to_vbmicrolensing(s, q, alpha, u0, t0, tE, rho):
    """The params list of VBMicrolensing's BinaryLightCurve(params, times) for a lensflow event."""
    for name, v in (("s", s), ("q", q), ("tE", tE), ("rho", rho)):
        if not _finite(name, v) > 0:
            raise ValueError(f"{name} = {v} is invalid (must be > 0: BinaryLightCurve takes its logarithm)")
    return [math.log(s), math.log(q), _finite("u0", u0), math.radians(_flip_alpha_deg(_finite("alpha", alpha))),
            math.log(rho), math.log(tE), _finite("t0", t0)]


def from_vbmicrolensing(params):
    """lensflow event dict from BinaryLightCurve's params [ln s, ln q, u0, alpha_rad, ln rho, ln tE, t0]."""
    if len(params) != 7:
        raise ValueError(f"BinaryLightCurve params must have 7 values, got {len(params)}")
    ln_s, ln_q, u0, alpha_rad, ln_rho, ln_tE, t0 = (_finite(n, v) for n, v in zip(
        ("ln_s", "ln_q", "u0", "alpha", "ln_rho", "ln_tE", "t0"), params))
    return {"s": math.exp(ln_s), "q": math.exp(ln_q), "alpha": _flip_alpha_deg(math.degrees(alpha_rad)),
            "u0": u0, "t0": t0, "tE": math.exp(ln_tE), "rho": math.exp(ln_rho)}
