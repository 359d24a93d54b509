#!/usr/bin/env python3
"""VBMicrolensing reference timings for the lens benchmarks (run beside ours, same machine, same
points). VBMicrolensing uses the frame of docs/conventions.md §Frame directly (COM origin,
secondary at +x; checked against tests/data/binary_uniform.csv by --check).

Usage: vbm_reference.py point POINTS.csv [--repeat R]
  POINTS.csv has columns s,q,y1,y2. Prints one JSON object:
  {"n": ..., "raw_us": per-call time of the Python loop over BinaryMag0,
   "overhead_us": the same loop over the trivial bound call PSPLMag (the Python->C++ call cost),
   "point_us": raw_us - overhead_us (VBMicrolensing's own time per point-source call)}
  (The finite-source parts are added by the finite-source benchmark.)
"""
import argparse
import csv
import json
import sys
import time


def load_points(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return [(float(r["s"]), float(r["q"]), float(r["y1"]), float(r["y2"])) for r in rows]


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def time_point(points, repeat):
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    mag0 = vbm.BinaryMag0
    pspl = vbm.PSPLMag

    def run_mag():
        for s, q, y1, y2 in points:
            mag0(s, q, y1, y2)

    def run_overhead():
        for s, q, y1, y2 in points:
            pspl(y1)

    n = len(points)
    raw = best_time(run_mag, repeat) / n * 1e6
    overhead = best_time(run_overhead, repeat) / n * 1e6
    return {"n": n, "raw_us": raw, "overhead_us": overhead, "point_us": max(raw - overhead, 1e-3)}


def check_frame(reference_csv):
    """Max relative difference between BinaryMag0 and the reference A_point (frame check)."""
    import VBMicrolensing

    vbm = VBMicrolensing.VBMicrolensing()
    worst = 0.0
    with open(reference_csv) as f:
        for i, r in enumerate(csv.DictReader(f)):
            if i >= 2000:
                break
            a = vbm.BinaryMag0(float(r["s"]), float(r["q"]), float(r["y1"]), float(r["y2"]))
            worst = max(worst, abs(a - float(r["A_point"])) / float(r["A_point"]))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["point", "check"])
    ap.add_argument("path", help="points CSV (point) or reference binary_uniform.csv (check)")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    try:
        import VBMicrolensing  # noqa: F401
    except ImportError:
        print(json.dumps({"error": "VBMicrolensing not installed (pip install VBMicrolensing)"}))
        return 2
    if a.mode == "check":
        print(json.dumps({"max_rel_diff_first_2000": check_frame(a.path)}))
    else:
        print(json.dumps(time_point(load_points(a.path), a.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
