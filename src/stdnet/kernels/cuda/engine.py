"""The state of one run held on the GPU: the CUDA twin of the CPU stepping in
stdnet.simulation.simulate (`simulation.backend: cuda`).

What lives on the device for the whole run: the index pattern (stdnet.kernels.cuda.layout,
fixed or variable rows), u and 1/tau_D (one value, or one per E neuron), two state buffers
(a step reads one and writes the other, so a diverging step leaves the state it started
from), the RK4 stage state and slope sum, the rates with their zero slot, and the
per-neuron running statistics. What comes back to the host: per recorded
sample five population sums per block and the few recorded neurons; the whole state and
the statistics only for a checkpoint and at the end (`sync`).
"""
from __future__ import annotations

import numpy as np

from stdnet.kernels.cpu import METHOD_CODES, PRECISIONS
from stdnet.kernels.cuda import kernels as K
from stdnet.kernels.cuda.device import check_device_memory, describe, require_cuda
from stdnet.kernels.cuda.layout import (
    TILE,
    layout_bytes,
    n_blocks,
    n_tiles,
    n_words,
    pack_rows,
    row_lengths,
    row_splits,
    tile_offsets,
    tile_rows,
    tile_widths,
)
from stdnet.model.transfer import phi

#: rows packed and copied to the device at a time (bounds the host memory of the upload)
UPLOAD_ROWS = 16384
STAT_KEYS = ("h_mean", "h_m2", "nu_mean", "nu_m2", "x_mean")


def splits(params) -> int:
    """Threads per row of the gather kernel for this network (kernels.cuda.layout.row_splits);
    from the ensemble's mean in-degrees, so one config gives one S (and summation order)."""
    return row_splits(params.N, n_words(params.K_E) + n_words(params.K_I))


def device_bytes(params, precision: str = "float64", S: int | None = None,
                 degrees: tuple | None = None) -> int:
    """GPU memory of one run, byte for byte what CudaEngine allocates: the pattern, 4 state
    vectors, the rates with their zero slots, u and 1/tau_D, the partial sums, the
    statistics, the record sums and the divergence flag. degrees: (K_iE, K_iI) of the
    realization (Network.in_degree_E/_I, network.realization_in_degrees): variable rows
    are stored in their tiles' widths, so their size is that of the drawn network."""
    p = params
    item = np.dtype(PRECISIONS[precision]).itemsize
    S = splits(p) if S is None else S
    if degrees is None:
        if p.connectivity != "fixed_indegree":
            raise ValueError(f"device_bytes: model.connectivity {p.connectivity!r} needs the "
                             "realization's in-degrees (degrees=(K_iE, K_iI)); allowed without "
                             "them: fixed_indegree")
        degrees = (p.K_E, p.K_I)
    pattern = layout_bytes(p.N, degrees[0], p.N_E) + layout_bytes(p.N, degrees[1], p.N_I)
    rates = (2 * (p.N_E + 1) + p.N_I + 1) * item
    std = 8 * ((p.N_E if p.u_cv > 0 else 1) + (p.N_E if p.tau_D_cv > 0 else 1))
    record = 5 * 8 * min(p.N, K.RECORD_THREADS)
    return (pattern + 4 * p.dim * item + rates + std + 2 * S * p.N * 8
            + (4 * p.N + p.N_E) * 8 + record + 8)


def upload_rows(rows, n_pool: int):
    """(words, tile offsets, bounds): the tiled, packed layout of `rows` ((N, K) or (flat,
    ptr), stdnet.kernels.cuda.layout) on the device, packed UPLOAD_ROWS rows at a time so
    the host never holds a second copy of the pattern."""
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from numba import cuda

    lengths = row_lengths(rows)
    N = lengths.size
    widths = tile_widths(lengths)
    off = tile_offsets(widths)
    words = cuda.device_array((int(off[-1]), TILE), dtype=np.uint64)
    bounds = cuda.device_array((n_tiles(N), n_blocks(n_pool) + 1, TILE), dtype=np.int32)
    for r0 in range(0, N, UPLOAD_ROWS):  # UPLOAD_ROWS is a multiple of TILE
        r1 = min(N, r0 + UPLOAD_ROWS)
        t0, t1 = r0 // TILE, n_tiles(r1)
        chunk = (rows[0], rows[1][r0:r1 + 1]) if isinstance(rows, tuple) else rows[r0:r1]
        w, _, b = tile_rows(*pack_rows(chunk, n_pool, np.repeat(widths[t0:t1], TILE)[:r1 - r0]),
                            widths[t0:t1])
        if w.size:  # a chunk of empty rows stores no words
            words[off[t0]:off[t1]].copy_to_device(w)
        bounds[t0:t1].copy_to_device(b)
    return words, cuda.to_device(off), bounds


