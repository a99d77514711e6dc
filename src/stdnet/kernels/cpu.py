"""Numba kernels: the network vector field and fixed-step RK4 / Euler integration.

State layout: one vector y of length N + N_E, y[:N] the input currents h of all
neurons (E first, then I), y[N:] the efficacies x of the E neurons. float64 by
default; the same kernels run on float32 state (RunParams.precision): rates and
synaptic sums are then float32 too (the gathered rates fit the L1 cache twice as
long: 1.4x faster at N = 1e4), the per-neuron update is done in float64.

Kernels take arrays and scalars only. Where the time goes: every evaluation of
the vector field gathers N*(K_E + K_I) presynaptic values through the index
rows of the Network, which is >95% of the work for K >= 100. So:

- `row_sum` fixes one summation order per row (four interleaved partial sums,
  combined as (a0 + a1) + (a2 + a3)). Four independent add chains keep the
  load ports busy instead of waiting on one add's latency (about 2x faster than
  a single running sum) and the order does not depend on the thread count, the
  chunking of a run or the SIMD width of the machine: results are bit-identical
  for any number of threads. Any kernel that must reproduce the trajectory
  bit for bit (e.g. the tangent step) uses `row_sum`.
- Where the gathered rates spill out of L1, the index rows are read four
  uint16 at a time from one 8-byte word (`packed_rows`, `packing_pays`): the
  load ports, not the adds, are then the limit. Same lanes, same bits.
- `advance` fuses each RK4 stage into one parallel pass over the rows: row i
  gathers its inputs, forms its slope k_i, accumulates k1 + 2k2 + 2k3 + k4 in
  place and writes the next stage's state; a short O(N) pass then evaluates the
  rates phi(h) and x phi(h) of that state, once per neuron and stage (4 times
  per RK4 step, the minimum; the rates of a step's result serve the next step).
"""
from __future__ import annotations

import sys

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from stdnet.kernels import hardware
from stdnet.kernels.rows import n_rows, row_of, value_at
from stdnet.model.transfer import phi_scalar


def _zero(a):
    """A zero of a's element type (float32 sums for float32 arrays, else float64)."""
    return 0.0


@overload(_zero, inline="always")
def _zero_overload(a):
    if a.dtype == types.float32:
        return lambda a: np.float32(0.0)
    return lambda a: 0.0


@njit(cache=True, inline="always")
def row_sum(src, row):
    """sum_k src[row[k]] in the package's fixed order (see the module docstring).

    `row` is a row of indices (uint16/uint32), or the same uint16 row packed four to
    a uint64 word (`packed_rows`); both give the same bits. Any 8-byte row is read as
    packed (index rows are never 8 bytes wide: network.index_dtype). The branch is on
    the element size, a compile-time constant: each specialisation keeps one loop.
    """
    a0 = _zero(src)
    a1 = _zero(src)
    a2 = _zero(src)
    a3 = _zero(src)
    K = row.shape[0]
    if row.itemsize == 8:
        # one 8-byte load brings four uint16 indices (little-endian: the first in
        # the low bits); shifts and masks run on the ALU ports, which leaves the
        # load ports to the gathers. Index 4k + l goes to lane l, as below.
        for k in range(K):
            w = row[k]
            a0 += src[w & 0xFFFF]
            a1 += src[(w >> 16) & 0xFFFF]
            a2 += src[(w >> 32) & 0xFFFF]
            a3 += src[w >> 48]
        return (a0 + a1) + (a2 + a3)
    K4 = K - K % 4
    for k in range(0, K4, 4):
        a0 += src[row[k]]
        a1 += src[row[k + 1]]
        a2 += src[row[k + 2]]
        a3 += src[row[k + 3]]
    for k in range(K4, K):
        a0 += src[row[k]]
    return (a0 + a1) + (a2 + a3)


def packed_rows(rows: np.ndarray) -> np.ndarray:
    """A zero-copy uint64 view of a uint16 index block with four indices per word, or
    `rows` itself where that is impossible (wider indices, K not a multiple of 4)."""
    if (rows.dtype == np.uint16 and rows.ndim == 2 and rows.shape[1] % 4 == 0
            and rows.flags.c_contiguous and rows.ctypes.data % 8 == 0
            and sys.byteorder == "little"):
        return rows.view(np.uint64)
    return rows


