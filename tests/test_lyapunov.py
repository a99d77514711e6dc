"""The QR algorithm against known exponents, then the network against independent estimates.

Ladder (every rung through stdnet.lyapunov.lyapunov_spectrum, the network's code path):
linear system (exact exponents of the RK4 map), Henon map, Lorenz flow, then the
network: lambda_max vs a two-trajectory estimate, and the sum of the full spectrum
vs the time-averaged divergence of the vector field.
"""
import logging
import math

import numpy as np
import pytest

from stdnet.integrate import METHOD_CODES, advance, kernel_args, make_work
from stdnet.lyapunov import (LyapunovSettings, block_ci, kaplan_yorke, lyapunov_spectrum,
                             network_lyapunov, random_basis, read_lyapunov, reorthonormalise,
                             two_trajectory_exponent, write_lyapunov)
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.seeding import rng
from stdnet.tangent import TangentStepper
from stdnet.textbook import HenonMap, LinearSystem, LorenzSystem


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
    with caplog.at_level(logging.WARNING, logger="stdnet.lyapunov"):
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
