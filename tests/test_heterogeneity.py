"""Quenched heterogeneity: the network ensembles (stdnet.model.ensembles), the kernels on
variable in-degrees and per-neuron STD constants, and the stationary theory
(stdnet.theory.quenched) against a brute-force N-dimensional fixed point."""
import dataclasses
import hashlib
import math

import numpy as np
import pytest
from scipy import stats

from stdnet.kernels.cpu import advance, kernel_args, make_work, network_vector_field
from stdnet.kernels.reference import ReferenceModel
from stdnet.lyapunov.tangent import TangentStepper
from stdnet.model import ensembles
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.model.transfer import phi
from stdnet.simulation.simulate import Simulator, simulate
from stdnet.stability.spectrum import jacobian_blocks, polish_fixed_point
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.theory.quenched import QuenchedTheory, moments_of, realization
from stdnet.workflow.config import ConfigError, schema_dir, validate_config

GAMMA_STD = dict(connectivity="indegree_cv", indegree_cv=0.2, indegree_rho=0.5, u_cv=0.3,
                 tau_D_cv=0.2)


def test_fixed_indegree_networks_keep_their_bytes():
    """The pattern drawn before the ensembles existed (sha256 of the rows at 0.1.x)."""
    h = hashlib.sha256()
    for N, c, seed in [(200, 0.1, 1), (500, 0.3, 7), (50, 0.9, 3)]:
        net = build_network(ModelParams(N=N, J0=1.0, c=c), seed)
        h.update(net.pre_E.tobytes())
        h.update(net.pre_I.tobytes())
        assert net.homogeneous and net.u_E is None and net.tau_D_E is None
    assert h.hexdigest() == "79eaab31dcd4ecdc09819c8be1f67efd2fc259ad600d81fadace1d37a7330459"


def test_paper_model_writes_no_heterogeneity_keys():
    """File attributes and checkpoints (ModelParams.to_dict) of the paper's network are
    unchanged; a heterogeneous one records every key that differs."""
    assert "connectivity" not in ModelParams(N=100, J0=1.0).to_dict()
    d = ModelParams(N=1000, J0=1.0, **GAMMA_STD).to_dict()
    assert {k: d[k] for k in GAMMA_STD} == GAMMA_STD


@pytest.mark.parametrize("target", ["E", "I"])
def test_erdos_renyi_in_degrees_are_binomial(target):
    """N = 4000 (pools 3199/3200 E and 799/800 I), c = 0.1: the E and the I in-degrees of the
    3200 E (or 800 I) neurons against Binomial(pool, c), chi^2 over bins with >= 10 expected
    counts (tails merged). Seed fixed; we require p > 1e-3 (a false alarm 1 in 1000)."""
    p = ModelParams(N=4000, J0=1.0, connectivity="erdos_renyi")
    net = build_network(p, 3)
    rows = slice(0, p.N_E) if target == "E" else slice(p.N_E, p.N)
    pool_E, pool_I = (int(a[rows][0]) for a in ensembles.pools(p.N, p.N_E))
    for deg, pool in ((net.in_degree_E[rows], pool_E), (net.in_degree_I[rows], pool_I)):
        n = deg.size
        k = np.arange(pool + 1)
        expected = n * stats.binom.pmf(k, pool, p.c)
        # bins from the left, each closed once it holds >= 10 expected counts
        edges, acc = [0], 0.0
        for j in range(pool + 1):
            acc += expected[j]
            if acc >= 10 and n * stats.binom.sf(j, pool, p.c) >= 10:
                edges.append(j + 1)
                acc = 0.0
        edges.append(pool + 1)
        obs = np.histogram(deg, bins=edges)[0]
        exp = np.add.reduceat(expected, edges[:-1])
        chi2 = float(np.sum((obs - exp) ** 2 / exp))
        assert stats.chi2.sf(chi2, len(obs) - 1) > 1e-3, (target, pool, chi2, len(obs))
        assert deg.max() <= pool


