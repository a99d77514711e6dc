"""Connectivity, stored as presynaptic index rows.

Every neuron i draws its K_iE distinct excitatory and K_iI distinct inhibitory inputs
uniformly, without replacement and without itself; the in-degrees come from the model's
ensemble (stdnet.model.ensembles: exactly K_E and K_I for the paper's fixed in-degree).
All weights of a population pair are equal, so the pattern is all we store: the row of
neuron i holds indices into the E population (0..N_E-1), or into the I population
(0..N_I-1), sorted for memory locality. The index type is the narrowest that fits
(uint16 up to 65536 neurons per population).

Fixed in-degree: ``pre_E`` is an (N, K_E) array. Variable in-degree: ``pre_E`` is the
flat concatenation of the rows and ``ptr_E`` (N + 1) their bounds, row i being
pre_E[ptr_E[i]:ptr_E[i+1]] (compressed sparse rows). `rows_E` gives the kernels either
form (stdnet.kernels.rows reads both).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from stdnet.model.ensembles import in_degrees, std_parameters
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
def floyd_rows(uniforms, ptr, n_pool, exclude, out):
    """Floyd's algorithm: a uniform k_r-subset of the pool minus `exclude[r]` per row.

    Row r is out[ptr[r]:ptr[r+1]] (k_r = ptr[r+1] - ptr[r] entries), drawn from the
    random numbers uniforms[ptr[r]:ptr[r+1]]; exclude[r] < 0 means no exclusion.
    Rows are independent (parallel, same result for any thread count). The subset is marked in a boolean table and read back in increasing
    order by one scan of the table, which replaces a sort (O(n_pool) per row,
    branch-free, about 5x faster than sorting at c = 0.1).
    """
    n_rows = ptr.shape[0] - 1
    for r in prange(n_rows):
        base = ptr[r]
        k = ptr[r + 1] - base
        ex = exclude[r]
        n = n_pool - 1 if ex >= 0 else n_pool  # choose from the pool without `ex`
        mark = np.zeros(n + 1, dtype=np.uint8)
        for slot in range(k):
            j = n - k + slot
            t = int(uniforms[base + slot] * (j + 1))
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
            out[base + q] = v + 1 if v >= shift_from else v


def _draw(gen, ptr, n_pool, pool_offset, dtype):
    """Row i (0..N-1) of ptr.size - 1 rows: ptr[i+1] - ptr[i] distinct inputs from the pool
    [pool_offset, pool_offset + n_pool), never i itself. Returns the flat rows."""
    N = ptr.size - 1
    out = np.empty(int(ptr[-1]), dtype=dtype)
    widest = max(int(ptr[min(N, s + _ROWS_PER_BLOCK)] - ptr[s])
                 for s in range(0, N, _ROWS_PER_BLOCK)) if N else 0
    block = np.empty(widest)  # reused: no page faults per block
    for start in range(0, N, _ROWS_PER_BLOCK):
        stop = min(N, start + _ROWS_PER_BLOCK)
        rows = np.arange(start, stop)
        local = rows - pool_offset
        exclude = np.where((local >= 0) & (local < n_pool), local, -1).astype(np.int64)
        lo, hi = int(ptr[start]), int(ptr[stop])
        uniforms = block[: hi - lo]
        gen.random(out=uniforms)  # the same stream as gen.random((rows, k)) for fixed k
        floyd_rows(uniforms, ptr[start:stop + 1] - lo, n_pool, exclude, out[lo:hi])
    return out


def row_bounds(degrees: np.ndarray) -> np.ndarray:
    """ptr of rows with the given lengths: row i spans ptr[i]:ptr[i+1]."""
    ptr = np.zeros(degrees.size + 1, dtype=np.int64)
    np.cumsum(degrees, out=ptr[1:])
    return ptr


@dataclass(frozen=True)
class Network:
    """One realization of the connectivity, with the STD parameters of its E neurons
    where they differ between neurons."""

    pre_E: np.ndarray  # (N, K_E) indices into the E population, or flat rows (ptr_E)
    pre_I: np.ndarray  # (N, K_I) indices into the I population, or flat rows (ptr_I)
    N_E: int
    N_I: int
    seed: int
    ptr_E: np.ndarray | None = None  # (N + 1) row bounds of variable in-degrees
    ptr_I: np.ndarray | None = None
    u_E: np.ndarray | None = None  # (N_E) u_j, where it differs between neurons
    tau_D_E: np.ndarray | None = None  # (N_E) tau_D,j, where it differs between neurons

    @property
    def N(self) -> int:
        return self.N_E + self.N_I

    @property
    def fixed_indegree(self) -> bool:
        return self.ptr_E is None

    @property
    def homogeneous(self) -> bool:
        """Fixed in-degree and the same STD parameters for every neuron (the paper's)."""
        return self.fixed_indegree and self.u_E is None and self.tau_D_E is None

    def require_homogeneous(self, what: str) -> None:
        """Refuse a heterogeneous network in code that assumes the paper's."""
        if not self.homogeneous:
            raise ValueError(
                f"connectivity: {what} supports only fixed in-degree with one u and tau_D "
                "for all neurons; allowed: model.connectivity fixed_indegree with u_cv and "
                "tau_D_cv 0 (docs/heterogeneity.md lists what takes heterogeneous networks)")

    @property
    def K_E(self) -> int:
        """Excitatory inputs of every neuron (fixed in-degree only: see in_degree_E)."""
        self.require_homogeneous("K_E (one in-degree for all neurons)")
        return self.pre_E.shape[1]

    @property
    def K_I(self) -> int:
        self.require_homogeneous("K_I (one in-degree for all neurons)")
        return self.pre_I.shape[1]

    @property
    def in_degree_E(self) -> np.ndarray:
        """K_iE of every neuron."""
        if self.fixed_indegree:
            return np.full(self.N, self.pre_E.shape[1], dtype=np.int64)
        return np.diff(self.ptr_E)

    @property
    def in_degree_I(self) -> np.ndarray:
        if self.fixed_indegree:
            return np.full(self.N, self.pre_I.shape[1], dtype=np.int64)
        return np.diff(self.ptr_I)

    @property
    def rows_E(self):
        """The E rows as the kernels take them: the (N, K_E) array, or (flat, ptr)."""
        return self.pre_E if self.fixed_indegree else (self.pre_E, self.ptr_E)

    @property
    def rows_I(self):
        return self.pre_I if self.fixed_indegree else (self.pre_I, self.ptr_I)

    def u_of(self, params: ModelParams):
        """u for the kernels: the model's scalar, or one value per E neuron."""
        return params.u if self.u_E is None else self.u_E

    def tau_D_of(self, params: ModelParams):
        return params.tau_D if self.tau_D_E is None else self.tau_D_E

    @property
    def nbytes(self) -> int:
        extra = [a for a in (self.ptr_E, self.ptr_I, self.u_E, self.tau_D_E) if a is not None]
        return self.pre_E.nbytes + self.pre_I.nbytes + sum(a.nbytes for a in extra)

    def adjacency(self) -> "scipy.sparse.csr_matrix":  # noqa: F821
        """The N x N 0/1 adjacency a_ij (row i receives from column j), as scipy CSR."""
        N = self.N
        deg_E, deg_I = self.in_degree_E, self.in_degree_I
        rows = np.concatenate([np.repeat(np.arange(N), deg_E), np.repeat(np.arange(N), deg_I)])
        cols = np.concatenate([self.pre_E.astype(np.int64).ravel(),
                               self.pre_I.astype(np.int64).ravel() + self.N_E])
        return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(N, N))


