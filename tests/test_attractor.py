"""The periodic-orbit check (stdnet.lyapunov.attractor) on systems with known attractors, and its
place in the chaos decision (stdnet.lyapunov.run.run_until_decided).

- Stuart-Landau oscillator z' = (mu + i omega) z - |z|^2 z: a stable limit cycle of
  radius sqrt(mu) and period 2 pi / omega (exactly), approached with the Floquet
  multiplier exp(-2 mu T) per turn;
- Lorenz (sigma 10, rho 28, beta 8/3): chaotic, must never be certified.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from stdnet.lyapunov.attractor import CycleCheck, certify, check_cycle
from stdnet.lyapunov.run import LyapunovSettings, run_until_decided


def _rk4(f):
    def step(z, h):
        k1 = f(z)
        k2 = f(z + 0.5 * h * k1)
        k3 = f(z + 0.5 * h * k2)
        k4 = f(z + h * k3)
        z += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return bool(np.all(np.isfinite(z)))
    return step


def _stuart_landau(mu, omega):
    def f(z):
        r2 = z[0] ** 2 + z[1] ** 2
        return np.array([mu * z[0] - omega * z[1] - r2 * z[0],
                         omega * z[0] + mu * z[1] - r2 * z[1],
                         -0.5 * z[2]])  # a third, contracting direction
    return f


def _lorenz(z):
    return np.array([10 * (z[1] - z[0]), z[0] * (28 - z[2]) - z[1],
                     z[0] * z[1] - 8 / 3 * z[2]])


def test_limit_cycle_period_exact():
    """On the cycle (r = sqrt(mu)) the returns coincide to the floor: 'exact', p = 1, and
    the period 2 pi / omega to 1e-8 (RK4, h = 0.01: its phase error per turn ~1e-9)."""
    mu, omega = 1.0, 2.0
    y0 = np.array([1.0, 0.0, 0.0])
    res = check_cycle(_rk4(_stuart_landau(mu, omega)), y0, 0.01, 50.0, lambda z: z[0],
                      settle=5.0)
    assert res.found and res.criterion == "exact" and res.returns_per_period == 1
    assert res.period == pytest.approx(2 * math.pi / omega, rel=1e-8)
    assert res.distance < 1e-6
    assert res.t_checked < 25.0  # stopped early, after four or five turns


def test_slowly_attracting_cycle_is_certified_while_contracting():
    """Started at r = 0.5 sqrt(mu) with mu = 0.05 (multiplier exp(-0.63) per turn of 2 pi):
    the returns shrink geometrically and the 'contracting' rule certifies the orbit
    before the distances reach the exact floor."""
    mu, omega = 0.05, 1.0
    y0 = np.array([0.5 * math.sqrt(mu), 0.0, 1.0])
    res = check_cycle(_rk4(_stuart_landau(mu, omega)), y0, 0.02, 400.0, lambda z: z[0],
                      settle=5.0)
    assert res.found and res.criterion == "contracting"
    assert res.period == pytest.approx(2 * math.pi, rel=1e-3)
    assert res.distance < 1e-4


def test_lorenz_is_never_certified():
    """Lorenz, 200 time units (~ 150 returns), after a transient of 20: no orbit, and
    the closest return stays far above the certification thresholds."""
    step = _rk4(_lorenz)
    y = np.array([1.0, 1.0, 20.0])
    for _ in range(2000):
        step(y, 0.01)
    res = check_cycle(step, y, 0.01, 200.0, lambda z: z[0], settle=5.0, max_gap=50.0)
    assert not res.found and res.criterion == ""
    assert res.n_crossings > 50
    assert res.distance > 1e-3


def test_tiny_chaos_far_from_the_origin_is_not_an_orbit():
    """Lorenz motion of size 1e-6 around a point at distance 1e3: every return is within
    1e-9 of |P|, far below EXACT, but not below 1e-3 of the motion's own size: not
    certified (the amplitude bound; without it this would pass as 'exact')."""
    lorenz = _rk4(_lorenz)
    offset, eps = np.array([1e3, 0.0, 0.0]), 1e-6

    def step(z, h):
        w = (z - offset) / eps
        ok = lorenz(w, h)
        z[:] = offset + eps * w
        return ok
    w = np.array([1.0, 1.0, 20.0])
    for _ in range(2000):
        lorenz(w, 0.01)
    res = check_cycle(step, offset + eps * w, 0.01, 200.0, lambda z: z[0], settle=5.0,
                      max_gap=50.0)
    assert not res.found and res.n_crossings > 50 and res.distance < 1e-6


def test_period_two_orbit():
    """Alternating returns A, B, A, B, ...: p = 1 fails, p = 2 is exact."""
    A, B = np.array([1.0, 2.0]), np.array([1.5, -1.0])
    pts = [A, B, A, B, A]
    res = certify(pts, np.arange(5) * 3.0)
    assert res is not None and res.returns_per_period == 2 and res.period == 6.0


def test_fluctuating_returns_are_not_certified():
    """Distances below CLOSE that do not decrease monotonically (noise around an orbit)
    are not certified; the same sequence sorted in decreasing order is."""
    rng = np.random.default_rng(3)
    base = np.ones(4)
    eps = np.array([5e-5, 8e-5, 3e-5, 6e-5, 4e-5, 7e-5])
    pts = [base + e * rng.standard_normal(4) / 2 for e in eps]
    assert certify(pts, np.arange(6.0), p_max=1) is None
    shrinking = [base + 0.5 ** k * 1e-4 * np.array([1, 0, 0, 0]) for k in range(5)]
    res = certify(shrinking, np.arange(5.0), p_max=1)
    assert res is not None and res.criterion == "contracting"


def test_no_crossing_gives_up_after_max_gap():
    """A state that does not move never crosses the section: the check stops after
    max_gap, not t_max."""
    res = check_cycle(lambda z, h: True, np.ones(3), 0.1, 1000.0, lambda z: z[0],
                      settle=1.0, max_gap=10.0)
    assert not res.found and res.n_crossings == 0 and res.t_checked < 20.0


def test_check_cycle_refuses_bad_times():
    with pytest.raises(ValueError, match="t_max"):
        check_cycle(lambda z, h: True, np.ones(2), 0.1, 5.0, lambda z: z[0], settle=10.0)


class _Runner:
    """A runner that writes a given local-exponent series (as test_sequential's)."""

    def __init__(self, series, n_first, y):
        from stdnet.lyapunov.spectrum import SpectrumState

        self.series = series
        self.st = SpectrumState.fresh(y, np.eye(len(y), 1), n_first, True)

    def run_to(self, n):
        st = self.st
        st.local[st.interval:n, 0] = self.series[st.interval:n]
        st.divergence[st.interval:n] = 0.0
        st.interval = n


def _decide(series, found, zero_tol=0.005):
    settings = LyapunovSettings(t_align=10.0, t_average=100.0, max_extensions=2,
                                cycle_check=50.0)
    calls = []

    def check(y):
        calls.append(1)
        return CycleCheck(found, "exact" if found else "", 30.0 if found else math.nan,
                          1 if found else 0, 1e-8 if found else 0.3, 5, 40.0)
    runner = _Runner(series, 110, np.zeros(2))
    res, decision = run_until_decided(runner, settings, 10, 2, zero_tol, check)
    return res, decision, len(calls), runner.st.interval


def test_certified_orbit_ends_an_undecided_run_not_chaotic():
    """An undecided first look (a slow oscillation around 0: wide interval) with a
    certified orbit stops there, 'not chaotic', with the check's record; without an
    orbit the run is extended as before (the check ran once, at the first look)."""
    t = np.arange(400)
    series = 0.3 * np.sin(2 * np.pi * t / 60.0)
    res, decision, calls, done = _decide(series, True)
    assert decision == "not chaotic" and calls == 1 and done == 110
    assert res.cycle["found"] and res.cycle["period"] == 30.0
    res, decision, calls, done = _decide(series, False)
    assert calls == 1 and done == 310 and res.cycle["found"] is False


def test_check_not_run_on_decided_or_clearly_positive_looks():
    """A first look that is decided, or undecided with lambda_max >= zero_tol, does not run
    the check (its result is the rule's alone)."""
    rng = np.random.default_rng(1)
    chaotic = 0.2 + 0.01 * rng.standard_normal(400)
    _, decision, calls, _ = _decide(chaotic, True)
    assert decision == "chaotic" and calls == 0
    t = np.arange(400)
    weak = 0.02 + 0.3 * np.sin(2 * np.pi * t / 60.0)  # mean above zero_tol, wide interval
    _, _, calls, _ = _decide(weak, True)
    assert calls == 0


def test_settings_validate_cycle_check():
    assert LyapunovSettings(cycle_check=0.0).cycle_check == 0.0
    with pytest.raises(ValueError, match="lyapunov.cycle_check"):
        LyapunovSettings(cycle_check=10.0)  # not above the 20 tau settling time
    with pytest.raises(ValueError, match="lyapunov.cycle_check"):
        LyapunovSettings(cycle_check=-1.0)
    assert dataclasses.replace(LyapunovSettings(), cycle_check=200.0).cycle_check == 200.0


def test_network_periodic_orbit_ends_not_chaotic_and_is_recorded(tmp_path):
    """N = 200, J0 = 3, 60 tau after a kicked fixed point: the periodic orbit of
    test_lyapunov's undecided run (lambda_max 0.0044 +- 0.0035 after 160 tau, an interval
    containing zero_tol). With cycle_check the first look certifies the orbit (period
    ~4.95 tau, contracting returns) and the run ends "not chaotic" at that look, with the
    same exponents as without the check (the check integrates a copy). The file, the table,
    the regime and the onset search's probe record it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_lyapunov import _kicked_state

    from stdnet.lyapunov.files import lyapunov_table, read_lyapunov, write_lyapunov
    from stdnet.lyapunov.run import onset_lyapunov
    from stdnet.onset.search import probe_from_lyapunov
    from stdnet.transition.regimes import PERIODIC, Thresholds, classify_table

    p, net, y0 = _kicked_state(200, 3.0, 1, 60.0)
    s = LyapunovSettings(n_exponents=2, delta_t=1.0, t_align=10.0, t_average=160.0,
                         max_extensions=1, cycle_check=100.0)
    res, _ = onset_lyapunov(p, net, y0, s, seed=5, zero_tol=0.005)
    plain, _ = onset_lyapunov(p, net, y0, dataclasses.replace(s, cycle_check=0.0),
                              seed=5, zero_tol=0.005)
    assert plain.decision == "undecided" and plain.n_extensions == 1
    assert res.decision == "not chaotic"
    assert res.n_extensions == 0 and np.array_equal(res.local, plain.local[:160])
    assert res.cycle["found"] and res.cycle["period"] == pytest.approx(4.95, abs=0.01)
    path = tmp_path / "lyapunov.h5"
    write_lyapunov(path, res, p, s, 5, {"spatial_sd": 0.1, "temporal_sd": 0.2})
    d = read_lyapunov(path)
    assert d["summary"]["cycle_found"] and d["summary"]["cycle_criterion"] == "contracting"
    table = lyapunov_table([path])
    assert bool(table.iloc[0]["cycle_found"]) and table.iloc[0]["cycle_period"] > 4.9
    assert classify_table(table, Thresholds()).iloc[0]["regime"] == PERIODIC
    probe = probe_from_lyapunov(path, 1, 0.005)  # the onset estimator's input: exactly 0
    assert probe.periodic and probe.lambda_max == 0.0 and probe.decision == "not chaotic"
    assert probe.half_width == res.half_width[0]


def test_network_stepper_full_step_is_the_simulation_step(small_params):
    """One step of size dt through network_stepper is kernels.cpu.advance's / kernels.etd4.advance's
    step, bit for bit (the check follows the run's own trajectory)."""
    from stdnet.kernels import etd4 as expint
    from stdnet.lyapunov.attractor import network_stepper
    from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
    from stdnet.model.network import build_network

    net = build_network(small_params, 2)
    y0 = np.random.default_rng(0).uniform(0.1, 0.9, small_params.dim)
    for method, kernel, code, work in (
            ("rk4", advance, METHOD_CODES["rk4"], make_work(small_params)),
            ("etd4", expint.advance, expint.METHOD_CODE, expint.make_work(small_params))):
        a, b = y0.copy(), y0.copy()
        step = network_stepper(small_params, net, method)
        for _ in range(3):
            assert step(a, 0.1)
        kernel(b, 3, code, 0.1, *kernel_args(small_params, net), work)
        assert np.array_equal(a, b), method