def packing_pays(n_sources: int, dtype=np.float64, l1d: int | None = None) -> bool:
    """Whether packed rows are faster: where the gathered rates of one population do
    not fit the L1 cache, each gather is an L2 hit and the load ports are the limit, so
    a quarter of the index loads is worth 1.15-1.2x (float64, N = 1e4). Where the rates
    fit L1 the extra shifts cost 3-8% instead. Measured crossover on a 48 KiB L1d:
    between 38 and 44 KiB of rates (docs/performance.md); we switch at 80% of L1d.
    Either layout gives the same bits, so this choice never changes a result."""
    l1d = hardware.l1d_bytes() if l1d is None else l1d
    return n_sources * np.dtype(dtype).itemsize > 0.8 * l1d


@njit(cache=True, inline="always")
def input_slope(h, exc, inh, a, b, I0, inv_tau):
    """dh/dt of one neuron: (-h + I0 + a exc - b inh) / tau (a, b: the coupling times the
    gains of its excitatory and inhibitory inputs). Shared with the CUDA kernels."""
    return (-h + I0 + a * exc - b * inh) * inv_tau


@njit(cache=True, inline="always")
def efficacy_slope(x, nu, inv_D, u):
    """dx/dt of an E neuron's synaptic efficacy: recovery (1 - x) / tau_D, use u x nu."""
    return (1.0 - x) * inv_D - u * x * nu


@njit(cache=True, inline="always")
def rk_combine(mode, c, y, k, acc):
    """(acc, out) of one element of an RK stage with slope k (see rk_stage's modes)."""
    if mode == 0:
        return k, y + c * k
    if mode == 1:
        return acc + 2.0 * k, y + c * k
    return acc, y + c * (acc + k)


@njit(cache=True, parallel=True)
def rk_rates(y, N, N_E, code, nu, s):
    """nu = phi(h), s = x * nu (E neurons)."""
    for j in prange(N):
        r = phi_scalar(code, y[j])
        nu[j] = r
        if j < N_E:
            s[j] = y[N + j] * r


@njit(cache=True)
def vector_field(y, dy, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                 I0, tau_E, tau_I, tau_D, u, nu, s):
    """dy = F(y). `nu` (N) and `s` (N_E) are scratch arrays for rates and x*nu.

    E rows gather depressed inputs s_j = x_j nu_j, I rows plain rates nu_j; both
    gather inhibitory rates. One pass over the index rows: cost N*(K_E + K_I).
    """
    N = n_rows(pre_E)
    rk_rates(y, N, N_E, code, nu, s)
    # the first RK stage leaves its slope k = F(y) in acc = dy; out is not needed
    rk_stage(y, y, np.empty_like(y), dy, 0, 0.0, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE,
           g_II, I0, tau_E, tau_I, tau_D, u, nu, s)


@njit(cache=True, parallel=True)
def rk_stage(z, y, out, acc, mode, c, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II, I0,
           tau_E, tau_I, tau_D, u, nu, s):
    """One RK stage: k = F(z) from the rates (nu, s) of z, then per element

        mode 0: acc = k,      out = y + c k
        mode 1: acc += 2 k,   out = y + c k
        mode 2:               out = y + c (acc + k)

    pre_E/pre_I, u and tau_D take every form of stdnet.kernels.rows (fixed or variable
    in-degree, one or per-neuron STD constants). Row i reads z, y, acc only at its own
    elements, so out may alias z. The
    rates of `out` are left to `rk_rates`: evaluating phi inside this loop (a libm
    call per row) slowed the gather measurably, a separate O(N) pass does not.
    """
    N = n_rows(pre_E)
    nu_I = nu[N_E:]
    a_E = Jc * g_EE
    b_E = Jc * g_EI
    a_I = Jc * g_IE
    b_I = Jc * g_II
    inv_E = 1.0 / tau_E
    inv_I = 1.0 / tau_I
    inv_D = 1.0 / tau_D
    for i in prange(N):
        inh = row_sum(nu_I, row_of(pre_I, i))
        if i < N_E:  # E rows: depressed E inputs
            exc = row_sum(s, row_of(pre_E, i))
            k = input_slope(z[i], exc, inh, a_E, b_E, I0, inv_E)
        else:  # I rows: plain E rates
            exc = row_sum(nu, row_of(pre_E, i))
            k = input_slope(z[i], exc, inh, a_I, b_I, I0, inv_I)
        acc[i], out[i] = rk_combine(mode, c, y[i], k, acc[i])
        if i < N_E:  # the efficacy x_i of an E neuron
            j = N + i
            kx = efficacy_slope(z[j], nu[i], value_at(inv_D, i), value_at(u, i))
            acc[j], out[j] = rk_combine(mode, c, y[j], kx, acc[j])


