"""Simulation and inference from Python: the prior against its analytic density, the simulator
against lensflow-simulate's shard bit for bit, the realization against the noise model, and a
tiny trained model (lensflow-simulate + lensflow-train) for sample / log_prob / refine_is, the
latter against the likelihood computed here in numpy from docs/conventions.md §Noise model."""
import math
import subprocess

import numpy as np
import pytest

import lensflow as lf

h5py = pytest.importorskip("h5py")


def test_prior_draws_depend_only_on_seed_and_index():
    p = lf.Prior()
    a = p.draw(10, seed=4)
    b, c = p.draw(4, seed=4), p.draw(6, seed=4, first_index=4)
    for k in ("s", "q", "alpha", "tE", "fs"):
        assert np.array_equal(a[k], np.concatenate([b[k], c[k]]))
    assert not np.array_equal(a["s"], p.draw(10, seed=5)["s"])
    assert np.array_equal(a["theta"], p.draw(10, seed=4, threads=1)["theta"])
    big = p.draw(20000, seed=1)
    assert big["s"].min() >= 0.2 and big["s"].max() <= 5 and big["tE"].min() >= 1 and big["tE"].max() <= 100
    # log10 q is uniform on [-6, 0]: mean -3, variance 3.
    lq = np.log10(big["q"])
    assert abs(lq.mean() + 3) < 0.05 and abs(lq.var() - 3) < 0.1


def test_prior_density_is_the_analytic_one():
    p = lf.Prior()
    th = p.draw(50, seed=2)["theta"]
    a, b = (0 - 1.15) / 0.45, (2 - 1.15) / 0.45
    Z = 0.5 * (math.erf(b / math.sqrt(2)) - math.erf(a / math.sqrt(2)))
    expect = []
    for r in th:
        z = (r[5] - 1.15) / 0.45
        expect.append(-math.log(math.log10(25)) - math.log(6) - math.log(360) - math.log(2) - math.log(72)
                      - 0.5 * z * z - math.log(0.45 * math.sqrt(2 * math.pi) * Z)
                      - math.log(2) - math.log(r[7] * math.log(10)))
    assert np.allclose(p.log_prob(th), expect, rtol=1e-12)
    out = th[:3].copy()
    out[:, 3] = -0.1  # u0 below its range
    assert np.all(np.isneginf(p.log_prob(out)))


def test_prior_refuses_bad_ranges():
    with pytest.raises(ValueError, match="q"):
        lf.Prior(q=(1, 1e-6))
    with pytest.raises(ValueError, match="fs"):
        lf.Prior(fs=(0.1, 2.0))


def test_simulate_matches_lensflow_simulate(tmp_path, build_dir):
    exe = build_dir / "apps" / "lensflow-simulate"
    if not exe.exists():
        pytest.skip(f"{exe} not built")
    subprocess.run([exe, "--out", tmp_path / "d", "--n-events", "40", "--seed", "7", "--tol", "1e-2", "--quiet"],
                   check=True)
    sim = lf.simulate(40, seed=7, tol=1e-2)
    (shard,) = (tmp_path / "d").glob("shard_*.h5")
    with h5py.File(shard) as f:
        assert np.array_equal(sim["event_index"], f["event_index"][:])
        assert np.array_equal(sim["events"], f["theta_raw"][:])
        assert np.array_equal(sim["mag"], f["mag"][:])
        assert np.array_equal(sim["chi2_dof"], f["chi2_dof"][:])
        assert np.array_equal(sim["all_chi2_dof"], f["all_chi2_dof"][:])
    # Any split of the draws gives the same events.
    part = lf.simulate(25, seed=7, first_index=15, tol=1e-2, threads=1)
    keep = sim["event_index"] >= 15
    assert np.array_equal(part["mag"], sim["mag"][keep])


def test_realization_follows_the_noise_model():
    sim = lf.simulate(12, seed=11, tol=1e-2, cut="none")
    assert sim["mag"].shape == (12, 14400)
    clean = lf.realize(sim, seed=3, noise=False, time_reversal=False)
    noisy = lf.realize(sim, seed=3, time_reversal=False)
    for i in range(12):
        th = clean["theta"][i]
        k = round((72.0 - th[4]) / 0.01)  # window start: t0 = 72 - k dt
        assert 1 <= k <= 7200
        m = th[7] * sim["mag"][i, k:k + 7200].astype(np.float64) + 1 - th[7]
        F = clean["flux"][i] / m
        assert np.allclose(F, F[0], rtol=1e-6) and 23**2 * (1 - 1e-6) <= F[0] <= 230**2 * (1 + 1e-6)
        g = F[0] * m
        r = (noisy["flux"][i] - g) / np.sqrt(g)
        assert abs(r.mean()) < 5 / math.sqrt(7200) and abs(r.std() - 1) < 0.05
    again = lf.realize(sim, seed=3, time_reversal=False)
    assert np.array_equal(again["flux"], noisy["flux"])
    assert not np.array_equal(lf.realize(sim, seed=3, epoch=1)["flux"], noisy["flux"])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, build_dir):
    sim_exe, train_exe = build_dir / "apps" / "lensflow-simulate", build_dir / "apps" / "lensflow-train"
    if not (sim_exe.exists() and train_exe.exists()):
        pytest.skip("lensflow-simulate / lensflow-train not built")
    d = tmp_path_factory.mktemp("run")
    subprocess.run([sim_exe, "--out", d / "data", "--n-events", "60", "--seed", "3", "--tol", "1e-2", "--quiet"],
                   check=True)
    subprocess.run([train_exe, "--data", d / "data", "--out", d / "run", "--epochs", "1", "--batch", "8", "--threads",
                    "2", "--quiet", "--test-fraction", "0.2", "--val-fraction", "0.2"], check=True)
    return d / "run"


