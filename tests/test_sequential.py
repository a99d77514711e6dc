"""Sequential chaos decisions: the look schedule, the error-controlled level, and the decision
loop of the Lyapunov run (stdnet.lyapunov.sequential, stdnet.lyapunov.run; docs/onset.md).

The level is checked against scipy's multivariate normal CDF (Genz), independent of the
Monte Carlo that computes it; the loop is run on synthetic local exponents whose true mean
sits exactly on zero_tol, where every "chaotic" is a wrong decision.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from stdnet.lyapunov.spectrum import SpectrumState
from stdnet.lyapunov.checkpoint import checkpoint_fingerprint
from stdnet.lyapunov.run import LyapunovSettings, run_until_decided, onset_lyapunov
from stdnet.model.params import ModelParams
from stdnet.lyapunov.sequential import controlled_level, crossing_probability, look_intervals

WIDTH_LOOKS = [200.0, 400.0, 600.0, 800.0, 1000.0]  # config/width.yaml: t_average 200, 4 ext.


def _exact_crossing(times, z):
    """1 - P(all K z-statistics <= z), corr sqrt(t_j/t_k): scipy's Genz integration."""
    t = np.asarray(times, float)
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    cdf = stats.multivariate_normal(mean=np.zeros(t.size), cov=corr, abseps=1e-6,
                                    releps=1e-6).cdf(np.full(t.size, z))
    return 1.0 - float(cdf)


def test_look_intervals():
    assert look_intervals(200, 200, 1000) == [200, 400, 600, 800, 1000]
    assert look_intervals(200, 50, 400) == [200, 250, 300, 350, 400]
    assert look_intervals(200, 300, 1000) == [200, 500, 800, 1000]  # the budget is a look
    assert look_intervals(40, 0, 40) == [40]
    with pytest.raises(ValueError, match="n_look"):
        look_intervals(40, 0, 80)
    with pytest.raises(ValueError, match="n_first"):
        look_intervals(0, 10, 80)


def test_settings_looks_reproduce_the_extension_rule():
    s = LyapunovSettings(t_average=200.0, max_extensions=4)
    assert s.looks() == [200, 400, 600, 800, 1000]
    assert s.look_confidence(s.looks()) == 0.95
    s = dataclasses.replace(s, look_every=50.0)
    assert s.looks() == list(range(200, 1001, 50))
    assert s.looks(max_extensions=0) == [200]
    for bad in ({"look_every": -1.0}, {"look_every": 0.5}, {"sequential_alpha": 0.0},
                {"sequential_alpha": 1.5}, {"sequential_alpha": True}):
        key = next(iter(bad))
        with pytest.raises(ValueError, match=f"lyapunov.{key}: invalid value"):
            LyapunovSettings(**bad)
    with pytest.raises(ValueError, match="unknown key"):
        LyapunovSettings.from_config({"look_evry": 50}, {"dt": 0.05})
    s = LyapunovSettings.from_config({"look_every": 50, "sequential_alpha": 0.05}, {"dt": 0.05})
    assert (s.look_every, s.sequential_alpha) == (50, 0.05)


def test_crossing_probability_against_genz():
    # two looks at t and 4t (corr 0.5) and the width study's five looks at 95 % each
    for times in ([1.0, 4.0], WIDTH_LOOKS):
        mc, exact = crossing_probability(times, 1.96), _exact_crossing(times, 1.96)
        assert abs(mc - exact) < 4 * math.sqrt(exact * (1 - exact) / 200_000)
    # five looks at the single-look level: 0.071 per side, almost three times 0.025
    assert 0.065 < _exact_crossing(WIDTH_LOOKS, 1.96) < 0.077


@pytest.mark.parametrize("times", [[200.0], WIDTH_LOOKS])
def test_controlled_level_bounds_each_error_by_alpha_half(times):
    level = controlled_level(times, 0.05)
    assert level == pytest.approx(1 - 0.05 / len(times))
    z = stats.norm.ppf(0.5 + level / 2)
    p = _exact_crossing(times, z)  # in the Brownian limit: below alpha / 2, = with one look
    assert p <= 0.025 + 1e-4
    if len(times) == 1:
        assert p == pytest.approx(0.025, abs=1e-4)


