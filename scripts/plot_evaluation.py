#!/usr/bin/env python3
"""Plots of a lensflow test-set evaluation (run by `lensflow-evaluate --plots`, or by hand).

    python3 scripts/plot_evaluation.py --posterior OUT.h5 --eval EVAL_DIR [--events K]

Reads OUT.h5 (lensflow-infer --test-set) and EVAL_DIR/{per_event.h5,metrics.json,caustics.h5}
(lensflow-evaluate) and writes into EVAL_DIR:
  predicted_vs_truth.png  per parameter, as Zhang et al. 2021 Fig. 6: the mode closest to the truth
                          (black: the global mode; orange: a minor mode, with the wrong global mode
                          in blue), 16-84% and 5-95% intervals as red bars, the diagonal dashed
  calibration.png         PIT (quantile of the truth) histograms per parameter (Fig. 8) with the
                          KS statistic, and the coverage of central credible intervals vs level
  corner_event_<i>.png    corner plot of event i's posterior samples, truth in red
  lightcurve_event_<i>.png  event i's light curve and the caustics with the true source trajectory
Only h5py, numpy and matplotlib are needed.
"""
import argparse
import json
import math
import os

import h5py
import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "log10_s": r"$\log_{10} s$", "log10_q": r"$\log_{10} q$", "alpha_deg": r"$\alpha$ [deg]",
    "u0": r"$u_0$", "t0": r"$t_0$ [d]", "log10_tE": r"$\log_{10} t_E$",
    "log10_rho": r"$\log_{10} \rho$", "fs": r"$f_s$",
}


def predicted_vs_truth(post, ev, metrics, names, out):
    samples = post["samples"]
    truth = post["theta_true"][:]
    E, S, D = samples.shape
    # Percentiles event by event (chunks keep memory bounded for large test sets).
    pct = np.empty((E, D, 4))
    for e0 in range(0, E, 512):
        s = samples[e0:e0 + 512]
        pct[e0:e0 + len(s)] = np.nanpercentile(s, [5, 16, 84, 95], axis=1).transpose(1, 2, 0)
    gmode, cmode = ev["global_mode"][:], ev["closest_mode"][:]
    cols = 4
    rows = math.ceil(D / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows))
    for d, ax in enumerate(np.atleast_1d(axes).ravel()):
        if d >= D:
            ax.axis("off")
            continue
        t, g, c = truth[:, d], gmode[:, d], cmode[:, d]
        minor = np.isfinite(c) & (c != g)
        ax.vlines(t, pct[:, d, 0], pct[:, d, 3], color="red", alpha=0.15, lw=1)
        ax.vlines(t, pct[:, d, 1], pct[:, d, 2], color="red", alpha=0.35, lw=1.5)
        ax.plot(t[~minor], g[~minor], "k.", ms=3)
        ax.plot(t[minor], c[minor], ".", color="orange", ms=4)
        ax.plot(t[minor], g[minor], ".", color="tab:blue", ms=4)
        lo, hi = np.nanmin(np.r_[t, pct[:, d, 0]]), np.nanmax(np.r_[t, pct[:, d, 3]])
        ax.plot([lo, hi], [lo, hi], "r--", lw=1)
        m = metrics["parameters"][d]
        ax.text(0.03, 0.97, f"constrained {m['constrained_pct']:.1f}%\ncorrect {m['correct_pct']:.1f}%",
                transform=ax.transAxes, va="top", fontsize=9)
        ax.set_xlabel("true " + LABELS.get(names[d], names[d]))
        ax.set_ylabel("predicted " + LABELS.get(names[d], names[d]))
    fig.suptitle(f"Predicted vs truth, {E} test events")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "predicted_vs_truth.png"), dpi=110)
    plt.close(fig)


def calibration(ev, metrics, names, out):
    pit = ev["pit"][:]
    E, D = pit.shape
    cols = 4
    rows = math.ceil(D / cols) + 1
    fig = plt.figure(figsize=(4 * cols, 3.2 * rows))
    for d in range(D):
        ax = fig.add_subplot(rows, cols, d + 1)
        ax.hist(pit[:, d], bins=20, range=(0, 1), density=True, color="0.5")
        ax.axhline(1.0, color="r", ls="--", lw=1)
        ax.set_title(f"{LABELS.get(names[d], names[d])}: KS {metrics['parameters'][d]['pit_ks']:.3f}", fontsize=10)
        ax.set_xlabel("quantile of the truth (PIT)")
    ax = fig.add_subplot(rows, 1, rows)
    levels = np.array(metrics["levels"])
    for d in range(D):
        ax.plot(levels, metrics["parameters"][d]["coverage"], ".-", label=names[d])
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlabel("credible level of the central interval")
    ax.set_ylabel("empirical coverage")
    ax.legend(ncol=4, fontsize=8)
    fig.suptitle(f"Calibration, {E} test events")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "calibration.png"), dpi=110)
    plt.close(fig)


