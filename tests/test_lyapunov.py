"""The QR algorithm against known exponents, then the network against independent estimates.

Ladder (every rung through stdnet.lyapunov.spectrum.lyapunov_spectrum, the network's code path):
linear system (exact exponents of the RK4 map), Henon map, Lorenz flow, then the
network: lambda_max vs a two-trajectory estimate, and the sum of the full spectrum
vs the time-averaged divergence of the vector field.
"""
import logging
import math

import numpy as np
import pytest

from stdnet.stats import block_ci

from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
from stdnet.lyapunov.spectrum import (continue_spectrum, kaplan_yorke, lyapunov_spectrum,
                             two_trajectory_exponent)
from stdnet.lyapunov.files import lyapunov_table, read_lyapunov, write_lyapunov
from stdnet.lyapunov.qr import random_basis, reorthonormalise
from stdnet.lyapunov.run import LyapunovSettings, network_lyapunov, onset_lyapunov
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.model.seeding import rng
from stdnet.lyapunov.tangent import TangentStepper
from oracles.textbook import HenonMap, LinearSystem, LorenzSystem


def test_reorthonormalise_matches_lapack_qr():
    A = np.random.default_rng(0).standard_normal((50, 7))
    Q = A.copy()
    logr = reorthonormalise(Q)
    q, r = np.linalg.qr(A)
    s = np.sign(np.diag(r))
    assert np.allclose(Q, q * s, atol=1e-13)
    assert np.allclose(logr, np.log(np.abs(np.diag(r))), atol=1e-13)


def test_block_ci_is_t_interval_of_block_means():
    blocks = np.array([1.0, 2.0, 3.0, 4.0])
    series = np.repeat(blocks, 5)[:, None]
    mean, half = block_ci(series, 4, 0.95)
    assert mean[0] == pytest.approx(2.5)
    assert half[0] == pytest.approx(3.182446305284263 * blocks.std(ddof=1) / 2, rel=1e-9)


def test_kaplan_yorke_dimension():
    assert kaplan_yorke([1.0, 0.0, -2.0]) == (2.5, True)
    assert kaplan_yorke([-0.1, -1.0]) == (0.0, True)
    assert kaplan_yorke([0.5, 0.2]) == (2.0, False)  # only a lower bound


def test_linear_system_gives_exact_exponents_of_the_rk4_map():
    """Non-normal A with real eigenvalues: after alignment the local exponents are exact."""
    gen = np.random.default_rng(3)
    P = gen.standard_normal((5, 5))
    A = P @ np.diag([0.3, 0.1, -0.2, -0.5, -1.0]) @ np.linalg.inv(P)
    sys = LinearSystem(A, m=4, dt=0.05)
    res = lyapunov_spectrum(sys, gen.standard_normal(5), random_basis(5, 4, gen),
                            delta_t=1.0, t_align=200.0, t_average=100.0)
    assert np.allclose(res.exponents, sys.exact_exponents(), atol=1e-9)
    assert res.converged


def test_henon_map():
    """lambda_1 = 0.4192 (literature); the sum is log b exactly (det of the map = -b)."""
    H = HenonMap()
    res = lyapunov_spectrum(H, np.array([0.1, 0.1]), random_basis(2, 2, np.random.default_rng(0)),
                            delta_t=1, t_align=100, t_average=100_000)
    # 1e5 iterations: CI half width ~0.002; tolerance 0.01 = 5 half widths
    assert res.exponents[0] == pytest.approx(HenonMap.EXPONENTS[0], abs=0.01)
    assert res.exponents.sum() == pytest.approx(math.log(0.3), abs=1e-10)


def test_lorenz_exponents():
    """Transient 100 (alignment), 2000 time units: CI half widths ~0.009 (measured);
    tolerances 0.03 (about 3 half widths). Sum = -(sigma + 1 + beta) up to O(dt^4)."""
    L = LorenzSystem(dt=0.01)
    res = lyapunov_spectrum(L, np.array([1.0, 1.0, 20.0]),
                            random_basis(3, 3, np.random.default_rng(0)),
                            delta_t=0.1, t_align=100.0, t_average=2000.0)
    lam = res.exponents
    assert lam[0] == pytest.approx(0.9056, abs=0.03)
    assert lam[1] == pytest.approx(0.0, abs=0.01)
    assert lam[2] == pytest.approx(-14.5723, abs=0.03)
    assert lam.sum() == pytest.approx(-(10 + 1 + 8 / 3), abs=1e-3)
    # the reference values lie within a few CI half widths
    assert abs(lam[0] - 0.9056) < 4 * res.half_width[0]


