"""CUDA kernels (numba-cuda) of the network's RK4 / Euler step; the CPU twins live in
stdnet.kernels.cpu, the layout of the index pattern in stdnet.kernels.cuda.layout.

Kernels take arrays and scalars only. One RK stage is two launches:

- `gather`: S threads per row (kernels.cuda.layout.row_splits), thread s of row i sums the
  presynaptic rates of its contiguous share of the W_t words of row i's tile (padded
  with the zero slot: variable rows need no other code) into part[., s, i]. The 32
  threads of a warp hold 32 rows of one tile and the same share, so each word load of
  the warp is one coalesced 256-byte read; the gathered rates are small enough to stay
  in L2 (N_E = 8e5 float64 rates are 6.4 MB, the H200's L2 60 MB).
- `update`: a thread per neuron adds its S partial sums in order, forms the slope and
  the RK update (as kernels.cpu.rk_stage), and evaluates the rates of the new state, which
  the next gather reads. u and 1/tau_D come as arrays: one value per E neuron, or one
  for all (the paper's network).

No kernel uses atomics, shuffles or barriers: every sum has one order, fixed by the
network (N and its tiles' widths), never by the device or the scheduling, so a run on the
GPU gives the same bytes every time; it differs from the CPU's order only at round-off.
(Barrier-free kernels also run fast enough in numba-cuda's CPU simulator for the tests.)
Sums are accumulated in float64 also for float32 state: a step costs the index stream,
not the adds.

Divergence: the last stage of a step checks its result; where it is not finite it
stores the step's index in flag[0], and every later launch returns at once, so the state
that step started from is kept (the caller holds two state buffers).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda

from stdnet.kernels.cpu import efficacy_slope, input_slope, rk_combine
from stdnet.model.transfer import phi_scalar

#: threads per block
THREADS = 128
#: threads of `record` at most: each sums a fixed strided share of the neurons
RECORD_THREADS = 4096
#: the 16-bit fields of an index word, as uint64 constants (uint64 arithmetic throughout)
_SHIFT = np.uint64(16)
_S1, _S2, _S3 = np.uint64(16), np.uint64(32), np.uint64(48)
_MASK = np.uint64(0xFFFF)


@cuda.jit(device=True, inline=True)
def _share_sum(src, words, bounds, tile, lane, w0, w1, base):
    """sum of src over the indices in words w0 .. w1 - 1 of one row (tile, lane), whose
    tile starts at word row `base`."""
    b = 0
    nxt = bounds[tile, 1, lane]
    k0 = 4 * w0
    while k0 >= nxt and w0 < w1:  # the block of the share's first entry
        b += 1
        nxt = bounds[tile, b + 1, lane]
    acc = 0.0
    for w in range(w0, w1):
        word = words[base + w, lane]
        k = 4 * w
        if k + 4 <= nxt:  # the whole word in block b: the common case
            # unsigned indices: no negative-index wraparound code in the hot loop
            high = np.uint64(b) << _SHIFT
            i0 = high | (word & _MASK)
            i1 = high | ((word >> _S1) & _MASK)
            i2 = high | ((word >> _S2) & _MASK)
            i3 = high | (word >> _S3)
            acc += (src[i0] + src[i1]) + (src[i2] + src[i3])
        else:  # the word crosses into a later block
            for q in range(4):
                while k + q >= nxt:
                    b += 1
                    nxt = bounds[tile, b + 1, lane]
                low = (word >> np.uint64(16 * q)) & _MASK
                acc += src[(np.uint64(b) << _SHIFT) | low]
    return acc


@cuda.jit
def gather(wE, oE, bE, wI, oI, bI, N, N_E, S, nu_E, nu_I, s_E, part, flag):
    """part[0, s, i], part[1, s, i]: share s (of S) of row i's inhibitory and excitatory
    input sums. E rows gather depressed inputs s_E = x nu_E, I rows plain rates nu_E;
    both gather nu_I. Rate vectors carry a trailing 0 slot (the padding index). The
    shares split the words of the row's tile (its width W_t, kernels.cuda.layout)."""
    t = cuda.grid(1)
    if flag[0] >= 0:  # a step has diverged: the launch returns
        return
    rows = bE.shape[0] * 32
    s = t // rows
    i = t - s * rows
    if s >= S or i >= N:
        return
    tile = i // 32
    lane = i - 32 * tile
    base = oI[tile]
    W = oI[tile + 1] - base
    part[0, s, i] = _share_sum(nu_I, wI, bI, tile, lane, (s * W) // S, ((s + 1) * W) // S,
                               base)
    base = oE[tile]
    W = oE[tile + 1] - base
    w0 = (s * W) // S
    w1 = ((s + 1) * W) // S
    if i < N_E:
        part[1, s, i] = _share_sum(s_E, wE, bE, tile, lane, w0, w1, base)
    else:
        part[1, s, i] = _share_sum(nu_E, wE, bE, tile, lane, w0, w1, base)


