"""Tangent dynamics of the network: the trajectory and m tangent vectors, stepped together.

The tangent block Q (dim x m, row-major) is advanced by the *exact variational
equation of the discrete RK4 map*: every RK4 stage of the trajectory,

    k_s = F(y_s),           y_{s+1} = y + c_s dt k_s,

is differentiated stage by stage alongside it,

    K_s = DF(y_s) Q_s,      Q_{s+1} = Q + c_s dt K_s,

so Q_{n+1} = D(RK4 step)(y_n) Q_n to rounding. The Lyapunov exponents computed
from it are those of the map actually iterated (they converge to the flow's as
dt -> 0). Euler is the one-stage case.

DF(y) V needs one pass over the connectivity per stage for all m vectors: the
row i gathers, for every presynaptic neuron j, the m-vector of perturbed inputs
(ds_j = x_j phi'(h_j) V_hj + nu_j V_xj for E->E, dnu_j = phi'(h_j) V_hj
otherwise). The same pass gathers the trajectory's scalar inputs in the same
order as kernels.cpu.advance (kernels.cpu.row_sum), so the trajectory is
bit-identical to kernels.cpu.advance.

For m <= kernels.tangent_narrow.NARROW_MAX (the lambda_max runs: m = 1, 2) TangentStepper
takes the fused path instead (stdnet.kernels.tangent_narrow): one gather per synapse serves
the trajectory and the m tangent vectors together, about 1.1-1.3 trajectory steps
instead of about 3.5 (docs/performance.md, "Narrow tangent step"). Same trajectory
bits, Q equal to the block path's to round-off.

The QR re-orthonormalisation is not here: see stdnet.lyapunov.spectrum (the algorithm) and
stdnet.lyapunov.qr; stdnet.lyapunov.run builds this stepper for a network run.
"""
from __future__ import annotations

import contextlib

import numba
import numpy as np
from numba import njit

from stdnet.kernels import etd4 as expint
from stdnet.kernels.cpu import METHOD_CODES, all_finite, kernel_args, packing_pays
from stdnet.kernels.rows import n_rows
from stdnet.kernels.tangent_block import W, aligned_zeros, field_tangent
from stdnet.kernels.tangent_narrow import NARROW_MAX, advance_fused, fused_scratch, record_width
from stdnet.model.transfer import phi


@contextlib.contextmanager
def _slp_vectorize():
    """Compile with LLVM's SLP vectoriser on (numba's default is off).

    The 8 independent accumulators of a row's gather become one or two SIMD adds
    only with SLP; numba reads this switch whenever it compiles, so turning it on
    around our kernels' first call (compilation or cache load) leaves every other
    kernel as it is. Measured gain: the tangent gather about 2x faster.
    """
    old = numba.core.config.SLP_VECTORIZE
    numba.core.config.SLP_VECTORIZE = 1
    try:
        yield
    finally:
        numba.core.config.SLP_VECTORIZE = old


@njit(cache=True)
def _stage_update(K, Q, T, acc, c, w, first):
    """After a stage slope K: acc (+)= w K and the next stage block T = Q + c K (one pass)."""
    Kf = K.ravel()
    Qf = Q.ravel()
    Tf = T.ravel()
    af = acc.ravel()
    for j in range(Kf.shape[0]):
        kj = Kf[j]
        af[j] = w * kj if first else af[j] + w * kj
        Tf[j] = Qf[j] + c * kj