def corner(samples, truth, names, path, title, marks=(), bins=40):
    """Corner plot of samples [n, D], truth in red; marks: points (blue crosses) given by their
    first few coordinates, drawn in the panels those coordinates span."""
    D = samples.shape[1]
    ok = np.all(np.isfinite(samples), axis=1)
    s = samples[ok]
    fig, axes = plt.subplots(D, D, figsize=(1.7 * D, 1.7 * D))
    for i in range(D):
        for j in range(D):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(s[:, i], bins=bins, histtype="step", color="k")
                ax.axvline(truth[i], color="r", lw=1)
            else:
                ax.hist2d(s[:, j], s[:, i], bins=bins, cmap="Greys")
                ax.plot(truth[j], truth[i], "r+", ms=8)
                for m in marks:
                    if i < len(m) and j < len(m):
                        ax.plot(m[j], m[i], "bx", ms=5)
            if i < D - 1:
                ax.set_xticklabels([])
            else:
                ax.set_xlabel(LABELS.get(names[j], names[j]), fontsize=8)
            if j > 0 or i == 0:
                ax.set_yticklabels([])
            else:
                ax.set_ylabel(LABELS.get(names[i], names[i]), fontsize=8)
            ax.tick_params(labelsize=6)
    fig.suptitle(title)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def lightcurve(post, caus, e, path):
    flux, time = post["flux"][e], post["time"][:]
    g = caus[f"event_{e}"]
    th = g.attrs["theta"]
    alpha, u0, t0, tE, rho = math.radians(th[2]), th[3], th[4], 10 ** th[5], 10 ** th[6]
    tau = (time - t0) / tE
    x = tau * math.cos(alpha) - u0 * math.sin(alpha)
    y = tau * math.sin(alpha) + u0 * math.cos(alpha)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    a1.plot(time, flux, "k.", ms=1)
    a1.set_xlabel("days from the window start")
    a1.set_ylabel("flux [photon counts]")
    a1.set_title(f"event {e}: s={g.attrs['s']:.3g}, q={g.attrs['q']:.2e}, u0={u0:.3f}, tE={tE:.1f} d")
    ca, cr = g["caustic"][:], g["critical"][:]
    a2.plot(cr[:, 0], cr[:, 1], color="0.7", lw=0.8, label="critical curves")
    a2.plot(ca[:, 0], ca[:, 1], "r", lw=1, label="caustics")
    a2.plot(x, y, "b", lw=1, label="source trajectory")
    k = np.argmin(np.abs(time - t0))
    a2.add_patch(plt.Circle((x[k], y[k]), rho, color="b", fill=False))
    s, q = g.attrs["s"], g.attrs["q"]
    a2.plot([-s * q / (1 + q), s / (1 + q)], [0, 0], "ko", ms=3)
    span = max(1.5, 1.2 * np.nanmax(np.abs(ca))) if np.isfinite(ca).any() else 1.5
    a2.set_xlim(-span, span)
    a2.set_ylim(-span, span)
    a2.set_aspect("equal")
    a2.legend(fontsize=8, loc="upper right")
    a2.set_xlabel(r"x [$\theta_E$]")
    a2.set_ylabel(r"y [$\theta_E$]")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posterior", required=True)
    ap.add_argument("--eval", required=True, help="directory written by lensflow-evaluate")
    ap.add_argument("--events", type=int, default=4, help="events with corner and light-curve plots")
    args = ap.parse_args()
    with open(os.path.join(args.eval, "metrics.json")) as f:
        metrics = json.load(f)
    written = []
    with h5py.File(args.posterior, "r") as post, h5py.File(os.path.join(args.eval, "per_event.h5"), "r") as ev:
        names = post.attrs["theta_names"]
        names = (names.decode() if isinstance(names, bytes) else str(names)).split(",")
        predicted_vs_truth(post, ev, metrics, names, args.eval)
        calibration(ev, metrics, names, args.eval)
        written += ["predicted_vs_truth.png", "calibration.png"]
        n_flux = post["flux"].shape[0] if "flux" in post else 0
        caus_path = os.path.join(args.eval, "caustics.h5")
        with h5py.File(caus_path, "r") as caus:
            for e in range(min(args.events, post["samples"].shape[0])):
                p = f"corner_event_{e}.png"
                corner(post["samples"][e], post["theta_true"][e], names, os.path.join(args.eval, p),
                       f"event {e}: posterior samples (truth in red)")
                written.append(p)
                if e < n_flux and f"event_{e}" in caus:
                    p = f"lightcurve_event_{e}.png"
                    lightcurve(post, caus, e, os.path.join(args.eval, p))
                    written.append(p)
    for p in written:
        print(os.path.join(args.eval, p))


if __name__ == "__main__":
    main()
