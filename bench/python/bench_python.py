#!/usr/bin/env python3
"""lensflow's Python package against VBMicrolensing's Python module on the same inputs.

Times point_mag and finite_mag on 10^5 points (runs of 1000 points share a lens, as in a fit;
finite_mag also on 10^4 points that each have their own lens) and lightcurve on 100 events x 14,400 epochs, with
VBMicrolensing's fastest call pattern for each: a Python loop over BinaryMag0 / BinaryMag2 (it has
no array call for points) and BinaryLightCurve(params, times) (its loop runs in C++). Finite
source at Tol = RelTol = 1e-3 on both sides. lensflow runs on 1 thread and on all threads.

Python overhead: the time of a one-point call (argument handling, broadcasting, binding) as a
fraction of a 10^4-point call, and the wrapper against the bare binding (lensflow._lensflow).

Usage: python3 bench/python/bench_python.py [--points 100000] [--points-per-lens 1000] [--distinct 10000]
                                             [--events 100] [--repeat 3] [--json OUT]
Needs the installed package (pip install .) and VBMicrolensing. Figures: bench/RESULTS.md.
"""
import argparse
import json
import math
import os
import platform
import timeit

import numpy as np

import lensflow as lf
from lensflow import _lensflow
from lensflow import conventions as cv


def best_time(fn, repeat):
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def prior_points(n, rng, points_per_lens=1):
    # Source positions around the lens; s, q, rho from the training prior (docs/conventions.md
    # §Priors); runs of points_per_lens consecutive points share a lens, as in a fit.
    n_lens = -(-n // points_per_lens)
    s = np.repeat(10 ** rng.uniform(math.log10(0.2), math.log10(5), n_lens), points_per_lens)[:n]
    q = np.repeat(10 ** rng.uniform(-6, 0, n_lens), points_per_lens)[:n]
    y1, y2 = rng.uniform(-1.5, 1.5, (2, n))
    rho = 10 ** rng.uniform(-4, -2, n)
    return s, q, y1, y2, rho


def prior_events(n, rng):
    s, q, _, _, rho = prior_points(n, rng)
    alpha = rng.uniform(0, 360, n)
    u0 = rng.uniform(0, 2, n)
    tE = 10 ** np.clip(rng.normal(1.15, 0.45, n), 0, 2)
    return s, q, alpha, u0, np.full(n, 72.0), tE, rho


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--points-per-lens", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=10_000, help="finite_mag points that each have their own lens")
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    import VBMicrolensing
    vbm = VBMicrolensing.VBMicrolensing()
    vbm.Tol = 1e-3
    vbm.RelTol = 1e-3
    rng = np.random.default_rng(1)
    n_all = lf.default_thread_count()
    res = {"load_before": os.getloadavg()[0], "cpu": platform.processor() or platform.machine(),
           "threads_all": n_all, "points": a.points, "events": a.events}

    s, q, y1, y2, rho = prior_points(a.points, rng, a.points_per_lens)
    args = list(zip(s.tolist(), q.tolist(), y1.tolist(), y2.tolist()))
    res["point_vbm"] = best_time(lambda: [vbm.BinaryMag0(*p) for p in args], a.repeat)
    res["point_lf_1"] = best_time(lambda: lf.point_mag(s, q, y1, y2, threads=1), a.repeat)
    res["point_lf_all"] = best_time(lambda: lf.point_mag(s, q, y1, y2), a.repeat)

    argsr = list(zip(s.tolist(), q.tolist(), y1.tolist(), y2.tolist(), rho.tolist()))
    res["finite_vbm"] = best_time(lambda: [vbm.BinaryMag2(*p) for p in argsr], 1)
    res["finite_lf_1"] = best_time(lambda: lf.finite_mag(s, q, y1, y2, rho, tol=1e-3, threads=1), 1)
    res["finite_lf_all"] = best_time(lambda: lf.finite_mag(s, q, y1, y2, rho, tol=1e-3), 1)

    # Every point its own lens: lensflow builds a caustic outline per lens (cached per thread for
    # the next point of the same lens), VBMicrolensing's BinaryMag2 needs none.
    sd, qd, y1d, y2d, rhod = prior_points(a.distinct, rng, 1)
    argsd = list(zip(sd.tolist(), qd.tolist(), y1d.tolist(), y2d.tolist(), rhod.tolist()))
    res["distinct_vbm"] = best_time(lambda: [vbm.BinaryMag2(*p) for p in argsd], 1)
    res["distinct_lf_1"] = best_time(lambda: lf.finite_mag(sd, qd, y1d, y2d, rhod, tol=1e-3, threads=1), 1)
    res["distinct_lf_all"] = best_time(lambda: lf.finite_mag(sd, qd, y1d, y2d, rhod, tol=1e-3), 1)

    t = np.arange(14400) * 0.01
    ev = prior_events(a.events, rng)
    tl = t.tolist()
    pars = [cv.to_vbmicrolensing(*e) for e in zip(*ev)]
    res["curve_vbm"] = best_time(lambda: [vbm.BinaryLightCurve(p, tl) for p in pars], 1)
    res["curve_lf_1"] = best_time(lambda: lf.lightcurve(t, *ev, tol=1e-3, threads=1), 1)
    res["curve_lf_all"] = best_time(lambda: lf.lightcurve(t, *ev, tol=1e-3), 1)

    # Python overhead: a one-point call against a 10^4-point call (both on 1 thread).
    n4 = min(10_000, a.points)
    one = [np.array([v[0]]) for v in (s, q, y1, y2)]
    res["call_1pt_us"] = 1e6 * best_time(lambda: [lf.point_mag(*one, threads=1) for _ in range(1000)], 3) / 1000
    res["call_1e4_point_s"] = best_time(lambda: lf.point_mag(s[:n4], q[:n4], y1[:n4], y2[:n4], threads=1), a.repeat)
    res["bare_1e4_point_s"] = best_time(lambda: _lensflow.point_mag(s[:n4], q[:n4], y1[:n4], y2[:n4], 1, "cpu"),
                                        a.repeat)
    res["load_after"] = os.getloadavg()[0]

    n = a.points
    print(f"lensflow Python package vs VBMicrolensing {getattr(VBMicrolensing, '__version__', '?')} "
          f"(Python loop / BinaryLightCurve); {n_all} threads; load {res['load_before']:.1f} -> {res['load_after']:.1f}")
    print(f"{'what (finite: tol 1e-3)':38s} {'VBM s':>9s} {'lf 1 thr s':>11s} {'lf all s':>9s} {'ratio 1 thr':>12s} {'ratio all':>10s}")
    per = f"{n} points, {a.points_per_lens}/lens"
    for key, label in (("point", f"point_mag, {per}"), ("finite", f"finite_mag, {per}"),
                       ("distinct", f"finite_mag, {a.distinct} lenses x 1 point"),
                       ("curve", f"lightcurve, {a.events} x 14400")):
        v, l1, la = res[key + "_vbm"], res[key + "_lf_1"], res[key + "_lf_all"]
        print(f"{label:38s} {v:9.3f} {l1:11.3f} {la:9.3f} {v / l1:11.2f}x {v / la:9.2f}x")
    print(f"Python overhead: one-point call {res['call_1pt_us']:.1f} us = "
          f"{100 * res['call_1pt_us'] * 1e-6 / res['call_1e4_point_s']:.2f}% of a {n4}-point call "
          f"({1e3 * res['call_1e4_point_s']:.2f} ms; bare binding {1e3 * res['bare_1e4_point_s']:.2f} ms)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
