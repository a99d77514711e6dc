"""The network's tangent step: exact Jacobian of the RK4 map, bit-identical trajectory.

Independent references: kernels.cpu.advance (the trajectory), central finite
differences of the RK4 step map, and an explicit sparse Jacobian built from the
adjacency matrix with scipy.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.lyapunov import tangent
from stdnet.lyapunov.spectrum import lyapunov_spectrum
from stdnet.lyapunov.qr import random_basis
from stdnet.lyapunov.tangent import TangentStepper, network_divergence
from stdnet.model.transfer import dphi, phi


@pytest.fixture(scope="module")
def net_state():
    p = ModelParams(N=200, J0=1.5)
    net = build_network(p, 3)
    rng = np.random.default_rng(0)
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += 0.3 * rng.standard_normal(p.N)
    y[p.N:] = rng.uniform(0.3, 1.0, p.N_E)
    return p, net, y


def _basis(dim, m, seed=1):
    return np.ascontiguousarray(np.random.default_rng(seed).standard_normal((dim, m)))


def _step(p, net, y, n, method="rk4", dt=0.05):
    y = y.copy()
    assert advance(y, n, METHOD_CODES[method], dt, *kernel_args(p, net), make_work(p)) == -1
    return y


def _sparse_jacobian(p, y):
    """DF(y) from the adjacency matrix, block by block (h rows then x rows)."""
    net = build_network(p, 3)
    A = net.adjacency().tocsr()
    N, N_E = p.N, p.N_E
    h, x = y[:N], y[N:]
    nu, d = phi(p.transfer, h), dphi(p.transfer, h)
    Jc = p.coupling
    gain_E = np.r_[np.full(N_E, p.g_EE / p.tau_E), np.full(N - N_E, p.g_IE / p.tau_I)]
    gain_I = np.r_[np.full(N_E, p.g_EI / p.tau_E), np.full(N - N_E, p.g_II / p.tau_I)]
    AE = A[:, :N_E]
    AI = A[:, N_E:]
    # E presynaptic: E rows see x_j nu_j, I rows nu_j
    dE_h = sp.diags(np.r_[np.ones(N_E), np.zeros(N - N_E)]) @ AE @ sp.diags(x * d[:N_E]) \
        + sp.diags(np.r_[np.zeros(N_E), np.ones(N - N_E)]) @ AE @ sp.diags(d[:N_E])
    dE_x = sp.diags(np.r_[np.ones(N_E), np.zeros(N - N_E)]) @ AE @ sp.diags(nu[:N_E])
    Jhh = Jc * sp.diags(gain_E) @ sp.hstack([dE_h, sp.csr_matrix((N, N - N_E))]) \
        - Jc * sp.diags(gain_I) @ sp.hstack([sp.csr_matrix((N, N_E)), AI @ sp.diags(d[N_E:])])
    Jhh = Jhh - sp.diags(np.r_[np.full(N_E, 1 / p.tau_E), np.full(N - N_E, 1 / p.tau_I)])
    Jhx = Jc * sp.diags(gain_E) @ dE_x
    Jxh = sp.hstack([sp.diags(-p.u * x * d[:N_E]), sp.csr_matrix((N_E, N - N_E))])
    Jxx = sp.diags(-(1 / p.tau_D + p.u * nu[:N_E]))
    return sp.bmat([[Jhh, Jhx], [Jxh, Jxx]]).tocsr()


def test_trajectory_is_bit_identical_to_integrate_advance(net_state):
    p, net, y0 = net_state
    st = TangentStepper(p, net, 3, 0.05)
    y = y0.copy()
    st.advance(y, _basis(p.dim, 3), 60)
    assert np.array_equal(y, _step(p, net, y0, 60))


@pytest.mark.parametrize("method", ["rk4", "euler"])
def test_tangent_is_the_jacobian_of_the_step_map(net_state, method):
    """Q_1 = D(step)(y) Q_0 against central differences (error O(eps^2) ~ 1e-10)."""
    p, net, y0 = net_state
    Q0 = _basis(p.dim, 5)
    st = TangentStepper(p, net, 5, 0.05, method)
    Q = Q0.copy()
    st.step(y0.copy(), Q)
    eps = 1e-5
    for k in range(5):
        fd = (_step(p, net, y0 + eps * Q0[:, k], 1, method)
              - _step(p, net, y0 - eps * Q0[:, k], 1, method)) / (2 * eps)
        assert np.max(np.abs(fd - Q[:, k])) < 1e-8 * np.max(np.abs(fd))


def test_jacobian_block_matches_explicit_sparse_jacobian(net_state):
    """m = 11 spans two chunks of 8 (with padding): every column is DF(y) v."""
    p, net, y = net_state
    V = _basis(p.dim, 11, seed=2)
    st = TangentStepper(p, net, 11, 0.05)
    _, dV = st.jacobian_times(y, V)
    ref = _sparse_jacobian(p, y) @ V
    assert np.allclose(dV, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # the divergence is the trace of the same Jacobian
    assert network_divergence(p, y) == pytest.approx(_sparse_jacobian(p, y).diagonal().sum(),
                                                     rel=1e-12)


def test_block_of_vectors_equals_vectors_one_by_one(net_state):
    """One pass for m vectors gives bit for bit what m single-vector passes give."""
    p, net, y0 = net_state
    Q0 = _basis(p.dim, 9)
    block = TangentStepper(p, net, 9, 0.05)
    Q = Q0.copy()
    block.advance(y0.copy(), Q, 20)
    single = TangentStepper(p, net, 1, 0.05, path="block")
    for k in (0, 4, 8):
        q = np.ascontiguousarray(Q0[:, k:k + 1])
        single.advance(y0.copy(), q, 20)
        assert np.array_equal(q[:, 0], Q[:, k])


@pytest.mark.parametrize("packed", [False, True], ids=["plain-rows", "packed-rows"])
@pytest.mark.parametrize("method", ["rk4", "euler"])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_fused_path_equals_block_path(net_state, monkeypatch, method, m, packed):
    """The fused (narrow) step: trajectory bit-identical to kernels.cpu.advance, Q equal to
    the block path's to round-off (measured: <= 3e-16 of max|Q| after 40 steps; allowed
    1e-13), with plain and with packed index rows (K_E = 16 packs into words of 4)."""
    p, net, y0 = net_state
    monkeypatch.setattr(tangent, "packing_pays", lambda n: packed)
    Q0 = _basis(p.dim, m, seed=m)
    fused = TangentStepper(p, net, m, 0.05, method)
    assert fused.path == "fused"
    assert (fused._args[0].dtype == np.uint64) == packed
    block = TangentStepper(p, net, m, 0.05, method, path="block")
    y, Q = y0.copy(), Q0.copy()
    fused.advance(y, Q, 25)
    fused.advance(y, Q, 15)  # split calls: the records are rebuilt from (y, Q)
    yb, Qb = y0.copy(), Q0.copy()
    block.advance(yb, Qb, 40)
    assert np.array_equal(y, _step(p, net, y0, 40, method))
    assert np.array_equal(y, yb)
    err = np.max(np.abs(Q - Qb)) / np.max(np.abs(Qb))
    assert err < 1e-13, err
    assert not np.array_equal(Q, Q0)  # the tangent moved


def test_path_selection(net_state):
    """auto: fused up to NARROW_MAX vectors, the W-blocks beyond; fused refused above."""
    p, net, _ = net_state
    assert [TangentStepper(p, net, m, 0.05).path for m in (1, 2, 3, 4, 8)] == [
        "fused", "fused", "fused", "block", "block"]
    with pytest.raises(ValueError, match="path: invalid value 'fused' for m=4"):
        TangentStepper(p, net, 4, 0.05, path="fused")
    with pytest.raises(ValueError, match="path: invalid value 'narrow'"):
        TangentStepper(p, net, 1, 0.05, path="narrow")


def test_fused_path_divergence_is_reported(net_state):
    p, net, y0 = net_state
    st = TangentStepper(p, net, 1, 50.0)  # far beyond RK4's stability limit
    with pytest.raises(tangent.TangentDivergenceError, match="diverged at step"):
        st.advance(y0.copy(), _basis(p.dim, 1), 200)


@pytest.mark.parametrize("m", [1, 2])
def test_lambda_max_of_fused_path_equals_block_path(m):
    """A chaotic N = 400, J0 = 2 network, 200 tau: the exponents of the two paths agree to
    round-off (the trajectory is the same bits; Q differs by round-off, which the QR steps
    do not amplify). Measured: |difference| ~1e-15; allowed 1e-10, far inside the
    batch-means half width (~1e-2)."""
    p = ModelParams(N=400, J0=2.0)
    net = build_network(p, 1)
    y0 = homogeneous_fixed_point(p).state(p)
    y0[: p.N] += 0.1 * np.random.default_rng(0).standard_normal(p.N)
    assert advance(y0, 400, 0, 0.05, *kernel_args(p, net), make_work(p)) == -1  # 20 tau
    Q0 = random_basis(p.dim, m, np.random.default_rng(5))
    res = {}
    for path in ("fused", "block"):
        st = TangentStepper(p, net, m, 0.05, path=path)
        y = y0.copy()
        res[path] = lyapunov_spectrum(st, y, Q0.copy(), delta_t=1.0, t_align=10.0,
                                      t_average=200.0, n_blocks=10, confidence=0.95,
                                      tol_abs=0.005, tol_rel=0.1, ci_method="batch_means",
                                      progress_every_s=1e9)
        res[path + "_y"] = y
    f, b = res["fused"], res["block"]
    assert np.array_equal(res["fused_y"], res["block_y"])
    assert f.lambda_max > 0.01  # chaotic: the comparison is of a positive exponent
    assert np.max(np.abs(f.exponents - b.exponents)) < 1e-10
    assert np.max(np.abs(f.half_width - b.half_width)) < 1e-10


def test_bad_inputs_name_the_argument(net_state):
    p, net, y0 = net_state
    with pytest.raises(ValueError, match="m: invalid value 0"):
        TangentStepper(p, net, 0, 0.05)
    with pytest.raises(ValueError, match="method"):
        TangentStepper(p, net, 2, 0.05, method="rk45")
    st = TangentStepper(p, net, 2, 0.05)
    with pytest.raises(ValueError, match="Q: C-contiguous"):
        st.step(y0.copy(), np.asfortranarray(_basis(p.dim, 2)))
    with pytest.raises(ValueError, match="y: float64"):
        st.step(y0[:-1].copy(), _basis(p.dim, 2))
