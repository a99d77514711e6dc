"""Plain numpy/scipy implementations of the network vector field and its RK4 step.

Two baselines a user would write without our kernels, used by `stdnet bench` as
the speed baselines and by the tests as independent references (no numba, no
shared code with stdnet.kernels.cpu beyond the Network's index arrays):

- "dense": an N x N float64 weight matrix W (signed: +J g_aE on E columns,
  -J g_aI on I columns), the synaptic input as two matrix-vector products;
- "csr": the same W as scipy.sparse CSR with float values.

Model (docs/model.md, section 1): tau_a dh_i/dt = -h_i + I0 + sum_j W_ij v_j,
with v_j = x_j nu_j for E presynaptic neurons of E rows (depressed synapses),
v_j = nu_j otherwise; dx_j/dt = (1 - x_j)/tau_D - u x_j nu_j; nu = phi(h).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.special

KINDS = ("dense", "csr")


def phi_numpy(name: str, h: np.ndarray) -> np.ndarray:
    """The transfer functions written with numpy alone (independent of stdnet.model.transfer)."""
    if name == "softplus":
        return np.logaddexp(0.0, h)
    if name == "relu":
        return np.maximum(h, 0.0)
    if name == "sigmoid":
        return scipy.special.expit(h)
    if name == "tanh":
        return np.tanh(h)
    raise ValueError(f"transfer: unknown transfer function {name!r}; "
                     "allowed: softplus, relu, sigmoid, tanh")


def dense_bytes(N: int) -> int:
    """Memory of the dense float64 weight matrix."""
    return 8 * N * N


def weight_matrix(params, net, kind: str = "csr"):
    """The signed N x N coupling matrix of one network, dense (numpy) or scipy CSR."""
    if kind not in KINDS:
        raise ValueError(f"kind: invalid value {kind!r}; allowed: {', '.join(KINDS)}")
    p = params
    N, N_E = p.N, p.N_E
    Jc = p.coupling
    deg_E, deg_I = net.in_degree_E, net.in_degree_I  # every ensemble, fixed or not
    rows = np.concatenate([np.repeat(np.arange(N), deg_E), np.repeat(np.arange(N), deg_I)])
    cols = np.concatenate([net.pre_E.astype(np.int64).ravel(),
                           net.pre_I.astype(np.int64).ravel() + N_E])
    w_exc = np.where(np.arange(N) < N_E, Jc * p.g_EE, Jc * p.g_IE)
    w_inh = np.where(np.arange(N) < N_E, -Jc * p.g_EI, -Jc * p.g_II)
    vals = np.concatenate([np.repeat(w_exc, deg_E), np.repeat(w_inh, deg_I)])
    if kind == "csr":
        return sp.csr_matrix((vals, (rows, cols)), shape=(N, N))
    W = np.zeros((N, N))
    W[rows, cols] = vals
    return W


class ReferenceModel:
    """F(y) and fixed-step RK4/Euler with a dense or CSR weight matrix (float64)."""

    def __init__(self, params, net, kind: str = "csr"):
        self.params, self.kind = params, kind
        W = weight_matrix(params, net, kind)
        N_E = params.N_E
        self.W_E = W[:N_E]  # rows of E neurons (dense view or CSR row block)
        self.W_I = W[N_E:]
        tau = np.where(np.arange(params.N) < N_E, params.tau_E, params.tau_I)
        self.inv_tau = 1.0 / tau
        # STD constants of the E neurons: the model's, or the network's per-neuron values
        self.u = np.broadcast_to(net.u_of(params), (N_E,))
        self.tau_D = np.broadcast_to(net.tau_D_of(params), (N_E,))

    @property
    def nbytes(self) -> int:
        if self.kind == "dense":
            return self.W_E.nbytes + self.W_I.nbytes
        return sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
                   for m in (self.W_E, self.W_I))

    def vector_field(self, y: np.ndarray) -> np.ndarray:
        p = self.params
        N, N_E = p.N, p.N_E
        h, x = y[:N], y[N:]
        nu = phi_numpy(p.transfer, h)
        v_E = np.concatenate([x * nu[:N_E], nu[N_E:]])  # what E rows see
        syn = np.concatenate([self.W_E @ v_E, self.W_I @ nu])
        dh = (-h + p.I0 + syn) * self.inv_tau
        dx = (1.0 - x) / self.tau_D - self.u * x * nu[:N_E]
        return np.concatenate([dh, dx])

    def step(self, y: np.ndarray, dt: float, method: str = "rk4") -> np.ndarray:
        """One step from y (not modified); returns the new state."""
        k1 = self.vector_field(y)
        if method == "euler":
            return y + dt * k1
        if method != "rk4":
            raise ValueError(f"method: invalid value {method!r}; allowed: rk4, euler")
        k2 = self.vector_field(y + 0.5 * dt * k1)
        k3 = self.vector_field(y + 0.5 * dt * k2)
        k4 = self.vector_field(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    def advance(self, y: np.ndarray, n_steps: int, dt: float, method: str = "rk4"):
        y = np.array(y, dtype=np.float64)
        for _ in range(int(n_steps)):
            y = self.step(y, dt, method)
        return y
