"""The block tangent gather: F(y) and DF(y) V for a (dim, m) block V in one pass over the
connectivity, the m columns gathered W = 8 at a time (one SIMD register of float64).

Row i gathers, for every presynaptic neuron j, the m-vector of perturbed inputs
(ds_j = x_j phi'(h_j) V_hj + nu_j V_xj for E->E, dnu_j = phi'(h_j) V_hj otherwise). The
same pass gathers the trajectory's scalar inputs in the same order as kernels.cpu.advance
(kernels.cpu.row_sum), so F(y) here is bit-identical to integrate's stage slope. Used by
the RK4 block stepper (stdnet.lyapunov.tangent) and the ETD4 one (stdnet.kernels.etd4) for m >
kernels.tangent_narrow.NARROW_MAX.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from stdnet.kernels.cpu import row_sum
from stdnet.kernels.rows import n_rows, row_of, value_at
from stdnet.model.transfer import dphi_scalar, phi_scalar

W = 8  # tangent vectors gathered together: one 512-bit register of float64


def aligned_zeros(shape, align=64):
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
    N = n_rows(pre_E)
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
        # the trajectory: kernels.cpu.row_sum's fixed order, so bit-identical to advance
        inh = row_sum(nu_I, row_of(pre_I, i))
        if i < N_E:
            exc = row_sum(s, row_of(pre_E, i))
            dy[i] = (-y[i] + I0 + a_E * exc - b_E * inh) * inv_E
            a, b, inv = a_E, b_E, inv_E
            srcE = ds
        else:
            exc = row_sum(nu, row_of(pre_E, i))
            dy[i] = (-y[i] + I0 + a_I * exc - b_I * inh) * inv_I
            a, b, inv = a_I, b_I, inv_I
            srcE = dnu
        for c in range(nc):
            E = _gather_block(srcE[c], row_of(pre_E, i), np.uint64(0))
            I = _gather_block(dnu[c], row_of(pre_I, i), off_I)
            base = c * W
            for k in range(min(W, m - base)):
                dV[i, base + k] = (-V[i, base + k] + a * E[k] - b * I[k]) * inv
    for j in prange(N_E):
        x = y[N + j]
        inv_Dj = value_at(inv_D, j)  # the model's, or this neuron's own
        u_j = value_at(u, j)
        dy[N + j] = (1.0 - x) * inv_Dj - u_j * x * nu[j]
        damp = inv_Dj + u_j * nu[j]
        cross = u_j * x
        for c in range(nc):
            for k in range(min(W, m - c * W)):
                col = c * W + k
                dV[N + j, col] = -damp * V[N + j, col] - cross * dnu[c, j, k]