@pytest.mark.parametrize("cv,rho", [(0.1, 0.0), (0.2, 0.9), (0.3, -0.5)])
def test_gamma_in_degrees_hit_cv_and_rho(cv, rho):
    """N = 8000 (K_E = 640, K_I = 160), n = 8000 neurons: the sample CV of K_iE and K_iI and
    the correlation of (K_iE, K_iI) within 4 standard errors of the targets. Standard errors:
    sd of a sample sd of a gamma, sd/sqrt(n) * sqrt((2 + 6 cv^2)/4); of a correlation,
    (1 - rho^2)/sqrt(n) (rounding K g to integers adds 1/12 to a variance of (K cv)^2)."""
    p = ModelParams(N=8000, J0=1.0, connectivity="indegree_cv", indegree_cv=cv,
                    indegree_rho=rho)
    net = build_network(p, 5)
    n = p.N
    se_cv = cv * math.sqrt((2 + 6 * cv ** 2) / 4 / n)
    for deg, K in ((net.in_degree_E, p.K_E), (net.in_degree_I, p.K_I)):
        assert abs(deg.mean() / K - 1) < 4 * cv / math.sqrt(n)
        assert abs(deg.std() / deg.mean() - cv) < 4 * se_cv + 1 / (12 * K * K * cv)
    r = np.corrcoef(net.in_degree_E, net.in_degree_I)[0, 1]
    assert abs(r - rho) < 4 * (1 - rho ** 2) / math.sqrt(n) + 1e-3


def test_copula_reaches_its_correlations():
    """The copula parameter gives the asked Pearson correlation; the bound below -1 is the
    countermonotone pair's, checked by direct quadrature of E[g(z) g(-z)]."""
    for cv in (0.05, 0.3, 1.0):
        for rho in (-0.5, 0.0, 0.9):
            r = ensembles.copula_r(cv, rho)
            assert ensembles.copula_pearson(r, cv) == pytest.approx(rho, abs=1e-9)
        z, w = np.polynomial.hermite_e.hermegauss(200)
        w = w / w.sum()
        g = ensembles.gamma_of_normal(z, cv)
        lo = (np.sum(w * g * g[::-1]) - 1) / cv ** 2
        assert ensembles.rho_range(cv)[0] == pytest.approx(lo, abs=1e-6)


@pytest.mark.parametrize("model,key,match", [
    ({"connectivity": "indegree_cv", "indegree_cv": -0.1}, "model.indegree_cv", ">= 0"),
    ({"connectivity": "indegree_cv", "indegree_cv": 0.1, "indegree_rho": 1.5},
     "model.indegree_rho", "<= 1"),
    ({"connectivity": "indegree_cv", "indegree_cv": 1.0, "indegree_rho": -0.9},
     "indegree_rho", "cannot be fully anticorrelated"),
    ({"connectivity": "indegree_cv", "indegree_cv": 2.5}, "indegree_cv",
     "in-degrees stay within the population"),
    ({"indegree_cv": 0.2}, "indegree_cv", "0 unless connectivity is indegree_cv"),
    ({"connectivity": "random"}, "model.connectivity", "fixed_indegree, erdos_renyi"),
    ({"u_cv": -1}, "model.u_cv", ">= 0"),
])
def test_bad_heterogeneity_keys_are_refused_by_name(model, key, match):
    cfg = {"grid": {"N": [1000], "J0": [0.5], "seeds": [1]}, "model": model}
    with pytest.raises(ConfigError, match=match) as err:
        validate_config(cfg, schema_dir())
    assert key in str(err.value)


def test_paper_config_model_section_is_unchanged():
    """The heterogeneity keys are not filled into a config that does not set them, so the
    rules' params (and with them every finished job) stay as they were."""
    cfg = validate_config({"grid": {"N": [1000], "J0": [0.5], "seeds": [1]}}, schema_dir())
    assert not set(cfg["model"]) & {"connectivity", "indegree_cv", "indegree_rho", "u_cv",
                                     "tau_D_cv"}


