"""The index pattern in the layout the CUDA kernels read: 16-bit indices, four to a word,
rows interleaved in tiles of 32 so that a warp's loads are coalesced.

The CPU kernels read each row of `Network.pre_E` / `pre_I` as stored (uint16, or uint32
where a population has more than 65536 neurons). On the GPU the pattern is the whole
memory traffic of a step (2 bytes per synapse against 4.8 TB/s), so every index is kept
at 16 bits, also for populations of up to 2**32 neurons:

- Word w of row i packs entries 4w .. 4w+3 (the low 16 bits of each index, the first in
  the low bits). A row of K entries has W = ceil(K / 4) words; the 4W - K padding
  entries hold the index n_pool, which points at a slot of the rate vectors that is
  always 0: adding it changes no sum, so the kernels need no tail loop.
- Rows are sorted, so the high bits of an index change only at a few positions of a
  row: bound b of row i is the first entry whose index is >= b * 65536, for
  b = 0 .. n_blocks, and bound n_blocks is 4W. Entry k has the index (b << 16) | low
  where bound b <= k < bound b + 1. With n_pool < 65536 there is one block.
- Tiles (ELLPACK, sliced by 32 rows): words[t, w, l] is word w of row 32 t + l and
  bounds[t, b, l] its bound b. The 32 threads of a warp take the 32 rows of a tile and
  read word w of all of them in one 256-byte load. The last tile is padded with rows
  that no thread reads.

Memory: 2 bytes per synapse plus 4 (n_blocks + 1) bytes per row, against 4 per synapse
for uint32 rows (N = 10^6, c = 0.01: 20 GB instead of 40).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

BLOCK_BITS = 16
BLOCK = 1 << BLOCK_BITS
#: rows per tile: one warp
TILE = 32


def n_words(K: int) -> int:
    return (K + 3) // 4


def n_blocks(n_pool: int) -> int:
    """Blocks of 65536 indices needed for 0 .. n_pool (n_pool itself is the zero slot)."""
    return n_pool // BLOCK + 1


def n_tiles(N: int) -> int:
    return (N + TILE - 1) // TILE


def layout_bytes(N: int, K: int, n_pool: int) -> int:
    """Device bytes of one population's packed rows and block bounds."""
    return n_tiles(N) * TILE * (8 * n_words(K) + 4 * (n_blocks(n_pool) + 1))


def row_splits(N: int, words: int, threads: int = 2 ** 18, min_words: int = 32) -> int:
    """Threads per row of the gather kernel (a power of 2, at most 64): enough that
    N x splits threads fill a large GPU (`threads`), few enough that each thread streams
    at least `min_words` words. Depends on N and K only, never on the device, so a run
    gives the same bytes on every GPU (the splits fix the summation order)."""
    want = max(1, -(-threads // max(N, 1)))
    cap = max(1, words // min_words)
    s = 1
    while s < 64 and s < want and 2 * s <= cap:
        s *= 2
    return s


@njit(cache=True, parallel=True)
def _pack(rows, n_pool, low, bounds, bad):
    """Fill low (n, 4W) uint16 and bounds (n, n_blocks + 1) int32 from sorted rows;
    bad[r] = 1 where row r is unsorted or out of range."""
    n, K = rows.shape
    KW = low.shape[1]
    nb = bounds.shape[1] - 1
    for r in prange(n):
        prev = -1
        b = 0
        bounds[r, 0] = 0
        for k in range(KW):
            v = np.int64(rows[r, k]) if k < K else np.int64(n_pool)
            if k < K and (v <= prev or v >= n_pool):
                bad[r] = 1
            prev = v
            hb = v >> BLOCK_BITS
            while b < hb and b < nb:  # entries before k lie in blocks < hb
                b += 1
                bounds[r, b] = k
            low[r, k] = v & (BLOCK - 1)
        while b < nb:
            b += 1
            bounds[r, b] = KW


def pack_rows(rows: np.ndarray, n_pool: int) -> tuple[np.ndarray, np.ndarray]:
    """(words (n, W) uint64, bounds (n, n_blocks + 1) int32) of sorted index rows
    drawn from a pool of n_pool sources (module docstring)."""
    rows = np.ascontiguousarray(rows)
    n, K = rows.shape
    low = np.empty((n, 4 * n_words(K)), dtype=np.uint16)
    bounds = np.empty((n, n_blocks(n_pool) + 1), dtype=np.int32)
    bad = np.zeros(n, dtype=np.uint8)
    _pack(rows, np.int64(n_pool), low, bounds, bad)
    if bad.any():
        raise ValueError(f"index rows: row {int(np.argmax(bad))} is not strictly increasing within "
                         f"0..{n_pool - 1}; allowed: sorted rows of distinct indices "
                         "(stdnet.model.network builds them so)")
    # little-endian: the first of four uint16 lands in the low bits of the word
    words = low.view("<u8") if n else np.empty((0, n_words(K)), dtype=np.uint64)
    return words.astype(np.uint64, copy=False), bounds


def tile_rows(words: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, W) words and (n, nb + 1) bounds as (tiles, W, 32) and (tiles, nb + 1, 32),
    the last tile padded with zero rows (module docstring)."""
    n = words.shape[0]
    pad = n_tiles(n) * TILE - n

    def tiles(a):
        a = np.concatenate([a, np.zeros((pad, a.shape[1]), dtype=a.dtype)]) if pad else a
        return np.ascontiguousarray(a.reshape(-1, TILE, a.shape[1]).transpose(0, 2, 1))

    return tiles(words), tiles(bounds)


def untile(a: np.ndarray, n: int) -> np.ndarray:
    """The (n, columns) rows of a tiled array (the inverse of tile_rows)."""
    return a.transpose(0, 2, 1).reshape(-1, a.shape[1])[:n]


def unpack_rows(words: np.ndarray, bounds: np.ndarray, K: int) -> np.ndarray:
    """The index rows back from the packed layout (the test of pack_rows)."""
    low = np.ascontiguousarray(words).view("<u2").astype(np.int64)
    k = np.arange(low.shape[1])
    high = np.zeros_like(low)
    for b in range(1, bounds.shape[1] - 1):
        high += k[None, :] >= bounds[:, b:b + 1]
    return ((high << BLOCK_BITS) | low)[:, :K]
