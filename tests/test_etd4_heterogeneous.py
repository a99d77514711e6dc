"""ETD4 (stdnet.kernels.etd4) on heterogeneous networks (issue 25): variable in-degrees and
per-neuron u_j, tau_D,j. The fixed-in-degree path keeps its bits; on variable rows the
scheme keeps stationary states, is of order 4, and its tangent step is the map's
derivative at a stationary state; `stdnet check` takes etd4 with a heterogeneous model and
bounds its step. Small networks (N = 300-400)."""
import hashlib

import numpy as np
import pytest

from stdnet.kernels import etd4 as ei
from stdnet.kernels.cpu import METHOD_CODES, kernel_args, make_work
from stdnet.kernels.cpu import advance as rk_advance
from stdnet.lyapunov.tangent import TangentStepper
from stdnet.model.network import Network, build_network, row_bounds
from stdnet.model.params import ModelParams
from stdnet.stability.spectrum import polish_fixed_point
from stdnet.theory.meanfield import homogeneous_fixed_point

#: every kind of heterogeneity at once: gamma in-degrees, correlated E and I, per-neuron STD
HETERO = dict(connectivity="indegree_cv", indegree_cv=0.2, indegree_rho=0.5, u_cv=0.3,
              tau_D_cv=0.2)


def _kicked(p, sd=0.5, seed=0):
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += np.random.default_rng(seed).normal(0.0, sd, p.N)
    return y


def _etd(p, net, y0, dt, n, packed=None):
    y = y0.copy()
    assert ei.advance(y, n, ei.METHOD_CODE, dt, *kernel_args(p, net, packed=packed),
                      ei.make_work(p)) == -1
    return y


def _rk4(p, net, y0, dt, n):
    y = y0.copy()
    assert rk_advance(y, n, METHOD_CODES["rk4"], dt, *kernel_args(p, net), make_work(p)) == -1
    return y


def _tangent(p, net, y0, Q0, method, dt, n, path):
    st = TangentStepper(p, net, Q0.shape[1], dt, method, path)
    y, Q = y0.copy(), Q0.copy()
    st.advance(y, Q, n)
    return y, Q


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---- the paper's network: the same bits as before ----------------------------------------
#: sha256 of the state (and tangent block) after 20 steps of dt = 0.25 from `_kicked` (N =
#: 400, J0 = 1.5, seed 1), computed with kernels/etd4.py before variable rows existed
#: (commit effc06f; x86-64 Linux, the locked numba/llvmlite). Packed and plain rows, and
#: both tangent paths, give the same trajectory.
FIXED_Y = "07ac1734d6f79097c1cfb093c0e5e958d217505537f6d988821035c95dcde527"
FIXED_Q = {"fused": "c0bddf8b0ed8194103918862b0063940cbf796dd3ec87b84a8f0e3c5cd50693e",
           "block": "e1b9ecdb78770542dda1600577c282dc39c34617fe85ada21c82b8a7784d6237"}


@pytest.fixture(scope="module")
def paper():
    p = ModelParams(N=400, J0=1.5)
    return p, build_network(p, 1), _kicked(p)


def test_fixed_indegree_trajectory_and_tangent_keep_their_bits(paper):
    p, net, y0 = paper
    for packed in (False, True):
        assert _sha(_etd(p, net, y0, 0.25, 20, packed)) == FIXED_Y
    Q0 = np.linalg.qr(np.random.default_rng(1).normal(size=(p.dim, 2)))[0].copy()
    for path, want in FIXED_Q.items():
        y, Q = _tangent(p, net, y0, Q0, "etd4", 0.25, 20, path)
        assert _sha(y) == FIXED_Y and _sha(Q) == want, path


def test_fixed_indegree_as_variable_rows_gives_the_same_bits(paper):
    """The paper's network stored as variable rows (flat, ptr) takes the other
    specialisation, whose mean in-degrees are the float K_E, K_I: the same bits (a check
    of the variable-row path that needs no stored hash)."""
    p, net, y0 = paper
    flat = Network(pre_E=net.pre_E.ravel(), pre_I=net.pre_I.ravel(), N_E=net.N_E,
                   N_I=net.N_I, seed=net.seed, ptr_E=row_bounds(net.in_degree_E),
                   ptr_I=row_bounds(net.in_degree_I))
    assert not flat.fixed_indegree
    assert np.array_equal(_etd(p, flat, y0, 0.25, 20), _etd(p, net, y0, 0.25, 20))


