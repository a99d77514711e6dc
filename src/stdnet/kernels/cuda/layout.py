"""The index pattern in the layout the CUDA kernels read: 16-bit indices, four to a word,
rows interleaved in tiles of 32 so that a warp's loads are coalesced.

The CPU kernels read each row of `Network.pre_E` / `pre_I` as stored (uint16, or uint32
where a population has more than 65536 neurons). On the GPU the pattern is the whole
memory traffic of a step (2 bytes per synapse against 4.8 TB/s), so every index is kept
at 16 bits, also for populations of up to 2**32 neurons:

- Word w of row i packs entries 4w .. 4w+3 (the low 16 bits of each index, the first in
  the low bits). A row stored in W words holds 4W entries: its K indices, then 4W - K
  padding entries with the index n_pool, which points at a slot of the rate vectors that
  is always 0: adding it changes no sum, so the kernels need no tail loop.
- Rows are sorted, so the high bits of an index change only at a few positions of a
  row: bound b of row i is the first entry whose index is >= b * 65536, for
  b = 0 .. n_blocks, and bound n_blocks is 4W. Entry k has the index (b << 16) | low
  where bound b <= k < bound b + 1. With n_pool < 65536 there is one block.
- Tiles of 32 rows (sliced ELLPACK): the rows of tile t are all stored in W_t words, the
  longest row's ceil(K / 4), and the tiles lie one after the other: word w of row
  32 t + l is words[off[t] + w, l], with off[t] = W_0 + ... + W_{t-1}, and
  bounds[t, b, l] its bound b. The 32 threads of a warp take the 32 rows of a tile and
  read word w of all of them in one 256-byte load. The last tile is padded with rows
  that no thread reads.

Variable in-degrees (model.connectivity erdos_renyi, indegree_cv) need no other code:
a short row is padded to its tile's width like the tail of a fixed row, and an empty row
is all padding. The width is per tile, not one for the whole population (plain ELLPACK),
because padding costs what indices cost: it is stored, and streamed at every step. Gamma
in-degrees of CV 0.2 (indegree_rho 0.5, seed 1): the longest row is 2.2 times the mean
at N = 10^5, c = 0.1, the longest of 32 rows on average 1.46 times; the pattern takes
2.9 GB with per-tile widths, 4.3 GB with one global width, 2.0 GB for fixed in-degree
(N = 10^6, c = 0.01: 29, 48 and 20 GB). erdos_renyi rows hardly vary (2.06 against 2.11
GB). Fixed in-degree has W_t = ceil(K / 4) for every tile: off[t] = t W, the same
addresses, shares and sums as the (tiles, W, 32) array before variable rows (same bits).

Memory (`layout_bytes`): 2 bytes per synapse (and padding) plus 4 (n_blocks + 1) bytes per
row and 8 per tile, against 4 per synapse for uint32 rows (N = 10^6, c = 0.01: 20 GB
instead of 40).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

BLOCK_BITS = 16
BLOCK = 1 << BLOCK_BITS
#: rows per tile: one warp
TILE = 32


def n_words(K):
    """Words of a row of K entries (K an int or an array of lengths)."""
    return (K + 3) // 4


def n_blocks(n_pool: int) -> int:
    """Blocks of 65536 indices needed for 0 .. n_pool (n_pool itself is the zero slot)."""
    return n_pool // BLOCK + 1


def n_tiles(N: int) -> int:
    return (N + TILE - 1) // TILE


def row_lengths(rows) -> np.ndarray:
    """Entries of every row: rows an (N, K) array or (flat, ptr) (Network.rows_E)."""
    if isinstance(rows, tuple):
        return np.diff(np.asarray(rows[1], dtype=np.int64))
    return np.full(rows.shape[0], rows.shape[1], dtype=np.int64)


def tile_widths(lengths: np.ndarray) -> np.ndarray:
    """W_t of every tile: the words of its longest row (0 for a tile of empty rows)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    n = lengths.size
    padded = np.zeros(n_tiles(n) * TILE, dtype=np.int64)
    padded[:n] = lengths
    return n_words(padded.reshape(-1, TILE).max(axis=1)) if n else np.zeros(0, np.int64)


def tile_offsets(widths: np.ndarray) -> np.ndarray:
    """off (tiles + 1): tile t is words[off[t]:off[t + 1]]."""
    off = np.zeros(len(widths) + 1, dtype=np.int64)
    np.cumsum(widths, out=off[1:])
    return off


def layout_bytes(N: int, K, n_pool: int) -> int:
    """Device bytes of one population's packed rows, tile offsets and block bounds; K is
    the in-degree of every row, or an array of the N in-degrees (variable rows)."""
    if np.ndim(K) == 0:
        words = n_tiles(N) * int(n_words(K))
    else:
        words = int(tile_widths(K).sum())
    return TILE * 8 * words + 8 * (n_tiles(N) + 1) + n_tiles(N) * TILE * 4 * (n_blocks(n_pool) + 1)


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
def _pack(flat, ptr, n_pool, widths, low, bounds, bad):
    """Fill low (n, >= 4 max(widths)) uint16 and bounds (n, n_blocks + 1) int32 from sorted
    rows (row r is flat[ptr[r]:ptr[r + 1]]), row r padded to 4 widths[r] entries (and the
    rest of low with the zero slot too); bad[r] = 1 where row r is unsorted or out of
    range, 2 where it is longer than 4 widths[r]."""
    n = ptr.shape[0] - 1
    nb = bounds.shape[1] - 1
    for r in prange(n):
        base = ptr[r]
        K = ptr[r + 1] - base
        KW = 4 * widths[r]
        if K > KW:
            bad[r] = 2
            continue
        prev = -1
        b = 0
        bounds[r, 0] = 0
        for k in range(KW):
            v = np.int64(flat[base + k]) if k < K else np.int64(n_pool)
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
        for k in range(KW, low.shape[1]):  # beyond the row's width: never read
            low[r, k] = n_pool & (BLOCK - 1)