def test_neurons_without_inputs_are_allowed():
    """N = 1000, K_I = 20, CV 0.8: a few neurons draw no inhibitory input (the gamma has
    P(20 g < 0.5) ~ 0.003); their input is I0 plus the E part, which the kernel and the
    reference agree on."""
    p = ModelParams(N=1000, J0=1.0, connectivity="indegree_cv", indegree_cv=0.8)
    net = build_network(p, 2)
    assert net.in_degree_I.min() == 0
    y = np.concatenate([np.random.default_rng(0).normal(0.5, 0.3, p.N), np.full(p.N_E, 0.4)])
    assert np.allclose(network_vector_field(p, net, y), ReferenceModel(p, net).vector_field(y),
                       rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", [dict(connectivity="erdos_renyi"), GAMMA_STD])
def test_kernels_match_the_reference_on_heterogeneous_networks(model):
    """Vector field and 40 RK4 steps against the scipy CSR reference (independent code);
    the tangent step's Jacobian product against the assembled Jacobian and central
    differences of the field; its trajectory bit-identical to the plain integrator."""
    p = ModelParams(N=300, J0=1.5, **model)
    net = build_network(p, 5)
    g = np.random.default_rng(0)
    y = np.concatenate([g.normal(0.5, 0.6, p.N), g.uniform(0.1, 0.9, p.N_E)])
    ref = ReferenceModel(p, net)
    assert np.allclose(network_vector_field(p, net, y), ref.vector_field(y), rtol=0,
                       atol=1e-12)
    y_rk = y.copy()
    assert advance(y_rk, 40, 0, 0.05, *kernel_args(p, net), make_work(p)) == -1
    assert np.allclose(y_rk, ref.advance(y, 40, 0.05), rtol=0, atol=1e-12)

    V = g.standard_normal((p.dim, 3))
    J = jacobian_blocks(p, net, y).matrix()
    eps = 1e-6
    fd = np.stack([(network_vector_field(p, net, y + eps * V[:, k])
                    - network_vector_field(p, net, y - eps * V[:, k])) / (2 * eps)
                   for k in range(3)], axis=1)
    assert np.abs(J @ V - fd).max() < 1e-7
    for m, path in ((3, "fused"), (9, "block")):
        ts = TangentStepper(p, net, m, 0.05, path=path)
        W = np.repeat(V, 3, axis=1)[:, :m]
        F, dV = ts.jacobian_times(y, W)
        assert np.allclose(dV, J @ W, rtol=0, atol=1e-12)
        yy, Q = y.copy(), np.linalg.qr(W)[0]
        ts.advance(yy, Q, 40)
        assert np.array_equal(yy, y_rk)
    assert ts.divergence(y) == pytest.approx(J.diagonal().sum(), rel=1e-12)


def test_what_takes_only_the_paper_network_says_so():
    """The correlations' cancellation (one in-degree) and Network.K_E refuse a heterogeneous
    network with a message naming the key, instead of a numba typing error or a wrong
    number. (ETD4 and the CUDA backend take it since issue 25: tests/test_etd4_heterogeneous.py,
    tests/test_cuda_backend.py.)"""
    from stdnet.correlations.recording import record_inputs

    p = ModelParams(N=200, J0=0.5, connectivity="erdos_renyi")
    run = RunParams(dt=0.25, method="etd4", t_transient=1.0, t_record=1.0,
                    record_interval=0.25)
    y0 = homogeneous_fixed_point(p).state(p)
    with pytest.raises(ValueError, match="connectivity: the correlations stage's input"):
        record_inputs(p, y0, 1, run, t_measure=1.0, sample_interval=0.25, n_sample=4)
    with pytest.raises(ValueError, match="connectivity: K_E"):
        _ = Simulator(p, run, 1).net.K_E


def test_quenched_theory_is_the_homogeneous_point_for_the_paper_network():
    p = ModelParams(N=1000, J0=0.5)
    s = QuenchedTheory(p).solve()
    fp = homogeneous_fixed_point(p)
    assert s.nu_E == pytest.approx(fp.nu_E, abs=1e-10)
    assert s.nu_I == pytest.approx(fp.nu_I, abs=1e-10)
    assert s.x_E == pytest.approx(fp.x, abs=1e-10)
    assert s.var_h_E < 1e-12 and s.var_h_I < 1e-12


@pytest.mark.parametrize("model,J0", [(dict(connectivity="erdos_renyi"), 0.6),
                                      (dict(connectivity="indegree_cv", indegree_cv=0.2), 0.6),
                                      (dict(connectivity="indegree_cv", indegree_cv=0.2,
                                            indegree_rho=0.9, u_cv=0.3, tau_D_cv=0.3), 0.3)])
def test_quenched_theory_matches_the_brute_force_fixed_point(model, J0):
    """N = 1000, seed 1, J0 below the loss of stability: 400 tau of RK4 from the homogeneous
    state, then Newton on the N + N_E equations F(y) = 0 to |F| < 1e-10 (the brute-force
    fixed point). The theory with the network's own in-degrees and STD constants predicts
    the across-neuron mean and sd of the inputs; the tolerance is that of the homogeneous
    theory (test_hetfp): 2/sqrt(K_E) = 0.22 on sd/sd_theory - 1 and on
    (mean - mean_theory)/sd_theory, and the same on the population rates in units of the
    theory's rate sd."""
    p = ModelParams(N=1000, J0=J0, **model)
    net = build_network(p, 1)
    y = homogeneous_fixed_point(p).state(p)
    advance(y, 4000, 0, 0.1, *kernel_args(p, net), make_work(p))
    y, res = polish_fixed_point(p, net, y)
    assert res < 1e-10
    s = QuenchedTheory(p, **realization(p, net)).solve()
    h = y[:p.N]
    tol = 2 / math.sqrt(p.K_E)
    for a, rows in (("E", slice(0, p.N_E)), ("I", slice(p.N_E, p.N))):
        sd = math.sqrt(getattr(s, f"var_h_{a}"))
        assert abs(h[rows].std() / sd - 1) < tol
        assert abs(h[rows].mean() - getattr(s, f"mean_h_{a}")) / sd < tol
        sd_nu = math.sqrt(getattr(s, f"var_nu_{a}"))
        assert abs(phi(p.transfer, h[rows]).mean() - getattr(s, f"nu_{a}")) / sd_nu < tol


def test_quenched_input_variance_grows_with_K_unless_degrees_shrink():
    """The degree part of the input variance: fixed CV grows ~K (ratio ~4 per 4x N; less for
    rho = 0.9, whose growth is (1 - rho) smaller but still ~K), Erdos-Renyi stays O(1)."""
    def degree_var(N, **kw):
        return QuenchedTheory(ModelParams(N=N, J0=0.5, **kw)).solve().var_h_degree_I

    cv = dict(connectivity="indegree_cv", indegree_cv=0.1)
    assert 3.0 < degree_var(16000, **cv) / degree_var(4000, **cv) < 5.0
    rho = dict(cv, indegree_rho=0.9)
    assert degree_var(16000, **rho) < 0.25 * degree_var(16000, **cv)
    assert 3.0 < degree_var(16000, **rho) / degree_var(4000, **rho) < 5.0
    er = dict(connectivity="erdos_renyi")
    assert degree_var(16000, **er) / degree_var(4000, **er) < 1.5


def test_silent_fraction_and_quantiles_are_consistent():
    p = ModelParams(N=4000, J0=0.5, connectivity="indegree_cv", indegree_cv=0.2)
    th = QuenchedTheory(p)
    M = moments_of(th.solve())
    q = th.rate_quantiles(M, "I", [0.1, 0.5, 0.9])
    assert q[0] < q[1] < q[2]
    assert th.fraction_below(M, "I", float(q[0])) == pytest.approx(0.1, abs=2e-3)


@pytest.mark.parametrize("extra,match", [
    ({}, "assume the paper's fixed in-degree"),
])
def test_stages_that_assume_fixed_indegree_refuse_a_heterogeneous_model(extra, match):
    """stdnet check refuses before any job: the stability, transition, dmf and correlations
    analyses take only the paper's network (ETD4 takes any since issue 25:
    tests/test_etd4_heterogeneous.py)."""
    cfg = {"grid": {"N": [1000], "J0": [0.5], "seeds": [1]},
           "model": {"connectivity": "erdos_renyi"}, **extra}
    with pytest.raises(ConfigError, match=match):
        validate_config(cfg, schema_dir())
    ok = {"grid": cfg["grid"], "model": cfg["model"], "stages": ["simulate", "heterogeneity"]}
    validate_config(ok, schema_dir())


# ---- chunks and checkpoints on variable rows ------------------------------------------
HETERO = dict(connectivity="indegree_cv", indegree_cv=0.2, indegree_rho=0.5, u_cv=0.2,
              tau_D_cv=0.2)


class _Killed(BaseException):
    """Stands for SIGKILL right after a checkpoint: nothing after it survives."""


def _kill_after(monkeypatch, target, name, n):
    real, count = getattr(target, name), [0]

    def save(*a, **k):
        real(*a, **k)
        count[0] += 1
        if count[0] == n:
            raise _Killed

    monkeypatch.setattr(target, name, save)
    return count


def test_heterogeneous_run_in_chunks_and_resumed_from_a_checkpoint_is_one_run(
        tmp_path, monkeypatch, caplog):
    """Gamma in-degrees with per-neuron u and tau_D (N = 300, J0 = 1.5): chunk_steps 37
    (chunks ending mid-record) and a run killed after its second checkpoint, then resumed,
    give the bytes of one uninterrupted run (final state, population series, records)."""
    from stdnet.simulation import simulate as sim_mod

    p = ModelParams(N=300, J0=1.5, **HETERO)
    net = build_network(p, 3)
    run = RunParams(dt=0.05, t_transient=5.0, t_record=10.0, record_interval=0.5, n_record=3)
    ref = sim_mod.simulate(p, run, 3, network=net, progress_every_s=1e9)
    chunked = sim_mod.simulate(p, dataclasses.replace(run, chunk_steps=37), 3, network=net,
                               progress_every_s=1e9)
    ck = tmp_path / "sim.ckpt.h5"
    run_ck = dataclasses.replace(run, checkpoint_interval=4.0)
    _kill_after(monkeypatch, sim_mod.SimState, "save", 2)
    with pytest.raises(_Killed):
        sim_mod.simulate(p, run_ck, 3, network=net, checkpoint_path=ck, progress_every_s=1e9)
    monkeypatch.undo()
    with caplog.at_level("INFO", logger="stdnet"):
        resumed = sim_mod.simulate(p, run_ck, 3, network=net, checkpoint_path=ck,
                                   progress_every_s=1e9)
    assert "resuming from checkpoint" in caplog.text  # not a fresh start
    for other in (chunked, resumed):
        assert other["final"]["y"].tobytes() == ref["final"]["y"].tobytes()
        for k, v in ref["population"].items():
            assert other["population"][k].tobytes() == v.tobytes(), k
        assert other["recorded"]["h"].tobytes() == ref["recorded"]["h"].tobytes()


def test_heterogeneous_lyapunov_run_resumed_from_a_checkpoint_is_one_run(tmp_path,
                                                                        monkeypatch, caplog):
    """The Lyapunov run (fused tangent step on variable rows) killed after its third
    checkpoint and resumed: the same exponents, local series and decision, bit for bit."""
    from stdnet.lyapunov import checkpoint as lyapunov_checkpoint
    from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov

    p = ModelParams(N=300, J0=1.5, **HETERO)
    net = build_network(p, 3)
    y0 = simulate(p, RunParams(dt=0.05, t_transient=9.5, t_record=0.5, record_interval=0.5,
                               n_record=0), 3, network=net, progress_every_s=1e9)["final"]["y"]
    s = LyapunovSettings(n_exponents=2, t_align=5.0, t_average=20.0, max_extensions=0)
    ref, ref_y = onset_lyapunov(p, net, y0, s, 3, 0.005)
    ck = tmp_path / "lyap.ckpt"
    _kill_after(monkeypatch, lyapunov_checkpoint, "write_state", 3)
    with pytest.raises(_Killed):
        onset_lyapunov(p, net, y0, s, 3, 0.005, checkpoint_path=ck, checkpoint_interval=2.35)
    monkeypatch.undo()
    with caplog.at_level("INFO", logger="stdnet"):
        res, y = onset_lyapunov(p, net, y0, s, 3, 0.005, checkpoint_path=ck,
                                checkpoint_interval=2.35)
    assert "resumed from checkpoint" in caplog.text  # not a fresh start
    assert res.exponents.tobytes() == ref.exponents.tobytes()
    assert res.local.tobytes() == ref.local.tobytes() and np.array_equal(y, ref_y)
    assert res.decision == ref.decision
