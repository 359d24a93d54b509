"""The training-set generator from Python: the prior, the simulator with its 1L1S cut, and the
realization with photon noise (docs/conventions.md §Priors, §1L1S cut, §Training set, §Noise model).

Draw i of seed S depends only on (S, i), so simulate(n, seed) gives the events and magnification
sequences lensflow-simulate writes for the same seed (any shards, threads or device), and realize()
the noisy light curves training sees for the same (seed, epoch, draw index).
"""
import numpy as np

from . import _lensflow
from ._arrays import check_scalar, check_threads

__all__ = ["PARAMETER_NAMES", "Prior", "simulate", "realize"]

# θ as the network sees it (docs/conventions.md §Priors), in order.
PARAMETER_NAMES = ("log10_s", "log10_q", "alpha_deg", "u0", "t0", "log10_tE", "log10_rho", "fs")
# Fields of Prior.draw, in the order of the C++ PriorDraw.
DRAW_FIELDS = ("s", "q", "alpha", "u0", "t0", "tE", "rho", "fs")
_RANGES = ("s", "q", "alpha", "u0", "t0", "tE")  # followed by the tE normal, then rho and fs


class Prior:
    """The training prior: ranges (lo, hi) of s, q, alpha [deg], u0, t0 [d], tE [d], rho, fs and the
    truncated normal of log10 tE. Prior() is the paper's; Prior(q=(1e-4, 1)) changes one range.
    An invalid prior raises ValueError naming the field."""

    def __init__(self, s=(0.2, 5.0), q=(1e-6, 1.0), alpha=(0.0, 360.0), u0=(0.0, 2.0), t0=(0.0, 72.0),
                 tE=(1.0, 100.0), log10_tE_mean=1.15, log10_tE_sigma=0.45, rho=(1e-4, 1e-2), fs=(0.1, 1.0)):
        v = []
        for name, r in (("s", s), ("q", q), ("alpha", alpha), ("u0", u0), ("t0", t0), ("tE", tE)):
            v += self._range(name, r)
        v += [check_scalar("log10_tE_mean", log10_tE_mean), check_scalar("log10_tE_sigma", log10_tE_sigma)]
        v += self._range("rho", rho) + self._range("fs", fs)
        self.values = np.array(v, dtype=np.float64)
        _lensflow.log_prior(self.values, np.zeros((0, 8)))  # validates (ValueError naming the field)

    @staticmethod
    def _range(name, r):
        try:
            lo, hi = r
        except (TypeError, ValueError):
            raise ValueError(f"{name} range must be a pair (min, max), got {r!r}") from None
        return [check_scalar(f"{name} min", lo), check_scalar(f"{name} max", hi)]

    @classmethod
    def from_values(cls, values):
        """The prior from its 18 stored values (the `prior` attribute of lensflow's HDF5 files)."""
        v = [float(x) for x in values]
        if len(v) != 18:
            raise ValueError(f"a prior has 18 values ({','.join(_lensflow.prior_field_names())}), got {len(v)}")
        return cls(s=v[0:2], q=v[2:4], alpha=v[4:6], u0=v[6:8], t0=v[8:10], tE=v[10:12], log10_tE_mean=v[12],
                   log10_tE_sigma=v[13], rho=v[14:16], fs=v[16:18])

    def __repr__(self):
        names = _lensflow.prior_field_names().split(",")
        return "Prior(" + ", ".join(f"{n}={x:g}" for n, x in zip(names, self.values)) + ")"

    def draw(self, n, seed=1, first_index=0, *, threads=0):
        """Draws first_index … first_index + n - 1 of this seed: a dict of arrays s, q, alpha, u0, t0,
        tE, rho, fs (physical units), and `theta`, [n, 8] in the order of PARAMETER_NAMES."""
        rows = _lensflow.prior_draw(self.values, int(n), int(seed), int(first_index), check_threads(threads))
        out = {k: rows[:, i].copy() for i, k in enumerate(DRAW_FIELDS)}
        out["theta"] = theta_from_physical(rows)
        return out

    def log_prob(self, theta):
        """Normalized log density of θ rows [..., 8] (PARAMETER_NAMES order); -inf outside the support."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (8,):
            raise ValueError(f"theta must have 8 columns ({', '.join(PARAMETER_NAMES)}), got shape {theta.shape}")
        flat = np.ascontiguousarray(theta.reshape(-1, 8))
        return _lensflow.log_prior(self.values, flat).reshape(theta.shape[:-1])


def theta_from_physical(rows):
    """θ [n, 8] from physical rows (s, q, alpha, u0, t0, tE, rho, fs)."""
    rows = np.asarray(rows, dtype=np.float64)
    th = rows.copy()
    for k in (0, 1, 5, 6):
        th[:, k] = np.log10(rows[:, k])
    return th


def simulate(n, seed=1, first_index=0, *, prior=None, n_t=14400, dt=0.01, t0_sim=72.0, finite=True, tol=1e-3,
             cut="paper", device="cpu", threads=0):
    """Simulates prior draws first_index … first_index + n - 1 as lensflow-simulate does.

    Returns a dict: event_index [k] (global draw index of each kept event), events [k, 7]
    (s, q, alpha, u0, t0 = t0_sim, tE, rho), mag [k, n_t] float32 (magnification at t = i·dt),
    chi2_dof [k], all_chi2_dof [n] (the cut statistic of every draw). cut: 'paper' (default),
    'fit', or 'none' (keep every draw). tol is the finite-source relative tolerance.
    """
    prior = prior or Prior()
    return _lensflow.simulate(prior.values, int(n), int(seed), int(first_index), int(n_t), check_scalar("dt", dt),
                              check_scalar("t0_sim", t0_sim), bool(finite), check_scalar("tol", tol), cut, device,
                              check_threads(threads))


def realize(sim, seed, epoch=0, *, prior=None, n_win=7200, dt=0.01, t0_seq=72.0, snr=(23.0, 230.0), noise=True,
            time_reversal=True, threads=0):
    """Realizes simulated sequences as training does: a random window of n_win points, f_s from the
    prior, SNR_base ~ U(snr), photon noise, a time reversal with probability 1/2.

    sim: the dict simulate() returns (mag, events, event_index). The randomness is keyed by
    (seed, epoch, event_index). Returns a dict: flux [B, n_win] float32 photon counts (the light
    curve; times are i·dt days from the window start), x [B, n_win] the network input
    (ln(flux / median)), theta [B, 8] physical θ (PARAMETER_NAMES order), theta_std the network's
    standardized θ.
    """
    prior = prior or Prior()
    snr_lo, snr_hi = snr
    return _lensflow.realize(prior.values, sim["mag"], np.asarray(sim["events"], dtype=np.float64),
                             np.asarray(sim["event_index"]).astype(np.uint64), int(seed), int(epoch), int(n_win),
                             check_scalar("dt", dt), check_scalar("t0_seq", t0_seq), check_scalar("snr min", snr_lo),
                             check_scalar("snr max", snr_hi), bool(noise), bool(time_reversal), check_threads(threads))
