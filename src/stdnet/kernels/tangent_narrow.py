"""The narrow (fused) tangent step: the trajectory and m <= NARROW_MAX tangent vectors
gathered in one pass over the index rows.

The block path (stdnet.lyapunov.tangent.field_tangent) gathers the trajectory's inputs with
kernels.cpu.row_sum and then, separately, a block of W = 8 tangent vectors: for m = 1 it
pays two passes over every row's indices and a 64-byte load per synapse for one useful
number. Here every presynaptic neuron j has one short record

    slot 0: the trajectory's input (s_j = x_j nu_j or nu_j),  slots 1..m: its tangents,

P = 2 (m = 1) or 4 (m = 2, 3) float64 wide (padding slots hold zeros), so one index
load and one load of 16 or 32 contiguous bytes serve both. Slot 0 is summed exactly as
row_sum sums (four lanes, index 4k + l in lane l, (a0 + a1) + (a2 + a3); packed or plain
rows alike), so the trajectory is bit-identical to kernels.cpu.advance. The tangent slots
use the same lanes: Q agrees with the block path's to round-off (another summation order).

Each RK stage is one parallel pass over the rows (slope, RK accumulator and next stage
state, trajectory and tangent together, as kernels.cpu.rk_stage) followed by a short O(N m)
pass that evaluates the rates and the records of the new stage state (fused_rates).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.extending import overload

from stdnet.kernels.cpu import all_finite, efficacy_slope, input_slope, rk_combine
from stdnet.kernels.rows import n_rows, row_of, value_at
from stdnet.model.transfer import dphi_scalar, phi_scalar

#: the largest tangent block the fused step takes (3 tangents + the trajectory in 4 slots)
NARROW_MAX = 3


def record_width(m: int) -> int:
    """Slots per presynaptic record: the trajectory + m tangents, rounded up to 2 or 4."""
    if not 1 <= m <= NARROW_MAX:
        raise ValueError(f"m: invalid value {m} for the fused tangent step; allowed: "
                         f"1..{NARROW_MAX}")
    return 2 if m == 1 else 4


def _gather_fused(src, row, zeros):
    """Per slot c, sum over the row's synapses of src[row[k], c] (typed below by
    len(zeros), the record width P): a tuple of P sums, slot 0 in row_sum's order."""


def _gather2(src, row, zeros):
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    K = row.shape[0]
    if row.itemsize == 8:  # four uint16 indices per word, index 4k + l in lane l
        for k in range(K):
            w = row[k]
            j = w & 0xFFFF
            a0 += src[j, 0]
            b0 += src[j, 1]
            j = (w >> 16) & 0xFFFF
            a1 += src[j, 0]
            b1 += src[j, 1]
            j = (w >> 32) & 0xFFFF
            a2 += src[j, 0]
            b2 += src[j, 1]
            j = w >> 48
            a3 += src[j, 0]
            b3 += src[j, 1]
        return ((a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3))
    K4 = K - K % 4
    for k in range(0, K4, 4):
        j = row[k]
        a0 += src[j, 0]
        b0 += src[j, 1]
        j = row[k + 1]
        a1 += src[j, 0]
        b1 += src[j, 1]
        j = row[k + 2]
        a2 += src[j, 0]
        b2 += src[j, 1]
        j = row[k + 3]
        a3 += src[j, 0]
        b3 += src[j, 1]
    for k in range(K4, K):
        j = row[k]
        a0 += src[j, 0]
        b0 += src[j, 1]
    return ((a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3))