def realization_in_degrees(params: ModelParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(K_iE, K_iI) of realization `seed`, as build_network draws them, without drawing the
    rows (cheap: what memory estimates of variable rows need, e.g. the GPU's tile widths)."""
    return in_degrees(params, rng(seed, "indegree"))


def build_network(params: ModelParams, seed: int) -> Network:
    """Draw the connectivity of realization `seed` (its own random streams: the rows from
    "network", variable in-degrees from "indegree", STD parameters from "std_parameters")."""
    gen = rng(seed, "network")
    N, N_E, N_I = params.N, params.N_E, params.N_I
    if params.connectivity == "fixed_indegree":
        pre_E = _draw(gen, row_bounds(np.full(N, params.K_E)), N_E, 0, index_dtype(N_E))
        pre_I = _draw(gen, row_bounds(np.full(N, params.K_I)), N_I, N_E, index_dtype(N_I))
        ptr_E = ptr_I = None
        pre_E, pre_I = pre_E.reshape(N, params.K_E), pre_I.reshape(N, params.K_I)
    else:
        deg_E, deg_I = realization_in_degrees(params, seed)
        ptr_E, ptr_I = row_bounds(deg_E), row_bounds(deg_I)
        pre_E = _draw(gen, ptr_E, N_E, 0, index_dtype(N_E))
        pre_I = _draw(gen, ptr_I, N_I, N_E, index_dtype(N_I))
    u_E, tau_D_E = std_parameters(params, rng(seed, "std_parameters"))
    return Network(pre_E=pre_E, pre_I=pre_I, N_E=N_E, N_I=N_I, seed=int(seed), ptr_E=ptr_E,
                   ptr_I=ptr_I, u_E=u_E, tau_D_E=tau_D_E)