def pack_rows(rows, n_pool: int, widths=None) -> tuple[np.ndarray, np.ndarray]:
    """(words (n, W) uint64, bounds (n, n_blocks + 1) int32) of sorted index rows drawn
    from a pool of n_pool sources (module docstring); rows an (n, K) array or (flat, ptr).
    Row r is packed into widths[r] words (default: its tile's width, `tile_widths`),
    W = the largest; words beyond a row's width hold the zero slot and are never read."""
    lengths = row_lengths(rows)
    n = lengths.size
    if isinstance(rows, tuple):
        flat, ptr = np.ascontiguousarray(rows[0]), np.asarray(rows[1], dtype=np.int64)
    else:
        flat = np.ascontiguousarray(rows).reshape(-1)
        ptr = np.arange(n + 1, dtype=np.int64) * (rows.shape[1] if rows.ndim == 2 else 0)
    if widths is None:
        widths = np.repeat(tile_widths(lengths), TILE)[:n]
    widths = np.asarray(widths, dtype=np.int64)
    W = int(widths.max()) if n else 0
    low = np.empty((n, 4 * W), dtype=np.uint16)
    bounds = np.empty((n, n_blocks(n_pool) + 1), dtype=np.int32)
    bad = np.zeros(n, dtype=np.uint8)
    _pack(flat, ptr, np.int64(n_pool), widths, low, bounds, bad)
    if bad.any():
        r = int(np.argmax(bad != 0))
        if bad[r] == 2:
            raise ValueError(f"widths: row {r} has {int(lengths[r])} entries, more than its "
                             f"{int(widths[r])} words hold; allowed: at least ceil(K / 4) "
                             "words per row (tile_widths)")
        raise ValueError(f"index rows: row {r} is not strictly increasing within "
                         f"0..{n_pool - 1}; allowed: sorted rows of distinct indices "
                         "(stdnet.model.network builds them so)")
    # little-endian: the first of four uint16 lands in the low bits of the word
    words = low.view("<u8") if n and W else np.empty((n, W), dtype=np.uint64)
    return words.astype(np.uint64, copy=False), bounds


def tile_rows(words: np.ndarray, bounds: np.ndarray, widths=None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(words (sum W_t, 32), off (tiles + 1) int64, bounds (tiles, nb + 1, 32)) from the
    (n, W) words and (n, nb + 1) bounds of pack_rows; widths: W_t of every tile (default W
    for all, fixed in-degree). The last tile is padded with zero rows (module docstring)."""
    n, W = words.shape
    tiles = n_tiles(n)
    widths = np.full(tiles, W, np.int64) if widths is None else np.asarray(widths, np.int64)
    pad = tiles * TILE - n

    def by_tile(a):  # (tiles, columns, 32)
        a = np.concatenate([a, np.zeros((pad, a.shape[1]), dtype=a.dtype)]) if pad else a
        return np.ascontiguousarray(a.reshape(-1, TILE, a.shape[1]).transpose(0, 2, 1))

    off = tile_offsets(widths)
    if (widths == W).all():  # fixed in-degree: one reshape
        return by_tile(words).reshape(-1, TILE), off, by_tile(bounds)
    out = np.empty((int(off[-1]), TILE), dtype=words.dtype)
    w3 = by_tile(words)
    for t in range(tiles):
        out[off[t]:off[t + 1]] = w3[t, :widths[t]]
    return out, off, by_tile(bounds)


def untile(a: np.ndarray, n: int) -> np.ndarray:
    """The (n, columns) rows of a (tiles, columns, 32) array (the bounds of tile_rows)."""
    return a.transpose(0, 2, 1).reshape(-1, a.shape[1])[:n]


def untile_words(words: np.ndarray, off: np.ndarray, n: int, fill: int = 0) -> np.ndarray:
    """The (n, max W_t) words of tiled rows (the inverse of tile_rows), each row's words
    beyond its tile's width set to `fill`."""
    widths = np.diff(off)
    W = int(widths.max()) if widths.size else 0
    out = np.full((len(widths) * TILE, W), fill, dtype=words.dtype)
    for t, w in enumerate(widths):
        out[t * TILE:(t + 1) * TILE, :w] = words[off[t]:off[t + 1]].T
    return out[:n]


def unpack_rows(words: np.ndarray, bounds: np.ndarray, K: int | None = None) -> np.ndarray:
    """The index entries back from the packed layout, the first K of every row (default
    all 4W, padding included): the test of pack_rows."""
    low = np.ascontiguousarray(words).view("<u2").astype(np.int64)
    k = np.arange(low.shape[1])
    high = np.zeros_like(low)
    for b in range(1, bounds.shape[1] - 1):
        high += k[None, :] >= bounds[:, b:b + 1]
    return ((high << BLOCK_BITS) | low)[:, :K]