def _gather4(src, row, zeros):
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    c0 = c1 = c2 = c3 = 0.0
    d0 = d1 = d2 = d3 = 0.0
    K = row.shape[0]
    if row.itemsize == 8:
        for k in range(K):
            w = row[k]
            j = w & 0xFFFF
            a0 += src[j, 0]
            b0 += src[j, 1]
            c0 += src[j, 2]
            d0 += src[j, 3]
            j = (w >> 16) & 0xFFFF
            a1 += src[j, 0]
            b1 += src[j, 1]
            c1 += src[j, 2]
            d1 += src[j, 3]
            j = (w >> 32) & 0xFFFF
            a2 += src[j, 0]
            b2 += src[j, 1]
            c2 += src[j, 2]
            d2 += src[j, 3]
            j = w >> 48
            a3 += src[j, 0]
            b3 += src[j, 1]
            c3 += src[j, 2]
            d3 += src[j, 3]
        return ((a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3), (c0 + c1) + (c2 + c3),
                (d0 + d1) + (d2 + d3))
    K4 = K - K % 4
    for k in range(0, K4, 4):
        j = row[k]
        a0 += src[j, 0]
        b0 += src[j, 1]
        c0 += src[j, 2]
        d0 += src[j, 3]
        j = row[k + 1]
        a1 += src[j, 0]
        b1 += src[j, 1]
        c1 += src[j, 2]
        d1 += src[j, 3]
        j = row[k + 2]
        a2 += src[j, 0]
        b2 += src[j, 1]
        c2 += src[j, 2]
        d2 += src[j, 3]
        j = row[k + 3]
        a3 += src[j, 0]
        b3 += src[j, 1]
        c3 += src[j, 2]
        d3 += src[j, 3]
    for k in range(K4, K):
        j = row[k]
        a0 += src[j, 0]
        b0 += src[j, 1]
        c0 += src[j, 2]
        d0 += src[j, 3]
    return ((a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3), (c0 + c1) + (c2 + c3),
            (d0 + d1) + (d2 + d3))


@overload(_gather_fused)
def _gather_fused_overload(src, row, zeros):
    # the record width is a type (the length of the zeros tuple): one loop per kernel
    if zeros.count == 2:
        return _gather2
    if zeros.count == 4:
        return _gather4
    return None


@njit(cache=True, parallel=True)
def fused_rates(z, Z, N, N_E, code, SE, NE, NI):
    """The records of stage state (z, Z): slot 0 as kernels.cpu.rk_rates (s = x nu for E rows'
    E inputs, nu otherwise), slots 1..m their derivatives along Z's columns."""
    m = Z.shape[1]
    for j in prange(N):
        h = z[j]
        r = phi_scalar(code, h)
        d = dphi_scalar(code, h)
        if j < N_E:
            x = z[N + j]
            NE[j, 0] = r
            SE[j, 0] = x * r
            for q in range(m):
                dn = d * Z[j, q]
                NE[j, q + 1] = dn
                SE[j, q + 1] = x * dn + r * Z[N + j, q]
        else:
            for q in range(m):
                NI[j - N_E, q + 1] = d * Z[j, q]
            NI[j - N_E, 0] = r


@njit(cache=True, parallel=True)
def fused_stage(z, y, out, acc, Z, Y, OUT, ACC, mode, c, pre_E, pre_I, N_E, Jc, g_EE,
                 g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI, zeros):
    """One RK stage of trajectory and tangent block (kernels.cpu.rk_stage's modes, applied to
    (z, y, out, acc) and to (Z, Y, OUT, ACC) alike) from the records of (z, Z).

    Row i reads only its own elements of z, y, acc, Z, Y, ACC: out may alias z, OUT may
    alias Z or Y. The records (SE, NE, NI) must be those of (z, Z) (fused_rates).
    """
    N = n_rows(pre_E)
    m = Z.shape[1]
    a_E = Jc * g_EE
    b_E = Jc * g_EI
    a_I = Jc * g_IE
    b_I = Jc * g_II
    inv_E = 1.0 / tau_E
    inv_I = 1.0 / tau_I
    inv_D = 1.0 / tau_D
    for i in prange(N):
        inh = _gather_fused(NI, row_of(pre_I, i), zeros)
        if i < N_E:
            exc = _gather_fused(SE, row_of(pre_E, i), zeros)
            a, b, inv = a_E, b_E, inv_E
        else:
            exc = _gather_fused(NE, row_of(pre_E, i), zeros)
            a, b, inv = a_I, b_I, inv_I
        # the same expression as kernels.cpu.rk_stage: bit-identical trajectory
        k = input_slope(z[i], exc[0], inh[0], a, b, I0, inv)
        acc[i], out[i] = rk_combine(mode, c, y[i], k, acc[i])
        for q in range(m):
            kq = (-Z[i, q] + a * exc[q + 1] - b * inh[q + 1]) * inv
            ACC[i, q], OUT[i, q] = rk_combine(mode, c, Y[i, q], kq, ACC[i, q])
        if i < N_E:  # the efficacy x_i and its tangent rows
            j = N + i
            x = z[j]
            nu = NE[i, 0]
            inv_Di = value_at(inv_D, i)  # the model's, or this neuron's own
            u_i = value_at(u, i)
            kx = efficacy_slope(x, nu, inv_Di, u_i)
            acc[j], out[j] = rk_combine(mode, c, y[j], kx, acc[j])
            damp = inv_Di + u_i * nu
            cross = u_i * x
            for q in range(m):
                kq = -damp * Z[j, q] - cross * NE[i, q + 1]
                ACC[j, q], OUT[j, q] = rk_combine(mode, c, Y[j, q], kq, ACC[j, q])


