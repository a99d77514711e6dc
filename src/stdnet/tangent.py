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
order as integrate.advance (integrate.row_sum), so the trajectory is
bit-identical to integrate.advance.

For m <= tangent_narrow.NARROW_MAX (the lambda_max runs: m = 1, 2) TangentStepper
takes the fused path instead (stdnet.tangent_narrow): one gather per synapse serves
the trajectory and the m tangent vectors together, about 1.1-1.3 trajectory steps
instead of about 3.5 (docs/performance.md, "Narrow tangent step"). Same trajectory
bits, Q equal to the block path's to round-off.

The QR re-orthonormalisation is not here: see stdnet.lyapunov (the algorithm) and
stdnet.lyapunov_qr; stdnet.lyapunov_run builds this stepper for a network run.
"""
from __future__ import annotations

import contextlib

import numpy as np
import numba
from numba import njit, prange

from .integrate import METHOD_CODES, _all_finite, kernel_args, packing_pays, row_sum
from .tangent_narrow import NARROW_MAX, advance_fused, fused_scratch, record_width
from .transfer import dphi_scalar, phi_scalar


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


W = 8  # tangent vectors gathered together: one 512-bit register of float64


def _aligned_zeros(shape, align=64):
    """float64 zeros whose data start on an `align`-byte boundary (a cache line).

    The gather loads one W-vector (64 bytes) per presynaptic neuron; numpy only
    guarantees 16-byte alignment, and a vector split over two cache lines made
    the whole tangent step 1.3-1.7x slower depending on where malloc put it.
    """
    n = int(np.prod(shape))
    buf = np.zeros(n + align // 8)
    off = (-buf.ctypes.data % align) // 8
    return buf[off:off + n].reshape(shape)


@njit(cache=True, inline="always")
def _gather_block(src, row, off):
    """sum over the row's synapses q of the W-vector src[off + row[q], :].

    Two interleaved accumulator sets (even / odd synapses) added at the end: two
    independent add chains per vector lane; the order is fixed per row. The 8
    scalars become one SIMD register with SLP. Unsigned indices: no wraparound code.
    """
    K = row.shape[0]
    e0 = e1 = e2 = e3 = e4 = e5 = e6 = e7 = 0.0
    g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = 0.0
    one = np.uint64(1)
    for p in range(K // 2):
        q = np.uint64(2 * p)
        j = off + row[q]
        e0 += src[j, 0]
        e1 += src[j, 1]
        e2 += src[j, 2]
        e3 += src[j, 3]
        e4 += src[j, 4]
        e5 += src[j, 5]
        e6 += src[j, 6]
        e7 += src[j, 7]
        j = off + row[q + one]
        g0 += src[j, 0]
        g1 += src[j, 1]
        g2 += src[j, 2]
        g3 += src[j, 3]
        g4 += src[j, 4]
        g5 += src[j, 5]
        g6 += src[j, 6]
        g7 += src[j, 7]
    if K % 2:
        j = off + row[K - 1]
        e0 += src[j, 0]
        e1 += src[j, 1]
        e2 += src[j, 2]
        e3 += src[j, 3]
        e4 += src[j, 4]
        e5 += src[j, 5]
        e6 += src[j, 6]
        e7 += src[j, 7]
    return (e0 + g0, e1 + g1, e2 + g2, e3 + g3, e4 + g4, e5 + g5, e6 + g6, e7 + g7)


@njit(cache=True, parallel=True)
def field_tangent(y, V, dy, dV, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                  I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds):
    """dy = F(y) and dV = DF(y) V for a (dim, m) block V, in one connectivity pass.

    Scratch: nu (N), s (N_E), dnu and ds (n_chunks, N, W; ds uses rows < N_E) with
    n_chunks = ceil(m / W). The perturbed presynaptic inputs are stored in chunks
    of W = 8 columns so that a row's gather adds one contiguous 8-vector per
    presynaptic neuron into 8 register accumulators (SIMD); for m <= 8 that is a
    single pass over the connectivity, for larger m one pass per chunk of 8 over
    the row's (cached) index list. Padding columns hold zeros.
    """
    N = pre_E.shape[0]
    m = V.shape[1]
    nc = dnu.shape[0]
    for j in prange(N):
        h = y[j]
        nu[j] = phi_scalar(code, h)
        d = dphi_scalar(code, h)
        for c in range(nc):
            for k in range(min(W, m - c * W)):  # padding columns stay zero
                dnu[c, j, k] = d * V[j, c * W + k]
    for j in prange(N_E):
        x = y[N + j]
        s[j] = x * nu[j]
        for c in range(nc):
            for k in range(min(W, m - c * W)):
                ds[c, j, k] = x * dnu[c, j, k] + nu[j] * V[N + j, c * W + k]
    a_E = Jc * g_EE
    b_E = Jc * g_EI
    a_I = Jc * g_IE
    b_I = Jc * g_II
    inv_E = 1.0 / tau_E
    inv_I = 1.0 / tau_I
    inv_D = 1.0 / tau_D
    off_I = np.uint64(N_E)
    nu_I = nu[N_E:]
    for i in prange(N):
        # the trajectory: integrate.row_sum's fixed order, so bit-identical to advance
        inh = row_sum(nu_I, pre_I[i])
        if i < N_E:
            exc = row_sum(s, pre_E[i])
            dy[i] = (-y[i] + I0 + a_E * exc - b_E * inh) * inv_E
            a, b, inv = a_E, b_E, inv_E
            srcE = ds
        else:
            exc = row_sum(nu, pre_E[i])
            dy[i] = (-y[i] + I0 + a_I * exc - b_I * inh) * inv_I
            a, b, inv = a_I, b_I, inv_I
            srcE = dnu
        for c in range(nc):
            E = _gather_block(srcE[c], pre_E[i], np.uint64(0))
            I = _gather_block(dnu[c], pre_I[i], off_I)
            base = c * W
            for k in range(min(W, m - base)):
                dV[i, base + k] = (-V[i, base + k] + a * E[k] - b * I[k]) * inv
    for j in prange(N_E):
        x = y[N + j]
        dy[N + j] = (1.0 - x) * inv_D - u * x * nu[j]
        damp = inv_D + u * nu[j]
        cross = u * x
        for c in range(nc):
            for k in range(min(W, m - c * W)):
                col = c * W + k
                dV[N + j, col] = -damp * V[N + j, col] - cross * dnu[c, j, k]


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

    Scratch: work (6, dim) as for integrate.advance, twork (3, dim, m) for the stage
    slope, the stage block and the RK4 sum, gwork (2, ceil(m/W), N, W) for the
    gathered vectors. Returns -1 on success, or the index of the step after which
    y is not finite (y then holds the last finite state), or n_steps - 1 when only
    Q is not finite at the end of the call.
    """
    n = y.shape[0]
    N = pre_E.shape[0]
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
            # same expression and order as integrate.advance: bit-identical trajectory
            for j in range(n):
                tmp[j] = y[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
            for j in range(Qf.shape[0]):
                Qf[j] += sixth * (accf[j] + Kf[j])
        if not _all_finite(tmp):
            return step
        y[:] = tmp
    if not _all_finite(Qf):
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
    """Trajectory + m tangent vectors of one network, RK4 (or Euler) with fixed dt.

    The tangent block follows the exact variational equation of the discrete RK4
    map (the Jacobian of the RK4 step, computed stage by stage alongside the
    trajectory), so exponents are those of the map that the simulation iterates.
    The trajectory part is bit-identical to stdnet.integrate.advance.

    y: float64 (dim,), Q: float64 (dim, m) C-contiguous; both advanced in place.
    path: "auto" (fused for m <= NARROW_MAX, else block), "fused" or "block"
    (tangent_path); self.path is the one taken. Both give the same trajectory bits and
    Q to round-off (another summation order of the tangent gathers).
    """

    def __init__(self, params, net, m, dt, method="rk4", path="auto"):
        if method not in METHOD_CODES:
            raise ValueError(f"method: invalid value {method!r}; allowed: "
                             f"{', '.join(METHOD_CODES)}")
        m = int(m)
        if not 1 <= m <= params.dim:
            raise ValueError(f"m: invalid value {m}; allowed: an integer in [1, dim={params.dim}]")
        if not dt > 0:
            raise ValueError(f"dt: invalid value {dt!r}; allowed: a number > 0")
        self.params, self.net, self.m, self.dt, self.method = params, net, m, float(dt), method
        self.dim = params.dim
        self._code = METHOD_CODES[method]
        self.path = tangent_path(m, path)
        self._block_args = kernel_args(params, net, packed=False)  # jacobian_times' gather
        if self.path == "fused":
            # records of P float64 per neuron: packed index words pay where they spill L1
            P = record_width(m)
            self._args = kernel_args(params, net, packed=packing_pays(params.N_E * P))
            self._fused = fused_scratch(params, m, _aligned_zeros)
            return
        self._args = self._block_args  # the gather indexes synapses
        self._work = np.zeros((6, self.dim))
        self._twork = _aligned_zeros((3, self.dim, m))
        self._gwork = _aligned_zeros((2, -(-m // W), params.N, W))

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
            if self.path == "fused":
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
                          _aligned_zeros((nc, N, W)), _aligned_zeros((nc, N, W)))
        return dy, dV

    def divergence(self, y) -> float:
        """Trace of DF(y): the phase-space contraction rate of the vector field."""
        return network_divergence(self.params, y)


def network_divergence(params, y) -> float:
    """div F(y) = -N_E/tau_E - N_I/tau_I - sum_j (1/tau_D + u nu_j) over E neurons.

    The h rows have no self-coupling (no autapses), so their diagonal is -1/tau_a;
    the x rows contribute -(1/tau_D + u phi(h_j)).
    """
    from .transfer import phi

    p = params
    nu_E = phi(p.transfer, np.asarray(y[:p.N_E], dtype=float))
    return float(-p.N_E / p.tau_E - p.N_I / p.tau_I - p.N_E / p.tau_D - p.u * nu_E.sum())
