#!/usr/bin/env python3
"""Posterior of one light curve with lensflow's Python package (fits nothing itself):

1. load a light curve (a .npy of fluxes in photon counts on the model's window, or, without
   --flux, one simulated and realized with noise from the training prior);
2. draw the network posterior (Posterior.load(model).sample);
3. refine it by importance sampling with the exact likelihood (refine_is);
4. plot corner plots of both (scripts/plot_evaluation.py's corner; the weighted refined samples
   are resampled by weight) and the light curve with the model of the best refined sample.

Usage: python3 examples/posterior_example.py --model MODEL [--flux curve.npy] [--n 2000]
                                              [--out posterior_example]
MODEL is a lensflow-train run directory (or a checkpoint file). Writes OUT_network.png,
OUT_refined.png and OUT_lightcurve.png.
"""
import argparse
import os
import sys

import numpy as np

import lensflow as lf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from plot_evaluation import corner, plt  # noqa: E402  (matplotlib, Agg backend)


def load_flux(path, post, seed):
    if path:
        return np.load(path).astype(np.float64), np.full(8, np.nan)
    sim = lf.simulate(40, seed=seed, tol=1e-3)  # ~30% pass the 1L1S cut
    real = lf.realize({k: v[:1] for k, v in sim.items()}, seed=seed, n_win=post.n_win, prior=post.prior)
    return real["flux"][0].astype(np.float64), real["theta"][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="lensflow-train run directory or checkpoint file")
    ap.add_argument("--flux", help=".npy light curve (photon counts, the model's window)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="posterior_example")
    a = ap.parse_args()

    post = lf.Posterior.load(a.model)
    flux, truth = load_flux(a.flux, post, a.seed)
    smp = post.sample(flux, a.n, seed=a.seed)
    ref = post.refine_is(flux, smp)
    print(f"network: {smp.n_valid[0]} samples (acceptance {smp.acceptance[0]:.2f}); importance sampling: "
          f"n_eff {ref['n_eff']:.1f} ({ref['message']})")

    names = list(lf.PARAMETER_NAMES)
    corner(smp.theta[0], truth, names, a.out + "_network.png", "network posterior")
    w = ref["weights"]
    if w.sum() > 0:
        pick = np.random.default_rng(a.seed).choice(w.size, size=w.size, p=w / w.sum())
        corner(ref["theta"][pick], truth, names, a.out + "_refined.png",
               f"refined by importance sampling (n_eff {ref['n_eff']:.1f})")

    best = int(np.argmax(w))
    th = ref["theta"][best]
    A = lf.lightcurve(post.times, 10 ** th[0], 10 ** th[1], th[2], th[3], th[4], 10 ** th[5], 10 ** th[6])
    model = ref["fbase"][best] * (th[7] * A + 1 - th[7])
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(post.times, flux, ",", color="0.4", label="light curve")
    ax.plot(post.times, model, color="C0", label="best refined sample")
    ax.set_xlabel("t [d from the window start]")
    ax.set_ylabel("flux [photon counts]")
    ax.legend()
    fig.savefig(a.out + "_lightcurve.png", dpi=110)
    print(f"wrote {a.out}_network.png, {a.out}_refined.png, {a.out}_lightcurve.png")


if __name__ == "__main__":
    main()
