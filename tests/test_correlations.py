"""Recording of block inputs, their decomposition into shared-input and correlation terms,
surrogate noise floors and the asynchrony measures."""
import numpy as np
import pandas as pd
import pytest

from stdnet.correlations.asynchrony import excess_factor, population_spectrum
from stdnet.correlations.cancellation import (BLOCK_NAMES, analyse_recording, block_weights, decompose,
                                 signal_slices, surrogate_offsets, surrogate_pair_means)
from stdnet.correlations.recording import (BLOCK_SIGNAL, input_autocovariance, input_parts, record_inputs,
                                 sample_neurons)
from stdnet.kernels.cpu import network_vector_field
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams


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


def test_autocovariance_of_constant_inputs():
    h = np.tile(np.arange(5.0), (100, 1))  # 5 neurons, constant in time, different means
    temporal, full = input_autocovariance(h, 10)
    np.testing.assert_allclose(temporal, 0.0, atol=1e-12)
    np.testing.assert_allclose(full, np.var(np.arange(5.0)), rtol=1e-12)


def test_short_continuation_records_consistent_data():
    p = ModelParams(N=200, J0=1.5)
    y0 = homogeneous_fixed_point(p).state(p)
    y0[: p.N] += np.random.default_rng(2).normal(0, 0.5, p.N)
    rec = record_inputs(p, y0, 1, RunParams(dt=0.05), t_measure=5.0, sample_interval=0.5, n_sample=20)
    assert rec["E"].shape == (10, 40) and rec["h"].shape == (10, 40)
    idx_E, idx_I = sample_neurons(p, 20, 1)
    np.testing.assert_array_equal(rec["index"], np.concatenate([idx_E, idx_I]))
    np.testing.assert_array_equal(rec["h"][-1], rec["final_y"][rec["index"]])
    with pytest.raises(ValueError, match="t_measure"):
        record_inputs(p, y0, 1, RunParams(dt=0.05), t_measure=0.0, sample_interval=0.5, n_sample=5)
    with pytest.raises(ValueError, match="t_measure"):
        record_inputs(p, y0, 1, RunParams(dt=0.05), t_measure=1.0, sample_interval=0.5, n_sample=5)
    with pytest.raises(ValueError, match="correlations.sample_interval: invalid value 0.07"):
        record_inputs(p, y0, 1, RunParams(dt=0.05), t_measure=5.0, sample_interval=0.07, n_sample=5)


@pytest.fixture(scope="module")
def chaotic_recording():
    """N = 300, J0 = 1.5 (chaotic), 60 tau after 40 tau of settling, every neuron's
    signals kept; 50 E and 50 I targets."""
    p = ModelParams(N=300, J0=1.5)
    y0 = homogeneous_fixed_point(p).state(p)
    y0[: p.N] += np.random.default_rng(3).normal(0, 1.0, p.N)
    settle = record_inputs(p, y0, 5, RunParams(dt=0.05), t_measure=40.0, sample_interval=0.5,
                           n_sample=5)
    rec = record_inputs(p, settle["final_y"], 5, RunParams(dt=0.05), t_measure=60.0,
                        sample_interval=0.5, n_sample=50, keep_signals=True)
    return p, rec


def _brute_force_terms(p, rec, a, b, b2):
    """Mean over ordered target pairs of the j = l and j != l parts of
    w w' sum_{j in P_i, l in P'_k} C_jl, from the full signal covariance matrix."""
    from stdnet.model.network import build_network

    net = build_network(p, 5)
    nE = int(rec["n_E"])
    idx = rec["index"][:nE] if a == "E" else rec["index"][nE:]
    C = np.cov(rec["signals"].T, ddof=1)
    sl = signal_slices(p)

    def indicator(blk):
        pre = net.pre_E if blk == "E" else net.pre_I
        M = np.zeros((idx.size, C.shape[0]))
        s = sl[BLOCK_SIGNAL[(a, blk)]]
        for r, i in enumerate(idx):
            M[r, s.start + pre[i].astype(np.int64)] = 1.0
        return M

    M1, M2 = indicator(b), indicator(b2)
    G = M1 @ C @ M2.T               # sum over j in P_i, l in P_k of C_jl
    S = M1 @ np.diag(np.diag(C)) @ M2.T   # the j = l part
    n = idx.size
    off = ~np.eye(n, dtype=bool)
    w = block_weights(p, a)
    ww = w[b] * w[b2]
    return ww * S[off].sum() / (n * (n - 1)), ww * (G - S)[off].sum() / (n * (n - 1))


