#!/usr/bin/env python3
"""VBMicrolensing finite-source reference timings for bench_finite_source_bench (same machine, same
points, same run). Frames: VBMicrolensing's BinaryMag2 uses the frame of docs/conventions.md
§Frame directly; its BinaryLightCurve moves the source the opposite way, so it gets alpha + 180°
(checked against tests/data/lightcurves_sub.csv: BinaryLightCurve with alpha+180° and BinaryMag2
on our trajectory agree with the reference to its tolerance).

Usage:
  vbm_finite_reference.py finite POINTS.csv [--tol 1e-3] [--a1 0] [--repeat 1]
      POINTS.csv: columns s,q,y1,y2,rho[,A_ref]. One JSON line: n, raw_us (Python loop over
      BinaryMag2), overhead_us (the same loop over a trivial bound call), finite_us (the difference:
      VBMicrolensing's own time per call), max_rel_err / p999_rel_err against A_ref when given.
  vbm_finite_reference.py lightcurve EVENTS.csv [--tol 1e-3] [--n-t 14400]
      EVENTS.csv: columns s,q,alpha_deg,u0,t0,tE,rho. One JSON line: n_curves, s_per_curve
      (BinaryLightCurve on t = 0, 0.01, ..., 143.99 days; its loop runs in C++).
"""
import argparse
import csv
import json
import math
import sys
import time


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def time_finite(rows, tol, a1, repeat):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.Tol = tol
    vbm.RelTol = tol
    vbm.a1 = a1
    pts = [(float(r["s"]), float(r["q"]), float(r["y1"]), float(r["y2"]), float(r["rho"])) for r in rows]
    mag2, pspl = vbm.BinaryMag2, vbm.PSPLMag
    out = []

    def run():
        out.clear()
        for s, q, y1, y2, rho in pts:
            out.append(mag2(s, q, y1, y2, rho))

    def run_overhead():
        for s, q, y1, y2, rho in pts:
            pspl(y1)

    def best(fn):
        b = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            b = min(b, time.perf_counter() - t)
        return b

    n = len(pts)
    raw = best(run) / n * 1e6
    overhead = best(run_overhead) / n * 1e6
    res = {"n": n, "raw_us": raw, "overhead_us": overhead, "finite_us": max(raw - overhead, 1e-3)}
    if rows and "A_ref" in rows[0]:
        errs = sorted(abs(a - float(r["A_ref"])) / float(r["A_ref"]) for a, r in zip(out, rows))
        res["max_rel_err"] = errs[-1]
        res["p999_rel_err"] = errs[int(0.999 * (len(errs) - 1))]
    return res


def time_lightcurves(rows, tol, n_t):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.Tol = tol
    vbm.RelTol = tol
    times = [0.01 * i for i in range(n_t)]
    t0 = time.perf_counter()
    for r in rows:
        s, q, alpha, u0, tc, tE, rho = (float(r[k]) for k in ("s", "q", "alpha_deg", "u0", "t0", "tE", "rho"))
        pr = [math.log(s), math.log(q), u0, math.radians(alpha) + math.pi, math.log(rho), math.log(tE), tc]
        vbm.BinaryLightCurve(pr, times)
    dt = time.perf_counter() - t0
    return {"n_curves": len(rows), "s_per_curve": dt / max(len(rows), 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["finite", "lightcurve"])
    ap.add_argument("path")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--a1", type=float, default=0.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--n-t", type=int, default=14400)
    a = ap.parse_args()
    try:
        import VBMicrolensing  # noqa: F401
    except ImportError:
        print(json.dumps({"error": "VBMicrolensing not installed (pip install VBMicrolensing)"}))
        return 2
    rows = load(a.path)
    if a.mode == "finite":
        print(json.dumps(time_finite(rows, a.tol, a.a1, a.repeat)))
    else:
        print(json.dumps(time_lightcurves(rows, a.tol, a.n_t)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
