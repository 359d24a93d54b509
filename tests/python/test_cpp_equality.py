"""The package gives the C++ API's numbers bit for bit: lensflow-magnify (which calls
lens::finite_mag_host / lightcurves_host and prints 17 significant digits) on the same inputs."""
import subprocess

import numpy as np

import lensflow as lf

RNG = np.random.default_rng(2024)


def _read_csv(path):
    return np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64)


def _write_csv(path, header, columns):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in zip(*columns):
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def test_points_match_lensflow_magnify(tmp_path, magnify_exe):
    n = 400
    s = 10 ** RNG.uniform(-0.5, 0.5, n)
    q = 10 ** RNG.uniform(-5, 0, n)
    y1, y2 = RNG.uniform(-1.2, 1.2, (2, n))
    rho = 10 ** RNG.uniform(-4, -1.5, n)
    _write_csv(tmp_path / "pts.csv", ["s", "q", "y1", "y2", "rho"], [s, q, y1, y2, rho])
    subprocess.run([magnify_exe, "points", "-i", tmp_path / "pts.csv", "-o", tmp_path / "out.csv"], check=True)
    ref = _read_csv(tmp_path / "out.csv")
    A, err = lf.finite_mag(s, q, y1, y2, rho)
    assert np.array_equal(A, ref["A"]) and np.array_equal(err, ref["A_err"])

    # Limb-darkened, another tolerance.
    a1 = np.full(n, 0.6)
    _write_csv(tmp_path / "ld.csv", ["s", "q", "y1", "y2", "rho", "a1"], [s, q, y1, y2, rho, a1])
    subprocess.run([magnify_exe, "points", "-i", tmp_path / "ld.csv", "-o", tmp_path / "ldo.csv", "--tol", "1e-4"],
                   check=True)
    ref = _read_csv(tmp_path / "ldo.csv")
    A, err = lf.finite_mag(s, q, y1, y2, rho, a1=0.6, tol=1e-4)
    assert np.array_equal(A, ref["A"]) and np.array_equal(err, ref["A_err"])

    _write_csv(tmp_path / "pp.csv", ["s", "q", "y1", "y2"], [s, q, y1, y2])
    subprocess.run([magnify_exe, "points", "-i", tmp_path / "pp.csv", "-o", tmp_path / "po.csv"], check=True)
    assert np.array_equal(lf.point_mag(s, q, y1, y2), _read_csv(tmp_path / "po.csv")["A"])


def test_curves_match_lensflow_magnify(tmp_path, magnify_exe):
    E = 6
    ev = [10 ** RNG.uniform(-0.3, 0.3, E), 10 ** RNG.uniform(-4, -1, E), RNG.uniform(0, 360, E),
          RNG.uniform(-0.2, 0.2, E), RNG.uniform(-5, 5, E), 10 ** RNG.uniform(0.5, 1.5, E),
          10 ** RNG.uniform(-3.5, -2, E)]
    _write_csv(tmp_path / "ev.csv", ["s", "q", "alpha", "u0", "t0", "tE", "rho"], ev)
    t = np.arange(-3000, 3000) * 0.01  # the same grid as --t0 -30 --t1 30 --dt 0.01
    subprocess.run([magnify_exe, "curves", "-i", tmp_path / "ev.csv", "-o", tmp_path / "lc.csv", "--t0", "-30",
                    "--t1", "29.995", "--dt", "0.01"], check=True)
    ref = _read_csv(tmp_path / "lc.csv")
    t_ref = ref["t"].reshape(E, -1)[0]
    assert t_ref.size == t.size
    A, err = lf.lightcurve(t_ref, *ev, return_error=True)
    assert np.array_equal(A.ravel(), ref["A"]) and np.array_equal(err.ravel(), ref["A_err"])