class _SeriesRunner:
    """Stands for IntervalRunner: 'advances' by copying prepared local exponents."""

    def __init__(self, series: np.ndarray, n_first: int):
        self.series = series
        self.st = SpectrumState.fresh(np.zeros(1), np.zeros((1, 1)), n_first, True)

    def run_to(self, n: int) -> None:
        st = self.st
        st.local[st.interval:n, 0] = self.series[st.interval:n]
        st.divergence[st.interval:n] = 0.0
        st.interval = n


def _ar1(rng, n, mean, phi=0.8, sd=0.1):
    """AR(1) local exponents: tau_int = (1 + phi) / (1 - phi) = 9 intervals, sd `sd`."""
    e = rng.standard_normal(n) * sd * math.sqrt(1 - phi**2)
    x = np.empty(n)
    x[0] = rng.standard_normal() * sd
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return mean + x


def _wrong_rate(settings, n_rep, zero_tol=0.005, seed=7):
    rng = np.random.default_rng(seed)
    n_align = 10
    n_last = n_align + settings.looks()[-1]
    wrong = 0
    for _ in range(n_rep):
        runner = _SeriesRunner(_ar1(rng, n_last, zero_tol), n_align + settings.looks()[0])
        _, decision = run_until_decided(runner, settings, n_align, settings.max_extensions,
                                         zero_tol)
        wrong += decision == "chaotic"
    return wrong / n_rep


def test_controlled_looks_keep_the_wrong_chaos_rate():
    """Looks every 50 from 200 to 1000 intervals (17 looks) on AR(1) local exponents with
    mean = zero_tol: 400 series each (the same series for both rules). Each look at 95 %
    calls 14 % of them chaotic; with sequential_alpha = 0.05 at most 2.5 % (+ 2.5
    binomial SE) may be (measured 2.75 %)."""
    base = LyapunovSettings(t_align=10.0, t_average=200.0, max_extensions=4, look_every=50.0)
    n_rep = 400
    uncontrolled = _wrong_rate(base, n_rep)
    controlled = _wrong_rate(dataclasses.replace(base, sequential_alpha=0.05), n_rep)
    se = math.sqrt(0.025 * 0.975 / n_rep)
    assert controlled <= 0.025 + 2.5 * se, controlled
    assert uncontrolled > 0.025 + 2.5 * se, uncontrolled  # the test can tell the two apart


def test_fingerprint_keys_only_when_set():
    p = ModelParams(N=100, J0=1.0)
    y0 = np.zeros(p.dim)
    plain = checkpoint_fingerprint(p, LyapunovSettings(), 1, 0.005, 2, y0)
    assert not any(k.startswith(("settings.look_every", "settings.sequential_alpha"))
                   for k in plain)
    looked = checkpoint_fingerprint(p, LyapunovSettings(look_every=50.0, sequential_alpha=0.05),
                                    1, 0.005, 2, y0)
    assert looked["settings.look_every"] == 50.0 and looked["settings.sequential_alpha"] == 0.05


def test_network_run_stops_at_a_look(tmp_path):
    """N = 400 at J0 = 1.5 (the resume tests' undecided run): with a look every 10 tau the
    run stops at a look, its averaging time is t_average + k look_every, and a look
    schedule equal to the extension rule's gives that rule's bytes."""
    from stdnet.model.params import RunParams
    from stdnet.simulation.simulate import simulate

    p = ModelParams(N=400, J0=1.5)
    sim = simulate(p, RunParams(dt=0.05, t_transient=20.0, t_record=20.0, record_interval=0.5,
                                n_record=3), 1, progress_every_s=1e9)
    base = LyapunovSettings(n_exponents=2, t_align=10.0, t_average=40.0, max_extensions=3)
    y0, net = sim["final"]["y"], sim["network"]
    ref, _ = onset_lyapunov(p, net, y0, base, 1, 0.005)
    same, _ = onset_lyapunov(p, net, y0, dataclasses.replace(base, look_every=40.0), 1, 0.005)
    assert same.local.tobytes() == ref.local.tobytes() and same.decision == ref.decision
    assert same.t_average == ref.t_average
    fine, _ = onset_lyapunov(p, net, y0, dataclasses.replace(base, look_every=10.0), 1, 0.005)
    assert fine.t_average == 40.0 + 10.0 * fine.n_extensions
    assert fine.local.shape[0] == round(fine.t_average)
    assert fine.t_average <= ref.t_average  # its looks include every look of the rule
