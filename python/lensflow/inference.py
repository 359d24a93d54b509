"""A trained posterior from Python: Posterior.load(run_dir), sample, log_prob, refine_is.

Light curves are raw fluxes in photon counts (the noise model's unit, docs/conventions.md
§Noise model) on the model's window: n_win points (7,200) at cadence dt (0.01 d), times in days
from the window start (the frame of t0). NaN, ±inf and non-positive points are missing. θ is in
physical units, columns PARAMETER_NAMES (log10 s, log10 q, alpha [deg], u0, t0 [d], log10 tE,
log10 rho, f_s).
"""
import os

import numpy as np

from . import _lensflow
from ._arrays import check_scalar, check_threads
from .simulation import PARAMETER_NAMES, Prior

__all__ = ["Posterior", "Samples", "refine_is"]


class Samples:
    """Posterior samples: theta [E, N, 8] (NaN rows where an event got fewer than N samples inside
    the prior), log_q [E, N], acceptance [E], n_valid [E]; samples["u0"] is theta[..., 3]."""

    names = PARAMETER_NAMES

    def __init__(self, d):
        self.theta, self.log_q = d["theta"], d["log_q"]
        self.acceptance, self.n_valid = d["acceptance"], d["n_valid"]

    def __getitem__(self, name):
        return self.theta[..., PARAMETER_NAMES.index(name)]

    def __repr__(self):
        return f"Samples(theta {self.theta.shape}, names {PARAMETER_NAMES})"


def _flux_rows(flux, n_win):
    f = np.asarray(flux, dtype=np.float32)
    if f.ndim not in (1, 2) or f.shape[-1] != n_win:
        raise ValueError(f"flux must be [{n_win}] or [E, {n_win}] (the model's window), got shape {f.shape}")
    return np.ascontiguousarray(f.reshape(-1, n_win))


class Posterior:
    """A trained model with its prior and window (RUN_DIR/checkpoint.h5 and RUN_DIR/setup.h5)."""

    def __init__(self, impl):
        self._impl = impl
        self.n_win, self.dt = impl.n_win, impl.dt
        self.prior = Prior.from_values(impl.prior)
        self.times = np.arange(self.n_win) * self.dt

    @classmethod
    def load(cls, run_dir, device="cpu"):
        """The model of a lensflow-train run directory (its best.h5, the best validation loss, when
        present, else its checkpoint.h5; the rule of lensflow-infer --model) or of a checkpoint file.
        The prior and window come from setup.h5 beside the checkpoint."""
        path = os.fspath(run_dir)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such checkpoint or run directory")
        return cls(_lensflow.Posterior(path, device))

    def sample(self, flux, n=1000, *, seed=0, max_redraws=10, batch=64):
        """n samples of θ per light curve (flux [n_win] or [E, n_win]) -> Samples with theta [E, n, 8].
        Each event's random numbers depend on (seed, its position in flux, n) only."""
        return Samples(self._impl.sample(_flux_rows(flux, self.n_win), int(n), int(seed), int(max_redraws), int(batch)))

    def log_prob(self, theta, flux, *, batch=64):
        """log q(θ | flux): theta [..., 8] against one light curve (flux [n_win]) or theta [E, ..., 8]
        against E light curves (flux [E, n_win]). Returns theta.shape[:-1]."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (8,):
            raise ValueError(f"theta must have 8 columns ({', '.join(PARAMETER_NAMES)}), got shape {theta.shape}")
        f = _flux_rows(flux, self.n_win)
        one = np.asarray(flux).ndim == 1
        if not one and theta.shape[0] != f.shape[0]:
            raise ValueError(f"theta has {theta.shape[0]} rows for {f.shape[0]} light curves")
        per = int(np.prod(theta.shape[:-1])) // (1 if one else f.shape[0])
        th = np.ascontiguousarray(theta.reshape(-1, 8))
        out = np.empty(th.shape[0])
        step = 1024  # rows per call: bounds the repeated light curves (step × n_win floats)
        for i0 in range(0, th.shape[0], step):
            rows = np.arange(i0, min(i0 + step, th.shape[0]))
            fx = np.repeat(f, rows.size, axis=0) if one else f[rows // per]
            out[rows] = self._impl.log_prob(th[rows], fx, int(batch))
        return out.reshape(theta.shape[:-1])

    def refine_is(self, flux, samples, log_q=None, *, event=0, finite=True, tol=1e-3, fbase="profile", threads=0):
        """Importance-samples the surrogate samples of one light curve with the exact likelihood.

        samples: a Samples (its event `event`) or theta [N, 8] with log_q [N]. Returns a dict:
        theta [N, 8], weights [N] (self-normalized), n_eff, efficiency, log_evidence,
        log_likelihood, log_prior, fbase (profiled F_base per sample), ok, message.
        """
        if isinstance(samples, Samples):
            theta, log_q = samples.theta[event], samples.log_q[event]
        else:
            theta = samples
        f = np.asarray(flux, dtype=np.float64)
        if f.shape != (self.n_win,):
            raise ValueError(f"flux must be one light curve of {self.n_win} points, got shape {f.shape}")
        return refine_is(self.times, f, theta, log_q, prior=self.prior, finite=finite, tol=tol, fbase=fbase,
                         threads=threads)


def refine_is(t, flux, theta, log_q, *, prior=None, finite=True, tol=1e-3, fbase="profile", threads=0):
    """Importance sampling of proposal samples theta [N, 8] (their log density log_q [N]) against
    the exact posterior of the light curve (t [days, frame of t0], flux [photon counts]) under the
    prior: weights ∝ p(flux|θ) p(θ) / q(θ). fbase: 'profile' (default) or 'laplace' (marginal)."""
    if fbase not in ("profile", "laplace"):
        raise ValueError(f"fbase = {fbase!r} is invalid (must be 'profile' or 'laplace')")
    theta = np.ascontiguousarray(np.asarray(theta, dtype=np.float64))
    log_q = np.ascontiguousarray(np.asarray(log_q, dtype=np.float64).reshape(-1))
    t = np.ascontiguousarray(np.asarray(t, dtype=np.float64).reshape(-1))
    flux = np.ascontiguousarray(np.asarray(flux, dtype=np.float64).reshape(-1))
    prior = prior or Prior()
    out = _lensflow.refine_is(t, flux, theta, log_q, prior.values, bool(finite), check_scalar("tol", tol),
                              fbase == "laplace", check_threads(threads))
    out["theta"] = theta
    return out
