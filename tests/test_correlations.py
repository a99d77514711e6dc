"""Measurement of E/I input parts and their pairwise statistics."""
import numpy as np
import pytest

from stdnet.correlations import (analyse, input_autocovariance, input_parts, pair_statistics,
                                 power_law_fit, record_inputs, sample_neurons)
from stdnet.integrate import network_vector_field
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams


def test_input_parts_add_up_to_the_vector_field():
    p = ModelParams(N=300, J0=1.5, I0=0.2)
    net = build_network(p, 4)
    rng = np.random.default_rng(0)
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += rng.normal(0, 1.0, p.N)
    y[p.N:] = rng.uniform(0.1, 1.0, p.N_E)
    idx = np.arange(p.N, dtype=np.int64)
    E, I = np.empty(p.N), np.empty(p.N)
    input_parts(y, idx, net.pre_E, net.pre_I, p.N_E, p.transfer_code, p.coupling, p.g_EE,
                p.g_EI, p.g_IE, p.g_II, np.empty(p.N), np.empty(p.N_E), E, I)
    dy = network_vector_field(p, net, y)
    # tau = 1: E + I + I0 = tau dh/dt + h
    np.testing.assert_allclose(E + I + p.I0, dy[: p.N] + y[: p.N], rtol=1e-12, atol=1e-12)
    assert np.all(E >= 0) and np.all(I <= 0)


def test_pair_statistics_recover_a_known_correlation():
    """2000 samples of 50 neurons sharing a common source with correlation 0.3:
    the mean pairwise correlation has sd ~ 0.02 over samples; tolerance 0.05."""
    rng = np.random.default_rng(1)
    rho, n_t, n = 0.3, 2000, 50
    common = rng.standard_normal((n_t, 1))
    X = 2.0 * (np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.standard_normal((n_t, n)))
    st = pair_statistics(X)
    assert st["corr"] == pytest.approx(rho, abs=0.05)
    assert st["var"] == pytest.approx(4.0, rel=0.05)
    assert st["cov"] == pytest.approx(4.0 * rho, abs=0.2)
    # independent columns: no correlation
    assert abs(pair_statistics(rng.standard_normal((n_t, n)))["corr"]) < 0.01


def test_power_law_fit_recovers_exponent_and_sign():
    N = np.array([1000, 1000, 2000, 4000, 8000])
    f = power_law_fit(N, -3.0 * N ** -0.9)
    assert f["exponent"] == pytest.approx(-0.9, abs=1e-10)
    assert f["prefactor"] == pytest.approx(3.0, rel=1e-10)
    assert f["sign"] == -1 and f["stderr"] == pytest.approx(0.0, abs=1e-8)
    assert np.isnan(power_law_fit([1000, 1000], [1.0, 2.0])["exponent"])


def test_autocovariance_of_constant_inputs():
    h = np.tile(np.arange(5.0), (100, 1))  # 5 neurons, constant in time, different means
    temporal, full = input_autocovariance(h, 10)
    np.testing.assert_allclose(temporal, 0.0, atol=1e-12)
    np.testing.assert_allclose(full, np.var(np.arange(5.0)), rtol=1e-12)


def test_short_continuation_records_consistent_data():
    p = ModelParams(N=200, J0=1.5)
    y0 = homogeneous_fixed_point(p).state(p)
    y0[: p.N] += np.random.default_rng(2).normal(0, 0.5, p.N)
    rec = record_inputs(p, y0, 1, {"dt": 0.05}, t_measure=5.0, sample_interval=0.5, n_sample=20)
    assert rec["E"].shape == (10, 40) and rec["h"].shape == (10, 40)
    idx_E, idx_I = sample_neurons(p, 20, 1)
    np.testing.assert_array_equal(rec["index"], np.concatenate([idx_E, idx_I]))
    np.testing.assert_array_equal(rec["h"][-1], rec["final_y"][rec["index"]])
    st = analyse(rec)
    assert all(np.isfinite(v) for v in st.values())
    with pytest.raises(ValueError, match="t_measure"):
        record_inputs(p, y0, 1, {"dt": 0.05}, t_measure=0.0, sample_interval=0.5, n_sample=5)
    with pytest.raises(ValueError, match="record_interval"):
        record_inputs(p, y0, 1, {"dt": 0.05}, t_measure=5.0, sample_interval=0.07, n_sample=5)