@pytest.fixture(scope="module")
def chaotic_state():
    """N = 400, J0 = 3 (chaotic: lambda_max ~ 0.17), after 60 tau from a kicked FP."""
    p = ModelParams(N=400, J0=3.0)
    net = build_network(p, 1)
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += 0.5 * np.random.default_rng(1).standard_normal(p.N)
    assert advance(y, 1200, 0, 0.05, *kernel_args(p, net), make_work(p)) == -1
    return p, net, y


def test_network_lambda_max_agrees_with_two_trajectories(chaotic_state):
    """Same state, same initial direction, same intervals (10 tau alignment + 100 tau):
    the tangent and the finite-perturbation (d0 = 1e-8) estimates agree within the CI,
    and in fact to O(d0) since they follow the same trajectory."""
    p, net, y0 = chaotic_state
    s = LyapunovSettings(n_exponents=1, delta_t=1.0, t_align=10.0, t_average=100.0)
    res, _ = network_lyapunov(p, net, y0, s, seed=5)
    v = random_basis(p.dim, 1, rng(5, "tangent_basis"))[:, 0]
    work = make_work(p)
    args = kernel_args(p, net)

    def step(z, n):
        assert advance(z, n, METHOD_CODES["rk4"], 0.05, *args, work) == -1

    lam2, half2, _ = two_trajectory_exponent(step, y0, v, d0=1e-8, n_step=20, dt=0.05,
                                             n_align=10, n_avg=100)
    assert res.lambda_max > res.half_width[0]  # really chaotic
    assert abs(res.lambda_max - lam2) < res.half_width[0]
    assert abs(res.lambda_max - lam2) < 1e-3


def test_sum_of_full_spectrum_equals_mean_divergence():
    """N = 40 (dim 72, m = 72): sum of exponents = time average of tr DF along the run.

    QR every step, divergence sampled every step: the only differences are the RK4
    map's O(dt^4) error in log det and the endpoint sampling (relative ~1e-5)."""
    p = ModelParams(N=40, J0=2.5)
    net = build_network(p, 2)
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += 0.5 * np.random.default_rng(2).standard_normal(p.N)
    st = TangentStepper(p, net, p.dim, 0.05)
    res = lyapunov_spectrum(st, y, random_basis(p.dim, p.dim, np.random.default_rng(0)),
                            delta_t=0.05, t_align=0.0, t_average=20.0,
                            divergence=st.divergence)
    assert res.exponents.sum() == pytest.approx(res.divergence.mean(), rel=1e-4)
    assert np.std(res.divergence) > 1e-3  # the divergence does vary along this run


def test_short_run_is_flagged_not_converged(chaotic_state, caplog, tmp_path):
    p, net, y0 = chaotic_state
    s = LyapunovSettings(n_exponents=2, delta_t=1.0, t_align=0.0, t_average=4.0, n_blocks=2)
    with caplog.at_level(logging.WARNING, logger="stdnet.lyapunov.spectrum"):
        res, _ = network_lyapunov(p, net, y0, s, seed=1)
    assert not res.converged
    assert "not converged" in caplog.text
    path = tmp_path / "lyapunov.h5"
    write_lyapunov(path, res, p, s, 1, {"spatial_sd": 0.1, "temporal_sd": 0.2})
    d = read_lyapunov(path)
    assert np.array_equal(d["exponents"], res.exponents)
    assert d["summary"]["converged"] == 0 and d["observables"]["temporal_sd"] == 0.2
    assert d["local"].shape == (4, 2)


def test_bad_intervals_name_the_key():
    L = LorenzSystem(dt=0.01)
    Q = random_basis(3, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="delta_t"):
        lyapunov_spectrum(L, np.ones(3), Q, delta_t=0.015, t_align=0.0, t_average=1.0)
    with pytest.raises(ValueError, match="t_average"):
        lyapunov_spectrum(L, np.ones(3), Q, delta_t=0.1, t_align=0.0, t_average=0.1)


def test_random_basis_columns_do_not_depend_on_m():
    a = random_basis(30, 2, np.random.default_rng(4))
    b = random_basis(30, 6, np.random.default_rng(4))
    assert np.allclose(a, b[:, :2], atol=1e-14)
    assert np.allclose(b.T @ b, np.eye(6), atol=1e-13)


def _kicked_state(N, J0, seed, t):
    """A network state t tau after a kicked homogeneous fixed point (RK4, dt = 0.05)."""
    p = ModelParams(N=N, J0=J0)
    net = build_network(p, seed)
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += 0.5 * np.random.default_rng(seed).standard_normal(p.N)
    assert advance(y, int(round(t / 0.05)), 0, 0.05, *kernel_args(p, net), make_work(p)) == -1
    return p, net, y