# ---- heterogeneous networks -----------------------------------------------------------
@pytest.fixture(scope="module")
def stationary():
    """A stationary state of a heterogeneous network (N = 400, J0 = 0.5, HETERO): 200 tau
    of RK4 from the homogeneous point, then Newton to max |F| < 1e-13."""
    p = ModelParams(N=400, J0=0.5, **HETERO)
    net = build_network(p, 1)
    assert not net.fixed_indegree and net.u_E is not None and net.tau_D_E is not None
    y = _rk4(p, net, homogeneous_fixed_point(p).state(p), 0.1, 2000)
    y, res = polish_fixed_point(p, net, y, tol=1e-13)
    return p, net, y


def test_stationary_state_is_kept(stationary):
    """ETD4 keeps the fixed points of F for any frozen L, also with mean in-degrees in L:
    100 steps of dt = 0.5 move the state by < 1e-11 (what the Newton residual, 2.5e-14,
    allows; measured 4.4e-13), while the heterogeneity spreads h over sd 0.25."""
    p, net, y = stationary
    assert y[: p.N].std() > 0.1
    assert np.abs(_etd(p, net, y, 0.5, 100) - y).max() < 1e-11


@pytest.fixture(scope="module")
def chaotic():
    """N = 400, J0 = 1.5, HETERO, kicked by sd 0.5 off the homogeneous fixed point."""
    p = ModelParams(N=400, J0=1.5, **HETERO)
    return p, build_network(p, 1), _kicked(p)


def test_fourth_order_convergence(chaotic):
    """Max-norm state error at T = 2 tau against RK4 at dt = 0.0025 for dt = 0.2, 0.1, 0.05
    on the heterogeneous network. Measured 5.9e-4, 3.4e-5, 2.0e-6: ratios 17.5 and 16.9 (RK4
    at the same dt: 8.3e-4, 4.5e-5, 2.6e-6). Asserted: each halving divides the error by 12
    to 22 (order 3.6-4.5; a second-order method gives 4), and the error at 0.05 is < 5e-6."""
    p, net, y0 = chaotic
    ref = _rk4(p, net, y0, 0.0025, 800)
    err = [np.abs(_etd(p, net, y0, dt, round(2.0 / dt)) - ref).max() for dt in (0.2, 0.1, 0.05)]
    ratios = [err[0] / err[1], err[1] / err[2]]
    assert err[2] < 5e-6
    assert all(12.0 < r < 22.0 for r in ratios), (err, ratios)


def test_tangent_paths_on_variable_rows(chaotic):
    """advance_tangent's trajectory is bit-identical to advance on both gather paths, and the
    fused and block tangent blocks agree to 1e-13 (another order of the tangent sums;
    measured 8e-17)."""
    p, net, y0 = chaotic
    Q0 = np.linalg.qr(np.random.default_rng(1).normal(size=(p.dim, 2)))[0].copy()
    ys = _etd(p, net, y0, 0.25, 8)
    yf, Qf = _tangent(p, net, y0, Q0, "etd4", 0.25, 8, "fused")
    yb, Qb = _tangent(p, net, y0, Q0, "etd4", 0.25, 8, "block")
    assert np.array_equal(yf, ys) and np.array_equal(yb, ys)
    assert np.abs(Qf - Qb).max() < 1e-13
    assert np.abs(Qf).max() > 0.1  # the block moved: not a comparison of zeros


def test_tangent_is_the_maps_derivative_at_a_stationary_state(stationary):
    """At the heterogeneous stationary state one ETD4 tangent step equals the central
    difference of one ETD4 step (eps = 1e-6) to 1e-8 (measured 1.4e-10), on both paths: the
    exponents of a stationary state are the map's, as on the paper's network."""
    p, net, y = stationary
    v = np.random.default_rng(5).normal(size=p.dim)
    v /= np.linalg.norm(v)
    eps, dt = 1e-6, 0.25
    fd = (_etd(p, net, y + eps * v, dt, 1) - _etd(p, net, y - eps * v, dt, 1)) / (2 * eps)
    assert np.abs(fd - v).max() > 1e-3  # the step changes v: the check has something to see
    for path in ("fused", "block"):
        _, Q = _tangent(p, net, y, v[:, None].copy(), "etd4", dt, 1, path)
        assert np.abs(Q[:, 0] - fd).max() < 1e-8, path


def test_simulate_runs_etd4_on_a_heterogeneous_network():
    """The product path: `simulate` with method etd4 on a heterogeneous model (it refused
    before issue 25) gives the state of the kernel's own steps, bit for bit, in chunks."""
    from stdnet.model.params import RunParams
    from stdnet.simulation.simulate import simulate

    p = ModelParams(N=300, J0=1.5, **HETERO)
    run = RunParams(method="etd4", dt=0.25, t_transient=5.0, t_record=5.0,
                    record_interval=0.5, n_record=1, chunk_steps=7, perturbation=0.0)
    out = simulate(p, run, 1, progress_every_s=1e9)
    net = out["network"]
    assert not net.fixed_indegree
    y0 = homogeneous_fixed_point(p).state(p)
    assert np.array_equal(out["final"]["y"], _etd(p, net, y0, 0.25, 40))


