"""ETD4 (stdnet.kernels.etd4): the 2 x 2 matrix functions, fourth order, stability where RK4
fails, fixed points, the tangent step, bit-identity, and the step-size rules of preflight
(`dt: auto`). Small networks; the whole file takes about a minute on one core."""
import math
from pathlib import Path

import numba
import numpy as np
import pytest
import yaml

from stdnet.kernels import etd4 as ei
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.kernels.cpu import METHOD_CODES, kernel_args, make_work
from stdnet.kernels.cpu import advance as rk_advance
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.workflow.preflight import etd_growth, point_limits, max_stable_dt
from stdnet.lyapunov.tangent import TangentStepper

ROOT = Path(__file__).resolve().parents[1]
WIDTH = str(ROOT / "config" / "width.yaml")
PARAMS = str(ROOT / "config" / "params.yaml")


def _kicked(p, sd=0.5, seed=0):
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += np.random.default_rng(seed).normal(0.0, sd, p.N)
    return y


def _rk4(p, net, y0, dt, n):
    y = y0.copy()
    assert rk_advance(y, n, METHOD_CODES["rk4"], dt, *kernel_args(p, net), make_work(p)) == -1
    return y


def _etd(p, net, y0, dt, n):
    y = y0.copy()
    assert ei.advance(y, n, ei.METHOD_CODE, dt, *kernel_args(p, net), ei.make_work(p)) == -1
    return y


@pytest.fixture(scope="module")
def small():
    """N = 400, J0 = 1.5 (chaotic), kicked by sd 0.5 off the homogeneous fixed point."""
    p = ModelParams(N=400, J0=1.5)
    return p, build_network(p, 1), _kicked(p)


def _phis(z):
    """phi_0..phi_4 of a scalar by the recursion (fine away from z = 0)."""
    out = [math.exp(z)]
    for k in range(1, 5):
        out.append((out[-1] - 1.0 / math.factorial(k - 1)) / z)
    return out


def test_phi_blocks_against_closed_forms():
    """Diagonal A: phi_k of each eigenvalue (recursion, |error| < 1e-14); A = 0: 1/k!
    (phi without a division by A); a Jordan block [[z, 1], [0, z]] at the stiff z = -40:
    its off-diagonal is phi_k'(z), against a central difference (1e-8)."""
    P = np.empty((5, 2, 2))
    ei.phi_blocks(np.diag([-3.0, 0.5]), P)
    for k in range(5):
        assert abs(P[k, 0, 0] - _phis(-3.0)[k]) < 1e-14
        assert abs(P[k, 1, 1] - _phis(0.5)[k]) < 1e-14
        assert P[k, 0, 1] == 0.0 and P[k, 1, 0] == 0.0
    ei.phi_blocks(np.zeros((2, 2)), P)
    for k in range(5):
        assert np.allclose(P[k], np.eye(2) / math.factorial(k), rtol=0, atol=1e-15)
    z, e = -40.0, 1e-4  # a stiff value as at N = 1e6, dt = 0.1
    ei.phi_blocks(np.array([[z, 1.0], [0.0, z]]), P)
    for k in range(5):
        deriv = (_phis(z + e)[k] - _phis(z - e)[k]) / (2 * e)
        assert abs(P[k, 0, 1] - deriv) < 1e-8 * max(1.0, abs(deriv))


def test_fourth_order_convergence(small):
    """Max-norm state error at T = 2 tau against RK4 at dt = 0.0025 for dt = 0.2, 0.1, 0.05.
    Measured 1.5e-4, 8.8e-6, 5.3e-7: ratios 17.0 and 16.5 (RK4 at the same dt: 2.6e-4,
    1.4e-5, 8.5e-7). Asserted: each halving divides the error by 12 to 22 (order 3.6-4.5;
    a second-order method gives 4), and the error at dt = 0.05 is < 2e-6."""
    p, net, y0 = small
    ref = _rk4(p, net, y0, 0.0025, 800)
    err = [np.abs(_etd(p, net, y0, dt, round(2.0 / dt)) - ref).max() for dt in (0.2, 0.1, 0.05)]
    ratios = [err[0] / err[1], err[1] / err[2]]
    assert err[2] < 2e-6
    assert all(12.0 < r < 22.0 for r in ratios), (err, ratios)