@cuda.jit
def update(z, y, out, acc, mode, c, part, S, N, N_E, code, a_E, b_E, a_I, b_I, I0, inv_E,
           inv_I, inv_D, u, nu_E, nu_I, s_E, flag, step):
    """Row i's slope k = F(z)_i from its S partial sums, then as kernels.cpu.rk_stage

        mode 0: acc = k,      out = y + c k
        mode 1: acc += 2 k,   out = y + c k
        mode 2:               out = y + c (acc + k)

    (and the same for the efficacy x_i of an E neuron), then the rates of out_i. With
    step >= 0, flag[0] = step where out_i is not finite (or its square would overflow,
    as kernels.cpu.all_finite). A thread touches only its own elements: out may alias z.
    inv_D = 1 / tau_D and u: float64 arrays of one value per E neuron, or of one value for
    all (the paper's network: the same float64 as the scalar it replaces, so the same bits).
    """
    i = cuda.grid(1)
    if flag[0] >= 0 or i >= N:
        return
    inh = 0.0
    exc = 0.0
    for s in range(S):
        inh += part[0, s, i]
        exc += part[1, s, i]
    if i < N_E:
        k = input_slope(z[i], exc, inh, a_E, b_E, I0, inv_E)
    else:
        k = input_slope(z[i], exc, inh, a_I, b_I, I0, inv_I)
    acc[i], out[i] = rk_combine(mode, c, y[i], k, acc[i])
    bad = not abs(np.float64(out[i])) < 1e150  # float64: 1e150 overflows float32
    r = phi_scalar(code, out[i])
    if i < N_E:  # the efficacy x_i, from the rate of z (read before it is replaced)
        j = N + i
        # min: index 0 of a one-value array (a branch-free select, no modulo)
        kx = efficacy_slope(z[j], nu_E[i], inv_D[min(i, inv_D.shape[0] - 1)],
                            u[min(i, u.shape[0] - 1)])
        acc[j], out[j] = rk_combine(mode, c, y[j], kx, acc[j])
        bad = bad or not abs(np.float64(out[j])) < 1e150
        nu_E[i] = r
        s_E[i] = out[j] * r
    else:
        nu_I[i - N_E] = r
    if step >= 0 and bad:
        flag[0] = step


@cuda.jit
def rates(z, N, N_E, code, nu_E, nu_I, s_E):
    """nu = phi(h), s = x nu of state z (the rates a run starts from)."""
    j = cuda.grid(1)
    if j < N:
        r = phi_scalar(code, z[j])
        if j < N_E:
            nu_E[j] = r
            s_E[j] = z[N + j] * r
        else:
            nu_I[j - N_E] = r


@cuda.jit
def record(z, N, N_E, code, count, h_mean, h_m2, nu_mean, nu_m2, x_mean, partial):
    """One recorded sample of state z. Thread t sums (nu_E, nu_I, x, h_E, h_I) over the
    neurons t, t + T, t + 2T, ... (T = partial.shape[0]) into partial[t] (the caller adds
    the rows), and with count > 0 gives those neurons' running statistics (Welford) their
    count-th sample. Rates in float64 from the state, as on the CPU (simulate.CpuEngine)."""
    t = cuda.grid(1)
    T = partial.shape[0]
    if t >= T:
        return
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    for j in range(t, N, T):
        h = np.float64(z[j])
        r = phi_scalar(code, h)
        if j < N_E:
            x = np.float64(z[N + j])
            s0 += r
            s2 += x
            s3 += h
        else:
            s1 += r
            s4 += h
        if count > 0:
            d = h - h_mean[j]
            h_mean[j] += d / count
            h_m2[j] += d * (h - h_mean[j])
            d = r - nu_mean[j]
            nu_mean[j] += d / count
            nu_m2[j] += d * (r - nu_mean[j])
            if j < N_E:
                x_mean[j] += (np.float64(z[N + j]) - x_mean[j]) / count
    partial[t, 0] = s0
    partial[t, 1] = s1
    partial[t, 2] = s2
    partial[t, 3] = s3
    partial[t, 4] = s4


@cuda.jit
def stream_read(a, out):
    """The memory-bandwidth probe: every thread sums a grid-stride slice of `a` (a pure
    streaming read); the sums land in `out` so the reads cannot be optimised away."""
    j = cuda.grid(1)
    stride = cuda.gridsize(1)
    s = 0.0
    for i in range(j, a.shape[0], stride):
        s += a[i]
    if j < out.shape[0]:
        out[j] = s


def blocks(n: int, threads: int = THREADS) -> int:
    return max(1, math.ceil(n / threads))