# ---- the step-size check (workflow.preflight) ------------------------------------------
def _check(model, dt, J0=(0.5, 1.5), N=1000):
    from stdnet.workflow.config import schema_dir, validate_config

    return validate_config({
        "grid": {"N": [N], "J0": list(J0), "seeds": [1]}, "model": model,
        "stages": ["simulate", "lyapunov"],
        "simulation": {"method": "etd4", "dt": dt, "record_interval": 1.0},
        "lyapunov": {"delta_t": 1.0}, "correlations": {"sample_interval": 1.0}}, schema_dir())


@pytest.mark.parametrize("model", [dict(connectivity="erdos_renyi"), HETERO])
def test_check_takes_etd4_with_a_heterogeneous_model_inside_its_limit(model):
    """`stdnet check` accepts etd4 with a heterogeneous model at dt = 0.5 (the limit at
    J0 = 1.5 is 0.72, set by the bulk's rim as for the paper's network: the in-degree
    remainder's split, preflight.degree_modes, does not lower it here; measured stable
    steps are 1.0 and more, docs/performance.md) and refuses dt = 1.0 naming the key, the
    value and the limit."""
    from stdnet.workflow.config import ConfigError

    assert _check(model, 0.5)["simulation"]["method"] == "etd4"
    with pytest.raises(ConfigError, match=r"(?s)config key 'simulation\.dt': value 1\.0 is "
                       r"outside the ETD4 stability region at N = 1000, J0 = 1\.5.*use dt <= 0\.5 "
                       r"\(stable below 0\.72"):
        _check(model, 1.0)


def test_remainder_check_is_conservative_without_a_stationary_theory(monkeypatch):
    """Where the stationary theory has no solution, degree_modes takes every phi'-weighted
    excess in-degree r at the ensemble's largest (the worst case): at N = 8000, J0 = 1.5,
    CV 0.2 (largest excess 1.1, beyond the r ~ 1 where the split loses its stiff mode) the
    limit falls from 0.72 to about 0.24; Erdos-Renyi (excess 0.3) keeps 0.72."""
    from stdnet.files.errors import FixedPointError
    from stdnet.workflow import preflight

    def no_state(*a, **k):
        raise FixedPointError("no stationary solution")

    cv = ModelParams(N=8000, J0=1.5, connectivity="indegree_cv", indegree_cv=0.2)
    er = ModelParams(N=8000, J0=1.5, connectivity="erdos_renyi")
    normal = [preflight.max_stable_dt(p, "etd4") for p in (cv, er)]
    monkeypatch.setattr(preflight, "_degree_gains", no_state)
    worst = [preflight.max_stable_dt(p, "etd4") for p in (cv, er)]
    assert normal[0] == pytest.approx(0.724, abs=0.01) and normal[1] == normal[0]
    assert worst[0] < 0.5 * normal[0] and worst[1] == normal[1]


def test_fastest_efficacy_bounds_the_step():
    """Per-neuron tau_D,j (tau_D_cv = 3, N = 400): the fastest E neuron's efficacy leak, not
    the mean's, limits both methods (preflight: 0.10; this network's fastest neuron allows
    0.21): ETD4 and RK4 at dt = 0.25 leave the state finite for fewer than 200 steps, at
    the check's limit they stay finite, and `stdnet check` refuses 0.25 by key."""
    from stdnet.workflow.config import ConfigError
    from stdnet.workflow.preflight import max_stable_dt

    p = ModelParams(N=400, J0=0.5, tau_D_cv=3.0)
    net = build_network(p, 1)
    lim = [max_stable_dt(p, m) for m in ("etd4", "rk4")]
    assert max(lim) < 0.25 < max_stable_dt(p.replace(tau_D_cv=0.0), "etd4")
    y0 = homogeneous_fixed_point(p).state(p)
    args = kernel_args(p, net)
    for dt, diverges in ((0.25, True), (min(lim), False)):
        y = y0.copy()
        assert (ei.advance(y, 200, ei.METHOD_CODE, dt, *args, ei.make_work(p)) >= 0) == diverges
        y = y0.copy()
        assert (rk_advance(y, 200, 0, dt, *args, make_work(p)) >= 0) == diverges
    with pytest.raises(ConfigError, match=r"config key 'simulation\.dt': value 0\.25 is outside"):
        _check({"tau_D_cv": 3.0}, 0.25, J0=(0.5,), N=400)
