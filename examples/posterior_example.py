#!/usr/bin/env python3
"""Posterior of one light curve with lensflow's Python package (fits nothing itself):

1. load a light curve (a .npy of fluxes in photon counts on the model's window, or, without
   --flux, one simulated and realized with noise from the training prior);
2. draw the network posterior (Posterior.load(run_dir).sample);
3. refine it by importance sampling with the exact likelihood (refine_is);
4. plot a corner plot of both and the light curve with the model of the best refined sample.

Usage: python3 examples/posterior_example.py --run RUN_DIR [--flux curve.npy] [--n 2000]
                                              [--out posterior_example.png]
RUN_DIR is a lensflow-train run directory (e.g. demo_out/run_small_e15_b32_seed1 from scripts/demo.sh).
"""
import argparse

import matplotlib
import numpy as np

import lensflow as lf

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_flux(path, post, seed):
    if path:
        return np.load(path).astype(np.float64), None
    sim = lf.simulate(40, seed=seed, tol=1e-3)  # ~30% pass the 1L1S cut
    real = lf.realize({k: v[:1] for k, v in sim.items()}, seed=seed, n_win=post.n_win, prior=post.prior)
    return real["flux"][0].astype(np.float64), real["theta"][0]


def corner(ax, net, ref_theta, ref_w, truth):
    names = lf.PARAMETER_NAMES
    D = len(names)
    for i in range(D):
        for j in range(D):
            a = ax[i, j]
            if j > i:
                a.axis("off")
                continue
            if i == j:
                lo, hi = np.nanpercentile(net[:, i], [0.5, 99.5])
                bins = np.linspace(lo, hi, 40) if hi > lo else 40
                a.hist(net[:, i], bins=bins, density=True, color="0.7", label="network")
                a.hist(ref_theta[:, i], bins=bins, weights=ref_w, density=True, histtype="step", color="C0",
                       label="refined (IS)")
            else:
                a.scatter(net[:, j], net[:, i], s=1, color="0.7", rasterized=True)
                top = ref_w > 1e-3 * ref_w.max()
                a.scatter(ref_theta[top, j], ref_theta[top, i], s=4, c=ref_w[top], cmap="Blues", rasterized=True)
            if truth is not None:
                a.axvline(truth[j], color="C3", lw=0.8)
                if i != j:
                    a.axhline(truth[i], color="C3", lw=0.8)
            if i == D - 1:
                a.set_xlabel(names[j], fontsize=7)
            if j == 0 and i > 0:
                a.set_ylabel(names[i], fontsize=7)
            a.tick_params(labelsize=5)
    ax[0, 0].legend(fontsize=6)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="lensflow-train run directory")
    ap.add_argument("--flux", help=".npy light curve (photon counts, the model's window)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="posterior_example.png")
    a = ap.parse_args()

    post = lf.Posterior.load(a.run)
    flux, truth = load_flux(a.flux, post, a.seed)
    smp = post.sample(flux, a.n, seed=a.seed)
    ref = post.refine_is(flux, smp)
    print(f"acceptance {smp.acceptance[0]:.2f}; importance sampling: n_eff {ref['n_eff']:.1f} of {a.n} "
          f"({ref['message']})")

    net = smp.theta[0][~np.isnan(smp.theta[0, :, 0])]
    fig, ax = plt.subplots(8, 8, figsize=(11, 11))
    corner(ax, net, ref["theta"], ref["weights"], truth)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)

    best = ref["theta"][np.argmax(ref["weights"])]
    A = lf.lightcurve(post.times, 10 ** best[0], 10 ** best[1], best[2], best[3], best[4], 10 ** best[5],
                      10 ** best[6])
    model = ref["fbase"][np.argmax(ref["weights"])] * (best[7] * A + 1 - best[7])
    fig2, ax2 = plt.subplots(figsize=(9, 4))
    ax2.plot(post.times, flux, ",", color="0.4", label="light curve")
    ax2.plot(post.times, model, color="C0", label="best refined sample")
    ax2.set_xlabel("t [d from the window start]")
    ax2.set_ylabel("flux [photon counts]")
    ax2.legend()
    lc_out = a.out.rsplit(".", 1)[0] + "_lightcurve.png"
    fig2.savefig(lc_out, dpi=110)
    print(f"wrote {a.out} and {lc_out}")


if __name__ == "__main__":
    main()
