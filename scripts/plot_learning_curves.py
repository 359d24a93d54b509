#!/usr/bin/env python3
"""Learning curves of lensflow-train runs: validation NLL against training events seen and against
CPU time, plus a table (Markdown) of each run's cost and best NLL.

    python3 scripts/plot_learning_curves.py --out docs/figures/learning_curves.png \
        RUN_DIR[,name=NAME][,n_train=N][,cpu=SECONDS] ...

Each RUN_DIR holds log.csv (epoch,train_nll,val_nll,lr,seconds). n_train (the "N training" count
lensflow-train prints) turns epochs into light curves seen. log.csv's seconds are wall time; when
the run shared the machine, give its total CPU time (user + sys, e.g. from /usr/bin/time) and every
epoch's wall time is scaled by CPU/wall, so that runs are compared by the CPU they used.
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_run(spec):
    path, *fields = spec.split(",")
    opt = dict(f.split("=", 1) for f in fields)
    with open(os.path.join(path, "log.csv")) as f:
        rows = [r for r in csv.DictReader(f)]
    if not rows:
        sys.exit(f"{path}: log.csv has no epochs")
    n_train = int(opt["n_train"]) if "n_train" in opt else None
    model = opt.get("name", os.path.basename(path.rstrip("/")))
    cpu = opt.get("cpu")
    wall = [float(r["seconds"]) for r in rows]
    scale = float(cpu) / sum(wall) if cpu else 1.0
    t, total = [], 0.0
    for w in wall:
        total += w * scale
        t.append(total / 3600.0)
    return {
        "name": str(model),
        "path": path,
        "epoch": [int(r["epoch"]) for r in rows],
        "train": [float(r["train_nll"]) for r in rows],
        "val": [float(r["val_nll"]) for r in rows],
        "hours": t,
        "n_train": n_train,
        "cpu_given": bool(cpu),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="RUN_DIR[,name=NAME][,n_train=N][,cpu=SECONDS]")
    ap.add_argument("--out", required=True, help="PNG to write")
    a = ap.parse_args()
    runs = [read_run(r) for r in a.runs]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for r in runs:
        seen = [e * (r["n_train"] or 1) / 1e3 for e in r["epoch"]]
        ax[0].plot(seen, r["val"], "o-", ms=3, label=r["name"])
        ax[1].plot(r["hours"], r["val"], "o-", ms=3, label=r["name"])
    ax[0].set_xlabel("training light curves seen (thousands)" if all(r["n_train"] for r in runs) else "epoch")
    ax[1].set_xlabel("CPU hours" if all(r["cpu_given"] for r in runs) else "wall hours")
    for x in ax:
        x.set_ylabel("validation NLL (nats/event, standardized θ)")
        x.grid(alpha=0.3)
        x.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, a.out)
    print("| config | epochs | CPU h | CPU s / epoch | best val NLL | val NLL after 0.1 CPU h |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        at = [v for v, h in zip(r["val"], r["hours"]) if h <= 0.1]
        print(f"| {r['name']} | {r['epoch'][-1]} | {r['hours'][-1]:.2f} | {3600 * r['hours'][-1] / r['epoch'][-1]:.0f} "
              f"| {min(r['val']):.2f} | {(min(at) if at else float('nan')):.2f} |")


if __name__ == "__main__":
    main()