@pytest.fixture(scope="module")
def observed():
    sim = lf.simulate(30, seed=21, tol=1e-2)
    return lf.realize(sim, seed=9)


def test_posterior_samples(run_dir, observed):
    post = lf.Posterior.load(str(run_dir))
    assert post.n_win == 7200 and post.dt == 0.01
    flux = observed["flux"][:3]
    s = post.sample(flux, 200, seed=1)
    assert s.theta.shape == (3, 200, 8) and s.log_q.shape == (3, 200)
    ok = ~np.isnan(s.theta[..., 0])
    assert np.all(np.isfinite(post.prior.log_prob(s.theta[ok])))
    assert np.array_equal(s["u0"], s.theta[..., 3])
    # Same seed, same samples; an event's samples do not depend on the batch it came in.
    assert np.array_equal(post.sample(flux, 200, seed=1).theta, s.theta, equal_nan=True)
    assert np.array_equal(post.sample(flux, 200, seed=1, batch=1).theta, s.theta, equal_nan=True)
    # log_prob gives the sampler's log q (samples are float32, hence the tolerance).
    lq = post.log_prob(s.theta[0][ok[0]], flux[0])
    assert np.allclose(lq, s.log_q[0][ok[0]], rtol=0, atol=1e-3)
    lq_all = post.log_prob(np.nan_to_num(s.theta[:, :5]), flux)
    assert lq_all.shape == (3, 5)
    with pytest.raises(ValueError, match="7200"):
        post.sample(flux[:, :100], 10)
    bad = flux[:2].copy()
    bad[1, :] = np.nan  # no valid point
    with pytest.raises(ValueError, match="light curve 1"):
        post.sample(bad, 10)
    gappy = flux[:1].copy()
    gappy[0, 100:200] = np.nan  # missing points are interpolated for the network
    assert np.isfinite(post.sample(gappy, 10).log_q).any()
    # A checkpoint file names the same kind of model (here the last state instead of best.h5).
    assert lf.Posterior.load(str(run_dir / "checkpoint.h5")).n_win == 7200
    with pytest.raises(FileNotFoundError):
        lf.Posterior.load(str(run_dir / "nothing_here"))


def _log_likelihood(t, x, theta, tol_rel):
    # docs/conventions.md §Noise model, F_base profiled: F = 2a / (n + sqrt(n² + 4ab)).
    out = []
    for th in theta:
        A = lf.lightcurve(t, 10 ** th[0], 10 ** th[1], th[2], th[3], th[4], 10 ** th[5], 10 ** th[6], tol_rel=tol_rel)
        m = th[7] * A + 1 - th[7]
        n, a, b = x.size, np.sum(x * x / m), np.sum(m)
        F = 2 * a / (n + math.sqrt(n * n + 4 * a * b))
        out.append(-0.5 * (a / F - 2 * x.sum() + F * b + n * math.log(F) + np.log(m).sum() + n * math.log(2 * math.pi)))
    return np.array(out)


def test_refine_is_weights_are_likelihood_ratios(observed):
    # Proposal = the prior itself, so the weights are the normalized likelihoods.
    prior = lf.Prior()
    flux = observed["flux"][0].astype(np.float64)
    t = np.arange(7200) * 0.01
    theta = prior.draw(40, seed=8)["theta"]
    theta[0] = observed["theta"][0]  # the truth among them
    res = lf.refine_is(t, flux, theta, prior.log_prob(theta), prior=prior)
    ll = _log_likelihood(t, flux, theta, 1e-3)
    assert np.allclose(res["log_likelihood"], ll, rtol=1e-9, atol=1e-6)
    w = np.exp(ll - ll.max())
    assert np.allclose(res["weights"], w / w.sum(), atol=1e-9)
    assert res["weights"][0] == pytest.approx(1.0, abs=1e-6)  # the truth dominates
    assert res["ok"]


def test_posterior_refine_is_runs_on_its_samples(run_dir, observed):
    post = lf.Posterior.load(str(run_dir))
    s = post.sample(observed["flux"][:1], 100, seed=2)
    res = post.refine_is(observed["flux"][0], s, tol=1e-2)
    w = res["weights"]
    assert w.shape == (100,) and abs(w.sum() - 1) < 1e-9 and res["n_eff"] >= 0