def test_stable_where_rk4_fails():
    """N = 8000, J0 = 2: the homogeneous eigenvalue (about -33) limits RK4 to dt < 0.083;
    at dt = 0.2 (10 steps, 2 tau from the kicked fixed point) RK4 leaves its stability
    region and ends far off or non-finite (asserted: RMS error > 1 against RK4 at dt =
    0.025), ETD4 ends within RMS 5e-3 (measured 1.3e-3, while the state moved by RMS ~1.8)."""
    p = ModelParams(N=8000, J0=2.0)
    assert max_stable_dt(p, "rk4") < 0.1
    net = build_network(p, 1)
    y0 = _kicked(p)
    ref = _rk4(p, net, y0, 0.025, 80)
    y = y0.copy()
    bad = rk_advance(y, 10, METHOD_CODES["rk4"], 0.2, *kernel_args(p, net), make_work(p))
    assert bad >= 0 or np.sqrt(np.mean((y - ref) ** 2)) > 1.0
    assert np.sqrt(np.mean((_etd(p, net, y0, 0.2, 10) - ref) ** 2)) < 5e-3


def test_fixed_point_kept():
    """The homogeneous fixed point (N = 400, J0 = 0.7, below J_FP) stays put to round-off
    over 100 steps of dt = 0.5: ETD keeps the fixed points of F for any frozen L."""
    p = ModelParams(N=400, J0=0.7)
    fp = homogeneous_fixed_point(p).state(p)
    assert np.abs(_etd(p, build_network(p, 1), fp, 0.5, 100) - fp).max() < 1e-12


def test_chunks_and_threads_give_the_same_bytes(small):
    """10 + 10 steps == 20 steps, and 1 thread == 2 threads, bit for bit."""
    p, net, y0 = small
    one = _etd(p, net, y0, 0.25, 20)
    assert np.array_equal(_etd(p, net, _etd(p, net, y0, 0.25, 10), 0.25, 10), one)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = _etd(p, net, y0, 0.25, 20)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(single, one)


def _tangent(p, net, y0, Q0, method, dt, T, path):
    st = TangentStepper(p, net, Q0.shape[1], dt, method, path)
    y, Q = y0.copy(), Q0.copy()
    st.advance(y, Q, round(T / dt))
    return y, Q


def test_tangent_paths_trajectory_and_order(small):
    """The ETD4 tangent step: its trajectory is bit-identical to kernels.etd4.advance on both
    gather paths, the fused and block Q agree to 1e-13, and Q converges at order 4 against
    the RK4 tangent at dt = 0.0025 (T = 2 tau; measured relative errors 1.0e-4, 6.2e-6,
    3.9e-7 at dt = 0.2, 0.1, 0.05: ratios 16.3, 16.1)."""
    p, net, y0 = small
    Q0 = np.linalg.qr(np.random.default_rng(1).normal(size=(p.dim, 2)))[0].copy()
    _, Qref = _tangent(p, net, y0, Q0, "rk4", 0.0025, 2.0, "fused")
    err = []
    for dt in (0.2, 0.1, 0.05):
        yf, Qf = _tangent(p, net, y0, Q0, "etd4", dt, 2.0, "fused")
        yb, Qb = _tangent(p, net, y0, Q0, "etd4", dt, 2.0, "block")
        ys = _etd(p, net, y0, dt, round(2.0 / dt))
        assert np.array_equal(yf, ys) and np.array_equal(yb, ys)
        assert np.abs(Qf - Qb).max() < 1e-13
        err.append(np.abs(Qf - Qref).max() / np.abs(Qref).max())
    assert all(12.0 < err[i] / err[i + 1] < 22.0 for i in range(2)), err


def test_tangent_is_the_maps_derivative_at_a_fixed_point():
    """At the homogeneous fixed point (N = 300, J0 = 0.7) one ETD4 tangent step equals the
    central difference of one ETD4 step (eps = 1e-6) to 1e-8: the frozen L does not vary
    to first order there, so the exponents of a stationary state are the map's."""
    p = ModelParams(N=300, J0=0.7)
    net = build_network(p, 2)
    fp = homogeneous_fixed_point(p).state(p)
    v = np.random.default_rng(5).normal(size=p.dim)
    v /= np.linalg.norm(v)
    eps, dt = 1e-6, 0.25
    fd = (_etd(p, net, fp + eps * v, dt, 1) - _etd(p, net, fp - eps * v, dt, 1)) / (2 * eps)
    _, Q = _tangent(p, net, fp, v[:, None].copy(), "etd4", dt, dt, "fused")
    assert np.abs(Q[:, 0] - fd).max() < 1e-8


def test_split_stability_reduces_to_rk4():
    """preflight.etd_growth with L = 0 is RK4's |R(h lambda)| (the explicit part sees
    RK4's region), and with D = 0 it is |exp(h lambda)| (the stiff part is exact)."""
    lam, h = -3.0, 0.7
    z = h * lam
    R = 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24
    assert abs(etd_growth(np.zeros((1, 1)), np.array([[lam]]), h) - abs(R)) < 1e-12
    assert abs(etd_growth(np.array([[-200.0]]), np.zeros((1, 1)), h) - math.exp(-140)) < 1e-12