@njit(cache=True)
def advance_fused(y, Q, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI,
                  g_IE, g_II, I0, tau_E, tau_I, tau_D, u, work, twork, SE, NE, NI, zeros):
    """advance_tangent's contract with the fused stages (m = Q.shape[1] <= NARROW_MAX).

    Scratch: work (2, dim), twork (2, dim, m) for the stage block and the RK4 sum,
    records SE (N_E, P), NE (N_E, P), NI (N - N_E, P) with P = len(zeros) and zero
    padding slots. Returns -1 on success, the index of the step after which y is not
    finite (y then holds the last finite state), or n_steps - 1 when only Q is not finite
    at the end of the call.
    """
    N = n_rows(pre_E)
    tmp = work[0]
    acc = work[1]
    T = twork[0]
    ACC = twork[1]
    half = 0.5 * dt
    sixth = dt / 6.0
    # Q may have been changed between calls (QR): the records of (y, Q) are made here
    fused_rates(y, Q, N, N_E, code, SE, NE, NI)
    for step in range(n_steps):
        if method == 1:
            fused_stage(y, y, tmp, acc, Q, Q, Q, ACC, 0, dt, pre_E, pre_I, N_E, Jc, g_EE,
                         g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI, zeros)
        else:
            fused_stage(y, y, tmp, acc, Q, Q, T, ACC, 0, half, pre_E, pre_I, N_E, Jc,
                         g_EE, g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI,
                         zeros)
            fused_rates(tmp, T, N, N_E, code, SE, NE, NI)
            fused_stage(tmp, y, tmp, acc, T, Q, T, ACC, 1, half, pre_E, pre_I, N_E, Jc,
                         g_EE, g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI,
                         zeros)
            fused_rates(tmp, T, N, N_E, code, SE, NE, NI)
            fused_stage(tmp, y, tmp, acc, T, Q, T, ACC, 1, dt, pre_E, pre_I, N_E, Jc,
                         g_EE, g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI,
                         zeros)
            fused_rates(tmp, T, N, N_E, code, SE, NE, NI)
            fused_stage(tmp, y, tmp, acc, T, Q, Q, ACC, 2, sixth, pre_E, pre_I, N_E, Jc,
                         g_EE, g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u, SE, NE, NI,
                         zeros)
        if not all_finite(tmp):
            return step
        fused_rates(tmp, Q, N, N_E, code, SE, NE, NI)  # the next step's first stage
        y[:] = tmp
    if not all_finite(Q.ravel()):
        return n_steps - 1
    return -1


def fused_scratch(params, m: int, aligned_zeros):
    """(work, twork, SE, NE, NI, zeros) for advance_fused; records start on cache lines."""
    P = record_width(m)
    return (np.zeros((2, params.dim)), aligned_zeros((2, params.dim, m)),
            aligned_zeros((params.N_E, P)), aligned_zeros((params.N_E, P)),
            aligned_zeros((params.N - params.N_E, P)), (0.0,) * P)
