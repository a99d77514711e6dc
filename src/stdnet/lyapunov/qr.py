"""Householder QR of a tangent block, the re-orthonormalisation step of stdnet.lyapunov.spectrum.

`reorthonormalise` replaces a (dim, m) block by its orthonormal QR factor with
diag(R) > 0 and returns log|R_kk|, the log growth of each column since the last
call after removing its components along the earlier columns: the local Lyapunov
exponents of one QR interval, times its length. Householder reflections, single
threaded and deterministic (the same bits on every machine and thread count), so a
run and its checkpointed continuation agree to the byte. `random_basis` draws the
starting block.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _reflect(Q, j, V, k, vnorm2):
    """Column j of Q <- H_k Q[:, j], H_k = I - 2 v v^T / |v|^2 with v = V[k:, k]."""
    n = Q.shape[0]
    dot = 0.0
    for i in range(k, n):
        dot += V[i, k] * Q[i, j]
    f = 2.0 * dot / vnorm2
    for i in range(k, n):
        Q[i, j] -= f * V[i, k]


@njit(cache=True)
def _householder_qr(Q, V, logr):
    """Q (n, m) <- its orthonormal QR factor with diag(R) > 0; logr <- log|R_kk|.

    Householder reflections (stable even for nearly parallel columns), single
    threaded and deterministic; V (n, m) is scratch for the reflectors. Cost
    about 4 n m^2 flops, negligible next to the tangent steps between two calls.
    """
    n, m = Q.shape
    for k in range(m):
        norm2 = 0.0
        for i in range(k, n):
            norm2 += Q[i, k] * Q[i, k]
        norm = math.sqrt(norm2)
        alpha = -norm if Q[k, k] >= 0.0 else norm  # R_kk; sign avoids cancellation
        for i in range(k):
            V[i, k] = 0.0
        for i in range(k, n):
            V[i, k] = Q[i, k]
        V[k, k] -= alpha
        vnorm2 = norm2 - Q[k, k] * Q[k, k] + V[k, k] * V[k, k]
        logr[k] = math.log(norm) if norm > 0.0 else -np.inf
        if vnorm2 > 0.0:
            for j in range(k + 1, m):
                _reflect(Q, j, V, k, vnorm2)
        V[k, k] = V[k, k] if vnorm2 > 0.0 else 0.0
        Q[k, k] = alpha  # remember the sign of R_kk
    signs = np.empty(m)
    for k in range(m):
        signs[k] = -1.0 if Q[k, k] < 0.0 else 1.0
    # Q = H_0 H_1 ... H_{m-1} I[:, :m], applied from the last reflector back
    for i in range(n):
        for j in range(m):
            Q[i, j] = 1.0 if i == j else 0.0
    for k in range(m - 1, -1, -1):
        vnorm2 = 0.0
        for i in range(k, n):
            vnorm2 += V[i, k] * V[i, k]
        if vnorm2 == 0.0:
            continue
        for j in range(k, m):
            _reflect(Q, j, V, k, vnorm2)
    # flip columns so that diag(R) > 0: orientations stay continuous between calls
    for i in range(n):
        for j in range(m):
            Q[i, j] *= signs[j]


def reorthonormalise(Q: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """Replace Q (C-contiguous float64 (n, m), n >= m) by its orthonormal QR factor.

    The signs are chosen so that diag(R) > 0. Returns log|R_kk|: the log growth of
    column k since the last call, after removing its components along columns < k.
    """
    if scratch is None or scratch.shape != Q.shape:
        scratch = np.empty_like(Q)
    logr = np.empty(Q.shape[1])
    _householder_qr(Q, scratch, logr)
    return logr


def random_basis(dim: int, m: int, gen: np.random.Generator) -> np.ndarray:
    """m random orthonormal columns (C-contiguous (dim, m)).

    Drawn column by column, so the first k columns (and hence lambda_1..lambda_k)
    do not depend on how many exponents are asked for.
    """
    Q = np.ascontiguousarray(gen.standard_normal((m, dim)).T)
    reorthonormalise(Q)
    return Q