def test_continued_run_equals_one_long_run():
    """Align 5 + average 20, continued by 15 then 5 tau == align 5 + average 40, bit for bit
    (N = 100, m = 3, with the divergence trace): nothing restarts in a continuation."""
    p, net, y0 = _kicked_state(100, 3.0, 4, 10.0)
    kw = dict(delta_t=1.0, t_align=5.0, n_blocks=4)
    runs = []
    for pieces in ((20.0, 15.0, 5.0), (40.0,)):
        st = TangentStepper(p, net, 3, 0.05)
        y, Q = y0.copy(), random_basis(p.dim, 3, np.random.default_rng(9))
        res = lyapunov_spectrum(st, y, Q, t_average=pieces[0], divergence=st.divergence, **kw)
        for t_more in pieces[1:]:
            res = continue_spectrum(st, y, Q, res, t_more, divergence=st.divergence)
        runs.append((res, y, Q))
    (a, ya, Qa), (b, yb, Qb) = runs
    assert a.n_extensions == 2 and b.n_extensions == 0 and a.t_average == b.t_average == 40.0
    for name in ("local", "local_align", "divergence", "times", "exponents", "half_width",
                 "tau_int", "batch_length", "n_batches", "ci_envelope"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(ya, yb) and np.array_equal(Qa, Qb)
    assert a.converged == b.converged and a.tolerance == b.tolerance
    with pytest.raises(ValueError, match="divergence"):
        continue_spectrum(TangentStepper(p, net, 3, 0.05), ya, Qa, a, 1.0)
    with pytest.raises(ValueError, match="t_more"):
        continue_spectrum(TangentStepper(p, net, 3, 0.05), ya, Qa, a, 0.5)


def test_ci_method_blocks_reproduces_the_old_interval():
    """ci_method = blocks: the n_blocks fixed blocks as before (block_ci), tau_int still
    reported; batch_means: the batch-means interval of the same local exponents."""
    L = LorenzSystem(dt=0.01)
    out = {}
    for method in ("blocks", "batch_means"):
        out[method] = lyapunov_spectrum(L, np.array([1.0, 1.0, 20.0]),
                                        random_basis(3, 3, np.random.default_rng(0)),
                                        delta_t=0.1, t_align=10.0, t_average=200.0,
                                        n_blocks=10, ci_method=method)
    blk, bm = out["blocks"], out["batch_means"]
    assert np.array_equal(blk.local, bm.local) and np.array_equal(blk.exponents, bm.exponents)
    assert np.array_equal(blk.half_width, block_ci(blk.local, 10, 0.95)[1])
    assert list(blk.n_batches) == [10] * 3 and list(blk.batch_length) == [200] * 3
    assert np.array_equal(blk.tau_int, bm.tau_int) and np.all(bm.n_batches >= 5)
    assert np.all(bm.batch_length >= 10 * np.maximum(bm.tau_int, 1))
    with pytest.raises(ValueError, match="ci_method.*'bm'.*batch_means, blocks"):
        lyapunov_spectrum(L, np.ones(3), random_basis(3, 3, np.random.default_rng(0)),
                          delta_t=0.1, t_align=0.0, t_average=1.0, ci_method="bm")


def test_onset_lyapunov_stays_undecided_and_records_it(tmp_path):
    """N = 200, J0 = 3 after a 60 tau transient from a kicked FP: a periodic orbit
    (lambda_max -> 0; the cumulative sum of its local exponents stays ~0.7). Align 10,
    average 40 tau, 3 extensions: at 160 tau lambda_max = 0.0044 +- 0.0035 (biased by
    ~0.7 / t: the basis aligns slowly, lambda_2 ~ -0.03), an interval containing
    zero_tol = 0.005, so the run ends "undecided" (never a guess), after exactly 3
    continuations that equal one run of 160 tau; the file records it."""
    p, net, y0 = _kicked_state(200, 3.0, 1, 60.0)
    s = LyapunovSettings(n_exponents=2, delta_t=1.0, t_align=10.0, t_average=40.0,
                         max_extensions=3)
    res, _ = onset_lyapunov(p, net, y0, s, seed=5, zero_tol=0.005)
    assert res.decision == "undecided" and res.n_extensions == 3 and res.t_average == 160.0
    assert abs(res.lambda_max) < 0.01 and np.isfinite(res.half_width[0])
    one, _ = network_lyapunov(p, net, y0, LyapunovSettings(
        n_exponents=2, delta_t=1.0, t_align=10.0, t_average=160.0), seed=5)
    assert np.array_equal(res.local, one.local) and np.array_equal(res.half_width, one.half_width)
    path = tmp_path / "lyapunov.h5"
    write_lyapunov(path, res, p, s, 5, {"spatial_sd": 0.1, "temporal_sd": 0.2})
    d = read_lyapunov(path)
    assert d["summary"]["decision"] == "undecided" and d["summary"]["n_extensions"] == 3
    assert d["summary"]["t_average_total"] == 160.0 and d["settings"]["t_average"] == 40.0
    assert d["summary"]["n_batches"] == res.n_batches[0] and d["local"].shape == (160, 2)
    row = lyapunov_table([path]).iloc[0]
    assert row["decision"] == "undecided" and row["t_average_total"] == 160.0
    assert row["n_batches"] == res.n_batches[0] and row["tau_int"] == pytest.approx(
        res.tau_int[0]) and row["ci_method"] == "batch_means"


def test_onset_lyapunov_stops_extending_once_decided(chaotic_state):
    """N = 400, J0 = 3 (chaotic): align 10 + average 60 tau gives fewer than 5 batches
    of 10 tau_int (the half width falls back to the envelope of the local exponents,
    which straddles zero_tol: undecided); one extension to 120 tau decides "chaotic"
    (lambda_max ~ 0.24 +- 0.12) and the second allowed one is not used. Without
    extensions the same run is recorded as undecided."""
    p, net, y0 = chaotic_state
    s = LyapunovSettings(n_exponents=1, delta_t=1.0, t_align=10.0, t_average=60.0,
                         max_extensions=2)
    res, _ = onset_lyapunov(p, net, y0, s, seed=5, zero_tol=0.005)
    assert res.decision == "chaotic" and res.n_extensions == 1 and res.t_average == 120.0
    assert res.lambda_max - res.half_width[0] > 0.005
    short, _ = onset_lyapunov(p, net, y0, s, seed=5, zero_tol=0.005, max_extensions=0)
    assert short.decision == "undecided" and short.n_batches[0] < 5 and short.ci_envelope[0]
    assert short.half_width[0] == np.abs(short.local[:, 0] - short.lambda_max).max()
    assert not res.ci_envelope[0] and res.n_batches[0] >= 5
    assert np.array_equal(short.local, res.local[:60])


def test_settings_validate_ci_method_and_extensions():
    with pytest.raises(ValueError, match="lyapunov.ci_method.*'batch'.*batch_means, blocks"):
        LyapunovSettings(ci_method="batch")
    with pytest.raises(ValueError, match="lyapunov.max_extensions.*-1.*>= 0"):
        LyapunovSettings(max_extensions=-1)
    s = LyapunovSettings.from_config({"ci_method": "blocks", "max_extensions": 0}, {"dt": 0.05})
    assert s.ci_method == "blocks" and s.max_extensions == 0
    assert LyapunovSettings.from_config({}, {"dt": 0.05}).ci_method == "batch_means"


@pytest.mark.parametrize("key,value", [("ci_method", "fixed"), ("max_extensions", -1)])
def test_schema_rejects_bad_ci_settings(key, value):
    from pathlib import Path

    from stdnet.workflow.config import ConfigError, validate_config

    schema = Path(__file__).resolve().parents[1] / "config" / "schema"
    cfg = {"grid": {"N": [200], "J0": [1.0], "seeds": [1]}, "lyapunov": {key: value}}
    with pytest.raises(ConfigError, match=f"lyapunov.{key}"):
        validate_config(cfg, schema)
    ok = validate_config({"grid": cfg["grid"]}, schema)["lyapunov"]
    assert ok["ci_method"] == "batch_means" and ok["max_extensions"] == 2


def test_fixed_point_is_decided_by_the_envelope():
    """N = 200, J0 = 0.1, 60 tau after a kicked FP: the local exponents of lambda_max drift
    smoothly (-0.0900 +- 1e-5) while the basis aligns, tau_int comes out ~n/7 at any
    length, so batch means never get 5 batches; the envelope of the local series
    (every local exponent < zero_tol) decides "not chaotic" without extensions."""
    p, net, y0 = _kicked_state(200, 0.1, 1, 60.0)
    s = LyapunovSettings(n_exponents=2, delta_t=1.0, t_align=10.0, t_average=100.0)
    res, _ = onset_lyapunov(p, net, y0, s, seed=1, zero_tol=0.005)
    assert res.decision == "not chaotic" and res.n_extensions == 0
    assert res.ci_envelope[0] and res.n_batches[0] < 5
    assert res.lambda_max + res.half_width[0] == pytest.approx(res.local[:, 0].max()) or (
        res.lambda_max - res.half_width[0] == pytest.approx(res.local[:, 0].min()))
    assert res.local[:, 0].max() < 0.005 and res.lambda_max == pytest.approx(-0.09, abs=0.005)
