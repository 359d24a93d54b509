#!/usr/bin/env python3
"""The science of a trained model on a fresh test set, as tables and plots.

    python3 scripts/science_report.py --posterior POST.h5 --eval EVAL_DIR --out DIR [--bins 4]

POST.h5 comes from `lensflow-infer --test-set DATA --split all` (truths, log_q_true and snr_base
kept) and EVAL_DIR from `lensflow-evaluate --posterior POST.h5` (per_event.h5, metrics.json).
Writes into DIR:
  report.md          test NLL against the prior's (standardized θ and physical θ), per parameter:
                     PIT KS (and the 5% critical value), coverage of the central 50/68/95%
                     intervals, constrained and correct percentages (Zhang et al. 2021 §4.4),
                     median |median - truth| as a fraction of the prior width; and the same split
                     into bins of the baseline S/N (equal counts)
  report.json        the same numbers
  error_vs_snr.png   median error / prior width per parameter against S/N_base
  coverage_vs_snr.png  68% coverage per parameter against S/N_base
Physical θ is (log10 s, log10 q, α in degrees, u0, t0 in days, log10 tE, log10 ρ, f_s): its NLL is
the standardized one plus the sum of log standard deviations (attribute log_std_sum). The prior
width of a parameter is its range (log10 tE: the truncation range; α: 360°); α errors are circular.
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


def prior_widths(prior):
    """Widths of the 8 parameters from the prior attribute (io/prior_fields.hpp order:
    s, q, alpha, u0, t0, tE ranges, log10 tE mean and sigma, rho and f_s ranges)."""
    p = list(prior)
    return np.array([
        math.log10(p[1] / p[0]), math.log10(p[3] / p[2]), p[5] - p[4], p[7] - p[6], p[9] - p[8],
        math.log10(p[11] / p[10]), math.log10(p[15] / p[14]), p[17] - p[16],
    ])


def ks_uniform(x):
    """Kolmogorov-Smirnov statistic of x against U(0, 1)."""
    x = np.sort(x[np.isfinite(x)])
    n = len(x)
    if n == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - x), np.max(x - (i - 1) / n)))


def ks_critical_5pct(n):
    return 1.358 / math.sqrt(n) if n > 0 else float("nan")


def coverage(pit, level):
    """Share of events whose truth lies in the central `level` credible interval."""
    lo, hi = 0.5 - level / 2, 0.5 + level / 2
    ok = np.isfinite(pit)
    return float(np.mean((pit[ok] >= lo) & (pit[ok] <= hi))) if ok.any() else float("nan")


def metrics(rows, pit, constrained, correct, err_frac, names):
    out = {}
    for d, name in enumerate(names):
        p = pit[rows, d]
        c = constrained[rows, d]
        k = correct[rows, d]
        cons = c[np.isfinite(c)] > 0.5
        corr = k[np.isfinite(c) & (c > 0.5)]
        out[name] = {
            "n": int(np.isfinite(p).sum()),
            "pit_ks": ks_uniform(p),
            "ks_crit_5pct": ks_critical_5pct(int(np.isfinite(p).sum())),
            "coverage_50": coverage(p, 0.50),
            "coverage_68": coverage(p, 0.68),
            "coverage_95": coverage(p, 0.95),
            "constrained_pct": 100.0 * float(cons.mean()) if len(cons) else float("nan"),
            "correct_pct": 100.0 * float(np.mean(corr > 0.5)) if len(corr) else float("nan"),
            "median_error_frac": float(np.nanmedian(err_frac[rows, d])),
        }
    return out


def table(m, names):
    lines = ["| parameter | PIT KS (5% crit.) | cov 50 / 68 / 95 | constrained % | correct % | median error / prior width |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in names:
        r = m[name]
        lines.append(f"| {name} | {r['pit_ks']:.3f} ({r['ks_crit_5pct']:.3f}) | {r['coverage_50']:.2f} / "
                     f"{r['coverage_68']:.2f} / {r['coverage_95']:.2f} | {r['constrained_pct']:.1f} | "
                     f"{r['correct_pct']:.1f} | {r['median_error_frac']:.4f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posterior", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bins", type=int, default=4, help="S/N bins of equal counts")
    a = ap.parse_args()
    for path in (a.posterior, os.path.join(a.eval, "per_event.h5"), os.path.join(a.eval, "metrics.json")):
        if not os.path.isfile(path):
            raise SystemExit(f"{path}: no such file (--posterior from lensflow-infer, --eval from lensflow-evaluate)")
    os.makedirs(a.out, exist_ok=True)

    with h5py.File(a.posterior, "r") as f:
        for need in ("theta_true", "log_q_true", "snr_base"):
            if need not in f:
                raise SystemExit(f"{a.posterior}: no '{need}' (infer a simulated set: lensflow-infer --test-set)")
        names = f.attrs["theta_names"]
        names = (names.decode() if isinstance(names, bytes) else str(names)).split(",")
        truth = f["theta_true"][:]
        median = f["summary/median"][:]
        log_q_true = f["log_q_true"][:]
        snr = f["snr_base"][:]
        lss = float(f.attrs["log_std_sum"])
        widths = prior_widths(f.attrs["prior"])
    with h5py.File(os.path.join(a.eval, "per_event.h5"), "r") as g:
        pit = g["pit"][:]
        constrained = g["constrained"][:].astype(float)
        correct = g["correct"][:].astype(float)
        evaluated = g["evaluated"][:].astype(bool)
    with open(os.path.join(a.eval, "metrics.json")) as fh:
        ev_json = json.load(fh)
    E = truth.shape[0]
    if not (median.shape[0] == pit.shape[0] == snr.shape[0] == E):
        raise SystemExit("posterior and evaluation disagree on the number of events")

    err = np.abs(median - truth)
    ia = names.index("alpha_deg")
    err[:, ia] = np.minimum(err[:, ia], 360.0 - err[:, ia])  # circular
    err_frac = err / widths
    rows = np.where(evaluated)[0]

    nll_std = float(np.mean(-log_q_true[rows]) - lss)
    prior_std = float(ev_json["prior_nll"])
    rep = {
        "n_events": int(E), "n_evaluated": int(len(rows)),
        "test_nll_standardized": nll_std, "prior_nll_standardized": prior_std,
        "test_nll_physical": nll_std + lss, "prior_nll_physical": prior_std + lss,
        "gain_nats": prior_std - nll_std,
        "all": metrics(rows, pit, constrained, correct, err_frac, names),
        "snr_bins": [],
    }
    edges = np.quantile(snr[rows], np.linspace(0, 1, a.bins + 1))
    for b in range(a.bins):
        lo, hi = edges[b], edges[b + 1]
        sel = rows[(snr[rows] >= lo) & ((snr[rows] < hi) if b < a.bins - 1 else (snr[rows] <= hi))]
        rep["snr_bins"].append({
            "snr_lo": float(lo), "snr_hi": float(hi), "n": int(len(sel)),
            "test_nll_standardized": float(np.mean(-log_q_true[sel]) - lss),
            "metrics": metrics(sel, pit, constrained, correct, err_frac, names),
        })

    md = [f"# Test-set science: {os.path.basename(a.posterior)}", "",
          f"{len(rows)} of {E} events evaluated (the others had no sample inside the prior).", "",
          "| NLL, nats per event | test | prior | gain |", "| --- | --- | --- | --- |",
          f"| standardized θ | {nll_std:.3f} | {prior_std:.3f} | {prior_std - nll_std:.3f} |",
          f"| physical θ | {nll_std + lss:.3f} | {prior_std + lss:.3f} | {prior_std - nll_std:.3f} |", "",
          "## All events", "", table(rep["all"], names), "", "## By baseline S/N", ""]
    for b in rep["snr_bins"]:
        md += [f"### S/N_base {b['snr_lo']:.0f}-{b['snr_hi']:.0f} ({b['n']} events, test NLL "
               f"{b['test_nll_standardized']:.3f} standardized)", "", table(b["metrics"], names), ""]
    with open(os.path.join(a.out, "report.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    with open(os.path.join(a.out, "report.json"), "w") as fh:
        json.dump(rep, fh, indent=1)

    mid = [0.5 * (b["snr_lo"] + b["snr_hi"]) for b in rep["snr_bins"]]
    for key, fname, ylabel, ref in (("median_error_frac", "error_vs_snr.png", "median |median - truth| / prior width", None),
                                    ("coverage_68", "coverage_vs_snr.png", "68% interval coverage", 0.68)):
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for name in names:
            ax.plot(mid, [b["metrics"][name][key] for b in rep["snr_bins"]], "o-", label=name)
        if ref is not None:
            ax.axhline(ref, color="k", ls="--", lw=0.8)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("baseline S/N (bin centres, equal counts)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, fname), dpi=110)
        plt.close(fig)
    print(f"wrote {a.out}/report.md, report.json, error_vs_snr.png, coverage_vs_snr.png")


if __name__ == "__main__":
    main()
