"""The network's tangent step: exact Jacobian of the RK4 map, bit-identical trajectory.

Independent references: integrate.advance (the trajectory), central finite
differences of the RK4 step map, and an explicit sparse Jacobian built from the
adjacency matrix with scipy.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from stdnet.integrate import METHOD_CODES, advance, kernel_args, make_work
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.tangent import TangentStepper, network_divergence
from stdnet.transfer import dphi, phi


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
    single = TangentStepper(p, net, 1, 0.05)
    for k in (0, 4, 8):
        q = np.ascontiguousarray(Q0[:, k:k + 1])
        single.advance(y0.copy(), q, 20)
        assert np.array_equal(q[:, 0], Q[:, k])


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
