"""Fixed-in-degree connectivity, stored as presynaptic index arrays.

Every neuron i draws exactly K_E distinct excitatory and K_I distinct inhibitory
inputs, without replacement and without itself. All weights of a population pair
are equal, so the pattern is all we store: ``pre_E[i]`` holds indices into the E
population (0..N_E-1), ``pre_I[i]`` indices into the I population (0..N_I-1),
each row sorted for memory locality. The index type is the narrowest that fits
(uint16 up to 65536 neurons per population).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from stdnet.model.params import ModelParams
from stdnet.model.seeding import rng

_ROWS_PER_BLOCK = 4096


def index_dtype(n: int):
    """Narrowest unsigned integer type holding indices 0..n-1."""
    if n <= np.iinfo(np.uint16).max + 1:
        return np.uint16
    if n <= np.iinfo(np.uint32).max + 1:
        return np.uint32
    # uint64 index rows would be read as packed uint16 rows (kernels.cpu.packed_rows)
    raise ValueError(f"population size: invalid value {n}; allowed: at most 2**32 neurons")


@njit(cache=True, parallel=True)
def floyd_rows(uniforms, n_pool, k, exclude, out):
    """Floyd's algorithm: a uniform k-subset of the pool minus `exclude[r]` per row.

    `uniforms[r]` supplies the k random numbers of row r; exclude[r] < 0 means no
    exclusion. Rows are independent (parallel, same result for any thread
    count). The subset is marked in a boolean table and read back in increasing
    order by one scan of the table, which replaces a sort (O(n_pool) per row,
    branch-free, about 5x faster than sorting at c = 0.1).
    """
    n_rows = out.shape[0]
    for r in prange(n_rows):
        ex = exclude[r]
        n = n_pool - 1 if ex >= 0 else n_pool  # choose from the pool without `ex`
        mark = np.zeros(n + 1, dtype=np.uint8)
        for slot in range(k):
            j = n - k + slot
            t = int(uniforms[r, slot] * (j + 1))
            if t > j:  # guard against u*(j+1) rounding up to j+1
                t = j
            if mark[t]:
                t = j
            mark[t] = 1
        # read the subset back in increasing order; buf has a spare slot for the
        # branch-free write past the last pick
        buf = np.empty(k + 1, dtype=np.int64)
        c = 0
        for j in range(n):
            buf[c] = j
            c += mark[j]
        # map the reduced pool back to real indices (skip the excluded one)
        shift_from = ex if ex >= 0 else n
        for q in range(k):
            v = buf[q]
            out[r, q] = v + 1 if v >= shift_from else v


def _draw(gen, N, n_pool, k, pool_offset, dtype):
    """For every neuron 0..N-1, k distinct inputs from a pool [pool_offset, pool_offset+n_pool)."""
    out = np.empty((N, k), dtype=dtype)
    block = np.empty((min(N, _ROWS_PER_BLOCK), k))  # reused: no page faults per block
    for start in range(0, N, _ROWS_PER_BLOCK):
        stop = min(N, start + _ROWS_PER_BLOCK)
        rows = np.arange(start, stop)
        local = rows - pool_offset
        exclude = np.where((local >= 0) & (local < n_pool), local, -1).astype(np.int64)
        uniforms = block[: stop - start]
        gen.random(out=uniforms)  # the same stream as gen.random((rows, k))
        floyd_rows(uniforms, n_pool, k, exclude, out[start:stop])
    return out


@dataclass(frozen=True)
class Network:
    """One realization of the fixed-in-degree connectivity."""

    pre_E: np.ndarray  # (N, K_E) indices into the E population
    pre_I: np.ndarray  # (N, K_I) indices into the I population
    N_E: int
    N_I: int
    seed: int

    @property
    def N(self) -> int:
        return self.N_E + self.N_I

    @property
    def K_E(self) -> int:
        return self.pre_E.shape[1]

    @property
    def K_I(self) -> int:
        return self.pre_I.shape[1]

    @property
    def nbytes(self) -> int:
        return self.pre_E.nbytes + self.pre_I.nbytes

    def adjacency(self) -> "scipy.sparse.csr_matrix":  # noqa: F821
        """The N x N 0/1 adjacency a_ij (row i receives from column j), as scipy CSR."""
        N = self.N
        rows = np.repeat(np.arange(N), self.K_E + self.K_I)
        cols = np.concatenate(
            [self.pre_E.astype(np.int64), self.pre_I.astype(np.int64) + self.N_E], axis=1
        ).ravel()
        return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(N, N))


def build_network(params: ModelParams, seed: int) -> Network:
    """Draw the connectivity of realization `seed` (its own random stream)."""
    gen = rng(seed, "network")
    N, N_E, N_I = params.N, params.N_E, params.N_I
    pre_E = _draw(gen, N, N_E, params.K_E, 0, index_dtype(N_E))
    pre_I = _draw(gen, N, N_I, params.K_I, N_E, index_dtype(N_I))
    return Network(pre_E=pre_E, pre_I=pre_I, N_E=N_E, N_I=N_I, seed=int(seed))