@njit(cache=True)
def all_finite(y):
    """False on NaN, inf, or a value whose square would overflow (the running variances
    of the recorder square the state): such a state has diverged for any purpose here."""
    for v in y:
        if not (abs(v) < 1e150):
            return False
    return True


@njit(cache=True)
def advance(y, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
            g_II, I0, tau_E, tau_I, tau_D, u, work):
    """Advance y in place by n_steps fixed steps (method 0 = RK4, 1 = Euler).

    `work` is a (>= 3, len(y)) scratch block of y's dtype (make_work). Returns -1
    on success, or the index (0-based, within this call) of the first step after
    which y is not finite; y then holds the last finite state.
    """
    N = n_rows(pre_E)
    tmp = work[0]
    acc = work[1]
    nu = work[2][:N]
    s = work[2][N:]
    rk_rates(y, N, N_E, code, nu, s)  # then each step leaves the rates of its result
    half = 0.5 * dt
    sixth = dt / 6.0
    for step in range(n_steps):
        if method == 1:
            rk_stage(y, y, tmp, acc, 0, dt, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II,
                   I0, tau_E, tau_I, tau_D, u, nu, s)
        else:
            rk_stage(y, y, tmp, acc, 0, half, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II,
                   I0, tau_E, tau_I, tau_D, u, nu, s)
            rk_rates(tmp, N, N_E, code, nu, s)
            rk_stage(tmp, y, tmp, acc, 1, half, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE,
                   g_II, I0, tau_E, tau_I, tau_D, u, nu, s)
            rk_rates(tmp, N, N_E, code, nu, s)
            rk_stage(tmp, y, tmp, acc, 1, dt, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II,
                   I0, tau_E, tau_I, tau_D, u, nu, s)
            rk_rates(tmp, N, N_E, code, nu, s)
            rk_stage(tmp, y, tmp, acc, 2, sixth, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE,
                   g_II, I0, tau_E, tau_I, tau_D, u, nu, s)
        if not all_finite(tmp):
            return step
        rk_rates(tmp, N, N_E, code, nu, s)
        y[:] = tmp
    return -1


METHOD_CODES = {"rk4": 0, "euler": 1}
PRECISIONS = {"float64": np.float64, "float32": np.float32}


def kernel_args(params, net, packed=None, dtype=np.float64):
    """The scalar/array argument tuple shared by vector_field and advance (after y).

    packed: pass the index rows as `packed_rows` (True), as stored (False), or where
    `packing_pays` for a state of `dtype` (None). Kernels that index single synapses
    (the tangent gather) need packed=False.
    """
    pre_E, pre_I = net.rows_E, net.rows_I
    if packed is None:
        packed = packing_pays(params.N_E, dtype)
    if packed and net.fixed_indegree:  # variable rows do not start on 8-byte words
        pre_E, pre_I = packed_rows(pre_E), packed_rows(pre_I)
    return (pre_E, pre_I, params.N_E, params.transfer_code, params.coupling,
            params.g_EE, params.g_EI, params.g_IE, params.g_II, params.I0,
            params.tau_E, params.tau_I, net.tau_D_of(params), net.u_of(params))


def network_vector_field(params, net, y) -> np.ndarray:
    """F(y) for one network, allocating its own scratch (convenience for analysis/tests)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    dy = np.empty_like(y)
    nu = np.empty(params.N)
    s = np.empty(params.N_E)
    vector_field(y, dy, *kernel_args(params, net), nu, s)
    return dy


def make_work(params, dtype=np.float64) -> np.ndarray:
    """Scratch for `advance` (6 rows kept for callers that index rows 4 and 5)."""
    return np.zeros((6, params.dim), dtype=dtype)