@njit(cache=True)
def advance_tangent(y, Q, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI,
                    g_IE, g_II, I0, tau_E, tau_I, tau_D, u, work, twork, gwork):
    """Advance y (dim) and Q (dim, m) in place by n_steps RK4 (0) or Euler (1) steps.

    Scratch: work (6, dim) as for kernels.cpu.advance, twork (3, dim, m) for the stage
    slope, the stage block and the RK4 sum, gwork (2, ceil(m/W), N, W) for the
    gathered vectors. Returns -1 on success, or the index of the step after which
    y is not finite (y then holds the last finite state), or n_steps - 1 when only
    Q is not finite at the end of the call.
    """
    n = y.shape[0]
    N = n_rows(pre_E)
    k1, k2, k3, k4, tmp = work[0], work[1], work[2], work[3], work[4]
    nu = work[5][:N]
    s = work[5][N:]
    K, T, acc = twork[0], twork[1], twork[2]
    dnu = gwork[0]
    ds = gwork[1]  # rows >= N_E unused (same array type as dnu)
    half = 0.5 * dt
    sixth = dt / 6.0
    Qf = Q.ravel()
    accf = acc.ravel()
    Kf = K.ravel()
    for step in range(n_steps):
        field_tangent(y, Q, k1, K, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                      I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds)
        if method == 1:
            for j in range(n):
                tmp[j] = y[j] + dt * k1[j]
            for j in range(Qf.shape[0]):
                Qf[j] += dt * Kf[j]
        else:
            for j in range(n):
                tmp[j] = y[j] + half * k1[j]
            _stage_update(K, Q, T, acc, half, 1.0, True)
            field_tangent(tmp, T, k2, K, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
                          g_II, I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds)
            for j in range(n):
                tmp[j] = y[j] + half * k2[j]
            _stage_update(K, Q, T, acc, half, 2.0, False)
            field_tangent(tmp, T, k3, K, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
                          g_II, I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds)
            for j in range(n):
                tmp[j] = y[j] + dt * k3[j]
            _stage_update(K, Q, T, acc, dt, 2.0, False)
            field_tangent(tmp, T, k4, K, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
                          g_II, I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds)
            # same expression and order as kernels.cpu.advance: bit-identical trajectory
            for j in range(n):
                tmp[j] = y[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
            for j in range(Qf.shape[0]):
                Qf[j] += sixth * (accf[j] + Kf[j])
        if not all_finite(tmp):
            return step
        y[:] = tmp
    if not all_finite(Qf):
        return n_steps - 1
    return -1


class TangentDivergenceError(RuntimeError):
    """The trajectory or the tangent block became non-finite."""


#: TangentStepper(path=...): "auto" picks "fused" for m <= NARROW_MAX, else "block"
TANGENT_PATHS = ("auto", "fused", "block")


def tangent_path(m: int, path: str = "auto") -> str:
    """The path a stepper of m vectors takes: fused (one gather for the trajectory and
    up to NARROW_MAX vectors) where it applies and was not refused, else the W-blocks."""
    if path not in TANGENT_PATHS:
        raise ValueError(f"path: invalid value {path!r}; allowed: {', '.join(TANGENT_PATHS)}")
    if path == "fused" and m > NARROW_MAX:
        raise ValueError(f"path: invalid value 'fused' for m={m}; allowed: m <= {NARROW_MAX}")
    if path == "auto":
        return "fused" if m <= NARROW_MAX else "block"
    return path


class TangentStepper:
    """Trajectory + m tangent vectors of one network, RK4, Euler or ETD4 with fixed dt.

    With RK4 / Euler the tangent block follows the exact variational equation of the
    discrete map (the Jacobian of the RK4 step, computed stage by stage alongside the
    trajectory), so exponents are those of the map that the simulation iterates. With
    ETD4 (stdnet.kernels.etd4) the block takes the same stages with the step's frozen stiff
    operator: the exact derivative of the map at fixed points, a fourth-order scheme for
    the variational equation elsewhere. The trajectory part is bit-identical to the
    simulation's (kernels.cpu.advance, kernels.etd4.advance).

    y: float64 (dim,), Q: float64 (dim, m) C-contiguous; both advanced in place.
    path: "auto" (fused for m <= NARROW_MAX, else block), "fused" or "block"
    (tangent_path); self.path is the one taken. Both give the same trajectory bits and
    Q to round-off (another summation order of the tangent gathers).
    """

    def __init__(self, params, net, m, dt, method="rk4", path="auto"):
        if method not in METHOD_CODES and method != expint.METHOD:
            raise ValueError(f"method: invalid value {method!r}; allowed: "
                             f"{', '.join([*METHOD_CODES, expint.METHOD])}")
        m = int(m)
        if not 1 <= m <= params.dim:
            raise ValueError(f"m: invalid value {m}; allowed: an integer in [1, dim={params.dim}]")
        if not dt > 0:
            raise ValueError(f"dt: invalid value {dt!r}; allowed: a number > 0")
        self.params, self.net, self.m, self.dt, self.method = params, net, m, float(dt), method
        self.dim = params.dim
        self._code = METHOD_CODES.get(method, expint.METHOD_CODE)
        self.path = tangent_path(m, path)
        self._block_args = kernel_args(params, net, packed=False)  # jacobian_times' gather
        if self.path == "fused":
            # records of P float64 per neuron: packed index words pay where they spill L1
            P = record_width(m)
            self._args = kernel_args(params, net, packed=packing_pays(params.N_E * P))
            self._fused = fused_scratch(params, m, aligned_zeros)
        else:
            self._args = self._block_args  # the gather indexes synapses
            self._gwork = aligned_zeros((2, -(-m // W), params.N, W))
            if method != expint.METHOD:  # RK4's stage blocks (ETD4 has its own below)
                self._work = np.zeros((6, self.dim))
                self._twork = aligned_zeros((3, self.dim, m))
        if method == expint.METHOD:  # the ETD4 stages' own scratch around the same gathers
            self._etd_work = expint.make_work(params)
            self._etd_twork = expint.make_tangent_work(params, m)
            if self.path == "fused":
                self._etd_gather = (*self._fused[2:], *aligned_zeros((2, 1, 1, W)))
            else:
                P0 = (np.zeros((1, 2)),) * 3 + ((0.0, 0.0),)  # unused records
                self._etd_gather = (*P0, *self._gwork)

    def _check(self, y, Q):
        if y.dtype != np.float64 or y.shape != (self.dim,):
            raise ValueError(f"y: float64 array of shape ({self.dim},) required, got "
                             f"{y.dtype} {y.shape}")
        if Q.dtype != np.float64 or Q.shape != (self.dim, self.m) or not Q.flags.c_contiguous:
            raise ValueError(f"Q: C-contiguous float64 array of shape ({self.dim}, {self.m}) "
                             f"required, got {Q.dtype} {Q.shape}")

    def advance(self, y, Q, n_steps):
        """n_steps steps in place; raises TangentDivergenceError on a non-finite state."""
        self._check(y, Q)
        with _slp_vectorize():
            if self.method == expint.METHOD:
                bad = expint.advance_tangent(y, Q, int(n_steps), self.path == "fused",
                                             self.dt, *self._args, self._etd_work,
                                             self._etd_twork, *self._etd_gather)
            elif self.path == "fused":
                bad = advance_fused(y, Q, int(n_steps), self._code, self.dt, *self._args,
                                    *self._fused)
            else:
                bad = advance_tangent(y, Q, int(n_steps), self._code, self.dt, *self._args,
                                      self._work, self._twork, self._gwork)
        if bad >= 0:
            p = self.params
            raise TangentDivergenceError(
                f"tangent integration diverged at step {bad + 1} of this call (dt={self.dt}, "
                f"N={p.N}, J0={p.J0}); try a smaller dt")

    def step(self, y, Q):
        """One step in place."""
        self.advance(y, Q, 1)

    def jacobian_times(self, y, V):
        """(F(y), DF(y) V) without stepping (for checks and the divergence)."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        V = np.ascontiguousarray(V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != self.dim:
            raise ValueError(f"V: shape (dim={self.dim}, k) required, got {V.shape}")
        k = V.shape[1]
        dy = np.empty(self.dim)
        dV = np.empty_like(V)
        N, N_E = self.params.N, self.params.N_E
        nc = -(-k // W)
        with _slp_vectorize():
            field_tangent(y, V, dy, dV, *self._block_args, np.empty(N), np.empty(N_E),
                          aligned_zeros((nc, N, W)), aligned_zeros((nc, N, W)))
        return dy, dV

    def divergence(self, y) -> float:
        """Trace of DF(y): the phase-space contraction rate of the vector field."""
        return network_divergence(self.params, y, self.net)


def network_divergence(params, y, net=None) -> float:
    """div F(y) = -N_E/tau_E - N_I/tau_I - sum_j (1/tau_D,j + u_j nu_j) over E neurons.

    The h rows have no self-coupling (no autapses), so their diagonal is -1/tau_a;
    the x rows contribute -(1/tau_D,j + u_j phi(h_j)), with the network's per-neuron STD
    constants where it has them (net), else the model's.
    """
    p = params
    nu_E = phi(p.transfer, np.asarray(y[:p.N_E], dtype=float))
    u, tau_D = (p.u, p.tau_D) if net is None else (net.u_of(p), net.tau_D_of(p))
    if np.ndim(u) == 0 and np.ndim(tau_D) == 0:  # the paper's: the same sum as always
        return float(-p.N_E / p.tau_E - p.N_I / p.tau_I - p.N_E / tau_D - u * nu_E.sum())
    return float(-p.N_E / p.tau_E - p.N_I / p.tau_I
                 - np.sum(1.0 / np.broadcast_to(tau_D, nu_E.shape)) - np.sum(u * nu_E))