@pytest.mark.parametrize("target", ["E", "I"])
def test_decomposition_matches_brute_force_and_the_measured_covariance(chaotic_recording, target):
    """Shared-input and correlation terms from the all-neuron sums equal those of the full
    300 x 300 (x 2) signal covariance matrix and the connectivity, and they add up to the
    directly measured mean pairwise covariance of the recorded inputs (round-off)."""
    p, rec = chaotic_recording
    st = decompose(rec, p)
    for b in ("E", "I"):
        shared, corr = _brute_force_terms(p, rec, target, b, b)
        scale = abs(shared) + abs(corr)
        assert st[f"{target}.{b}.shared"] == pytest.approx(shared, rel=1e-9, abs=1e-12 * scale)
        assert st[f"{target}.{b}.corr"] == pytest.approx(corr, rel=1e-8, abs=1e-10 * scale)
        assert abs(st[f"{target}.{b}.residual"]) < 1e-10 * scale
        assert st[f"{target}.{b}.measured"] == pytest.approx(shared + corr, rel=1e-8,
                                                             abs=1e-10 * scale)
    shared, corr = _brute_force_terms(p, rec, target, "E", "I")
    assert shared == 0.0
    assert st[f"{target}.cross.corr"] == pytest.approx(2 * corr, rel=1e-8,
                                                       abs=1e-10 * abs(st[f"{target}.I.shared"]))
    total = sum(st[f"{target}.{b}.measured"] for b in BLOCK_NAMES)
    assert st[f"{target}.total.measured"] == pytest.approx(total, rel=1e-9)
    # the inhibitory block is cancelled by negative I-I correlations in this chaotic state
    assert st[f"{target}.I.shared"] > 0 and st[f"{target}.I.corr"] < 0


def _ar1(rng, n_t, n, phi):
    x = np.empty((n_t, n))
    x[0] = rng.standard_normal(n) / np.sqrt(1 - phi ** 2)
    for t in range(1, n_t):
        x[t] = phi * x[t - 1] + rng.standard_normal(n)
    return x * np.sqrt(1 - phi ** 2)  # unit variance


@pytest.mark.parametrize("phi", [0.0, 0.8])
def test_surrogate_floor_of_independent_signals_matches_theory(phi):
    """n = 40 independent unit-variance AR(1) columns of n_t = 2000 samples: the mean over
    P = n (n-1)/2 pairs of sample covariances has sd sqrt((1 + phi^2)/(1 - phi^2) / (n_t P)).
    400 surrogates estimate that sd within ~4 % (sampling) plus O(1/n_t) bias; tolerance 12 %."""
    rng = np.random.default_rng(7)
    n_t, n = 2000, 40
    U = _ar1(rng, n_t, n, phi)
    floor = surrogate_pair_means(U, U, surrogate_offsets(400, n_t, n, 3)).std(ddof=1)
    expected = np.sqrt((1 + phi ** 2) / (1 - phi ** 2) / (n_t * n * (n - 1) / 2))
    assert floor == pytest.approx(expected, rel=0.12)


def test_floors_and_flags_of_a_recording(chaotic_recording):
    p, rec = chaotic_recording
    st = analyse_recording(rec, p, 30, 5, 3.0)
    for a in ("E", "I"):
        for b in BLOCK_NAMES + ("total",):
            fl = st[f"{a}.{b}.floor"]
            assert np.isfinite(fl) and fl > 0
            assert st[f"{a}.{b}.measured_detected"] == (abs(st[f"{a}.{b}.measured"]) >= 3 * fl)


def test_excess_factor_of_independent_and_common_signals():
    """Independent neurons: X = 1 (sd of the estimate ~ sqrt(2/n_t) = 0.03 for white
    noise, tolerance 0.15). A common signal of variance share rho: X = 1 + (N - 1) rho."""
    rng = np.random.default_rng(11)
    n_t, N = 2000, 200
    r = rng.standard_normal((n_t, N))
    X = excess_factor(r.mean(axis=1), float(r.var(axis=0, ddof=1).mean()), N)
    assert X["excess"] == pytest.approx(1.0, abs=0.15)
    assert X["excess_half"] < 0.2
    rho = 0.05
    r = np.sqrt(rho) * rng.standard_normal((n_t, 1)) + np.sqrt(1 - rho) * r
    X = excess_factor(r.mean(axis=1), float(r.var(axis=0, ddof=1).mean()), N)
    assert X["excess"] == pytest.approx(1 + (N - 1) * rho, rel=0.15)


def test_scaled_spectrum_integrates_to_the_excess_factor():
    rng = np.random.default_rng(12)
    n_t, N, dt = 4000, 100, 0.5
    r = _ar1(rng, n_t, N, 0.9)
    R, A = r.mean(axis=1), float(r.var(axis=0, ddof=1).mean())
    f, S = population_spectrum(R, A, N, dt, segment=200.0)
    X = excess_factor(R, A, N)["excess"]
    assert np.trapezoid(S, f) == pytest.approx(X, rel=0.1)


@pytest.mark.parametrize("growth, word", [(0.0, "SATURATES"), (1.0, "collective mode"),
                                          (-1.0, "FALLS")])
def test_asynchrony_verdict_reads_the_exponent(growth, word):
    """Four sizes x 3 realizations with 5 % scatter around X = 20 (N/1000)^growth."""
    from stdnet.correlations.asynchrony import asynchrony_fits, verdict

    rng = np.random.default_rng(4)
    rows = [{"J0": 1.5, "N": N, "seed": s,
             "async.nu_E.excess": 20 * (N / 1000) ** growth * (1 + 0.05 * rng.standard_normal()),
             "async.nu_E.excess_half": np.nan}
            for N in (1000, 2000, 4000, 8000) for s in (1, 2, 3)]
    per, fits = asynchrony_fits(pd.DataFrame(rows))
    text = verdict(per, fits)
    assert word in text
    two = pd.DataFrame([r for r in rows if r["N"] <= 2000])
    assert "undetermined" in verdict(*asynchrony_fits(two))