class CudaEngine:
    """Advance and record one run on the GPU (the interface of simulate.CpuEngine)."""

    def __init__(self, params, run, net, state, S: int | None = None):
        """S: threads per row of the gather (default `splits`; the tests vary it)."""
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from numba import cuda

        require_cuda()
        self.device = describe()["name"]
        p = self.p = params
        self.dtype = PRECISIONS[run.precision]
        self.S = splits(p) if S is None else int(S)
        check_device_memory(device_bytes(p, run.precision, self.S,
                                         (net.in_degree_E, net.in_degree_I)),
                            f"a run of N={p.N}, c={p.c} ({run.precision})")
        self.method = METHOD_CODES[run.method]
        self.dt = run.dt
        self.wE, self.oE, self.bE = upload_rows(net.rows_E, p.N_E)
        self.wI, self.oI, self.bI = upload_rows(net.rows_I, p.N_I)
        # u and 1/tau_D of every E neuron, or one value for all (kernels.update)
        self.u = cuda.to_device(np.atleast_1d(np.asarray(net.u_of(p), dtype=np.float64)))
        self.inv_D = cuda.to_device(np.atleast_1d(
            1.0 / np.asarray(net.tau_D_of(p), dtype=np.float64)))
        dim, dt_ = p.dim, self.dtype
        self.buf = [cuda.to_device(state.y.astype(dt_)), cuda.device_array(dim, dtype=dt_)]
        self.cur = 0
        self.tmp = cuda.device_array(dim, dtype=dt_)
        self.acc = cuda.device_array(dim, dtype=dt_)
        # rates with a trailing zero slot: the padding index of every packed row
        self.nu_E = cuda.to_device(np.zeros(p.N_E + 1, dtype=dt_))
        self.nu_I = cuda.to_device(np.zeros(p.N_I + 1, dtype=dt_))
        self.s_E = cuda.to_device(np.zeros(p.N_E + 1, dtype=dt_))
        self.flag = cuda.to_device(np.array([-1], dtype=np.int64))
        self.stats = {k: cuda.to_device(np.ascontiguousarray(getattr(state, k)))
                      for k in STAT_KEYS}
        self.partial = cuda.device_array((min(p.N, K.RECORD_THREADS), 5), dtype=np.float64)
        self.scalars = (self.S, p.N, p.N_E, p.transfer_code, p.coupling * p.g_EE,
                        p.coupling * p.g_EI, p.coupling * p.g_IE, p.coupling * p.g_II, p.I0,
                        1.0 / p.tau_E, 1.0 / p.tau_I, self.inv_D, self.u)
        self.set_splits(self.S)
        self._update = K.update[K.blocks(p.N), K.THREADS]
        self._start_rates()

    def set_splits(self, S: int) -> None:
        """S threads per row in the gather (the benchmark compares several; a run keeps the
        one it started with, since S fixes the summation order)."""
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from numba import cuda

        p = self.p
        self.S = int(S)
        self.part = cuda.device_array((2, self.S, p.N), dtype=np.float64)
        self.scalars = (self.S,) + self.scalars[1:]
        # launch configurations made once: a launch is then one call
        self._gather = K.gather[K.blocks(self.S * n_tiles(p.N) * TILE), K.THREADS]

    def _start_rates(self) -> None:
        p = self.p
        K.rates[K.blocks(p.N), K.THREADS](self.buf[self.cur], p.N, p.N_E, p.transfer_code,
                                          self.nu_E, self.nu_I, self.s_E)

    def _stage_of(self, z, y, out, mode: int, c: float, step: int = -1) -> None:
        """One RK stage: the gather from the rates of z, then the update (module doc)."""
        p = self.p
        self._gather(self.wE, self.oE, self.bE, self.wI, self.oI, self.bI, p.N, p.N_E, self.S,
                     self.nu_E, self.nu_I, self.s_E, self.part, self.flag)
        self._update(z, y, out, self.acc, mode, c, self.part, *self.scalars, self.nu_E,
                     self.nu_I, self.s_E, self.flag, step)

    def advance(self, state, n: int) -> int:
        """n steps; -1, or the index (within this call) of the first step whose result is
        not finite: the state is then the one that step started from."""
        dt, cur0 = self.dt, self.cur
        half, sixth = 0.5 * dt, dt / 6.0
        for s in range(n):
            y, nxt = self.buf[(cur0 + s) % 2], self.buf[(cur0 + s + 1) % 2]
            if self.method == 1:
                self._stage_of(y, y, nxt, 0, dt, s)
            else:
                t = self.tmp
                self._stage_of(y, y, t, 0, half)
                self._stage_of(t, y, t, 1, half)
                self._stage_of(t, y, t, 1, dt)
                self._stage_of(t, y, nxt, 2, sixth, s)
        bad = int(self.flag.copy_to_host()[0])  # waits for the launches
        if bad < 0:
            self.cur = (cur0 + n) % 2
            return -1
        self.cur = (cur0 + bad) % 2  # the state the failing step started from
        self.flag.copy_to_device(np.array([-1], dtype=np.int64))
        self._start_rates()
        return bad

    def sample(self, state, rec_E: np.ndarray, rec_I: np.ndarray, count: int):
        """(population means, h, nu, x of the recorded neurons rec_E, rec_I) of the current
        state; with count > 0 the per-neuron statistics take it as their count-th sample."""
        p, z = self.p, self.buf[self.cur]
        st = self.stats
        K.record[K.blocks(self.partial.shape[0]), K.THREADS](
            z, p.N, p.N_E, p.transfer_code, count, st["h_mean"], st["h_m2"], st["nu_mean"],
            st["nu_m2"], st["x_mean"], self.partial)
        sums = self.partial.copy_to_host().sum(axis=0)
        pop = (sums[0] / p.N_E, sums[1] / p.N_I, sums[2] / p.N_E, sums[3] / p.N_E,
               sums[4] / p.N_I)

        def get(idx, offset=0):  # state[offset + idx] on the host: one copy of their span
            if idx.size == 0:
                return np.zeros(0)
            lo, hi = offset + int(idx.min()), offset + int(idx.max()) + 1
            return z[lo:hi].copy_to_host().astype(np.float64)[offset + idx - lo]

        h = np.concatenate([get(rec_E), get(rec_I)])
        return pop, h, phi(p.transfer, h), get(rec_E, p.N)

    def sync(self, state, stats: bool = True) -> None:
        """Copy the state (and the statistics) into `state`: checkpoints, results, and
        analyses that need every neuron (Simulator.y)."""
        state.y[:] = self.buf[self.cur].copy_to_host()
        for k in STAT_KEYS if stats else ():
            getattr(state, k)[:] = self.stats[k].copy_to_host()
