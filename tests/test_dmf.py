"""DMF solver of the E/I network with STD: determinism, flags, limits."""
import logging

import numpy as np
import pytest

from stdnet.stats import decorrelation_time

from stdnet.dmf.solver import DMFSettings, membrane_filter, network_problem, solve_dmf
from stdnet.dmf.files import read_dmf, write_dmf
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.params import ModelParams

SMALL = dict(n_paths=60, t_path=60.0, t_burn=20.0, dt=0.25, max_lag=15.0, max_iter=6)


def test_dmf_is_deterministic_for_a_seed(tmp_path):
    prob = network_problem(ModelParams(N=1000, J0=1.5))
    a = solve_dmf(prob, DMFSettings(seed=7, **SMALL))
    b = solve_dmf(prob, DMFSettings(seed=7, **SMALL))
    c = solve_dmf(prob, DMFSettings(seed=8, **SMALL))
    for key in ("delta", "mu", "residuals", "signal_acov"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert not np.array_equal(a.delta, c.delta)
    # and the file round trip keeps every number and the flag
    write_dmf(tmp_path / "d.h5", a)
    back = read_dmf(tmp_path / "d.h5")
    np.testing.assert_array_equal(back["delta"], a.delta)
    np.testing.assert_array_equal(back["residuals"], a.residuals)
    assert back["converged"] == a.converged


def test_unconverged_solve_is_flagged_and_logged(caplog):
    prob = network_problem(ModelParams(N=1000, J0=1.5))
    st = DMFSettings(seed=1, **{**SMALL, "max_iter": 3, "tol": 1e-9})
    with caplog.at_level(logging.WARNING, logger="stdnet.dmf.solver"):
        res = solve_dmf(prob, st)
    assert not res.converged
    assert res.iterations == 3 and res.residuals.size == 3
    assert "did NOT converge" in caplog.text


def test_below_transition_collapses_to_the_homogeneous_fixed_point():
    """At J0 = 0.1 the chaotic guess dies out and the means solve the finite-K
    homogeneous fixed point (stdnet.theory.meanfield, an independent solver)."""
    p = ModelParams(N=1000, J0=0.1)
    res = solve_dmf(network_problem(p), DMFSettings(seed=1, **{**SMALL, "max_iter": 40}))
    assert res.converged
    assert res.delta0.max() < 1e-4
    fp = homogeneous_fixed_point(p)
    np.testing.assert_allclose(res.mu, [fp.h_E, fp.h_I], atol=1e-4)
    assert res.signal_means[0] == pytest.approx(fp.nu_E, abs=1e-4)
    assert res.x_mean[0] == pytest.approx(fp.x, abs=1e-4)


def test_membrane_filter_of_white_noise_is_exponential():
    # xi white with unit intensity (delta / dt at lag 0) -> Delta_h = e^{-|t|/tau}/(2 tau)
    dt, tau = 0.01, 1.0
    d_xi = np.zeros(2001)
    d_xi[0] = 1.0 / dt
    t = np.arange(2001) * dt
    np.testing.assert_allclose(membrane_filter(d_xi, tau, dt)[:500],
                               np.exp(-t[:500] / tau) / (2 * tau), rtol=5e-3, atol=1e-5)


def test_decorrelation_time_of_exponential():
    t = np.arange(0, 20, 0.01)
    assert decorrelation_time(t, 3 * np.exp(-t / 2.5)) == pytest.approx(2.5, rel=1e-3)
    assert np.isnan(decorrelation_time(t, np.zeros_like(t)))


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="dmf.solver.damping"):
        DMFSettings(damping=1.5)
    with pytest.raises(ValueError, match="dmf.solver.max_lag"):
        DMFSettings(t_path=50.0, max_lag=40.0)