def _overlay(tmp_path, d) -> str:
    f = tmp_path / "over.yaml"
    f.write_text(yaml.safe_dump(d))
    return str(f)


def test_step_size_limits(tmp_path):
    """ETD4's stable dt does not shrink with N (0.58 at J0 = 2 for N = 1e3 ... 1e6, set by
    the bulk bound) while RK4's does (0.24 -> 0.0072); explicit steps beyond it are refused
    with the key, the value and the limit."""
    etd = [max_stable_dt(ModelParams(N=N, J0=2.0), "etd4") for N in (1000, 32000, 10 ** 6)]
    rk4 = [max_stable_dt(ModelParams(N=N, J0=2.0), "rk4") for N in (1000, 32000, 10 ** 6)]
    assert max(etd) - min(etd) < 1e-12 and 0.5 < etd[0] < 0.7
    assert rk4[0] > 0.2 and rk4[2] < 0.01
    with pytest.raises(Exception, match=r"(?s)simulation\.dt.*outside the ETD4 stability region"):
        # (correlations.sample_interval must then be a whole number of steps too)
        load_config_files([PARAMS, _overlay(tmp_path, {"simulation": {
            "method": "etd4", "dt": 1.0, "record_interval": 1.0},
            "correlations": {"sample_interval": 1.0}})], schema_dir())


def test_dt_auto(tmp_path):
    """dt: auto is resolved once when the config is read: ETD4 takes AUTO_DT_MAX = 0.25 on
    the width study's grid (N up to 32000, J0 up to 2); RK4 takes half its smallest stable
    dt there, rounded down to divide record_interval and delta_t, so it never produces a
    step outside the stability region; a dt that is neither a number nor auto is refused."""
    over = {"simulation": {"method": "etd4", "dt": "auto"}}
    cfg = load_config_files([WIDTH, _overlay(tmp_path, over)], schema_dir())
    assert cfg["simulation"]["dt"] == 0.25
    over = {"simulation": {"method": "rk4", "dt": "auto"}}
    cfg = load_config_files([WIDTH, _overlay(tmp_path, over)], schema_dir())
    dt = cfg["simulation"]["dt"]
    limits = [b[0] for b in point_limits(cfg, "rk4")]
    assert 0 < dt <= 0.5 * min(limits)
    assert all(abs(t / dt - round(t / dt)) < 1e-9 for t in (0.5, 1.0))
    with pytest.raises(Exception, match=r"(?s)simulation\.dt.*'fast'.*a number > 0 or auto"):
        load_config_files([PARAMS, _overlay(tmp_path, {"simulation": {"dt": "fast"}})],
                          schema_dir())


def test_etd4_needs_float64_on_the_cpu():
    """ETD4's population means are float64 CPU sums: other choices are refused by key."""
    with pytest.raises(ValueError, match="precision.*float64 with method etd4"):
        RunParams(method="etd4", precision="float32")
    with pytest.raises(ValueError, match="backend.*cpu with method etd4"):
        RunParams(method="etd4", backend="cuda")


def test_simulation_and_lyapunov_run_with_etd4():
    """The product path: `simulate` with method etd4 (chunks of 7 or 500 steps give the same
    bytes, and differ from RK4's run: the engine really switched), then a Lyapunov run from
    its end state with the same method (N = 300, J0 = 1.5, dt = 0.25; 20 + 100 tau): the
    same decision as RK4 at dt = 0.05 from the same state (not chaotic: this small network
    settles; measured lambda_1 = -0.0583 with both), lambda_1 within 1e-3."""
    from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov
    from stdnet.simulation.simulate import simulate

    p = ModelParams(N=300, J0=1.5)
    runs = [RunParams(method=m, dt=dt, t_transient=40.0, t_record=40.0, record_interval=0.5,
                      n_record=1, chunk_steps=c)
            for m, dt, c in (("etd4", 0.25, 7), ("etd4", 0.25, 500), ("rk4", 0.05, 500))]
    out = [simulate(p, r, 1, progress_every_s=1e9) for r in runs]
    assert np.array_equal(out[0]["final"]["y"], out[1]["final"]["y"])
    assert not np.array_equal(out[0]["final"]["y"], out[2]["final"]["y"])
    res = []
    for method, dt in (("etd4", 0.25), ("rk4", 0.05)):
        s = LyapunovSettings(n_exponents=1, delta_t=1.0, t_align=20.0, t_average=100.0,
                             max_extensions=0, dt=dt, method=method)
        r, _ = onset_lyapunov(p, out[0]["network"], out[0]["final"]["y"], s, 1, 0.005,
                              progress_every_s=1e9)
        res.append(r)
    assert res[0].decision == res[1].decision
    assert abs(res[0].lambda_max - res[1].lambda_max) < 1e-3, (res[0], res[1])
