"""Stationary Gaussian paths with a prescribed autocovariance (circulant embedding).

A stationary covariance r(k) on n grid points is embedded in a circulant matrix of
size P >= n + L (L: the last lag where r is non-zero), whose eigenvalues are the
real DFT of the wrapped sequence r(0), r(1), ..., r(L), 0, ..., 0, r(L), ..., r(1).
With complex white noise Z (independent N(0,1) real and imaginary parts),
FFT(sqrt(lambda / P) Z) has real and imaginary parts that are two independent
samples with exactly covariance r on the first n points (Dietrich & Newsam 1997),
provided every eigenvalue is >= 0. Slightly negative eigenvalues (from a
truncated or noisy r) are clipped and the clipped mass is reported.

The noise is drawn separately (`draw_noise`) so a caller can keep it frozen and
turn the sampler into a deterministic map of r (used by the DMF iteration).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft


def embedding_size(n_points: int, n_lags: int) -> int:
    """Smallest power of two P with P >= n_points + n_lags (exact embedding)."""
    need = int(n_points) + int(n_lags)
    return 1 << max(need - 1, 1).bit_length()


def embedding_eigenvalues(acf, size: int) -> np.ndarray:
    """Eigenvalues of the circulant of `size` whose first row wraps acf[0..L]."""
    acf = np.asarray(acf, dtype=float)
    L = acf.size - 1
    if acf.ndim != 1 or acf.size < 1:
        raise ValueError(f"acf: need a 1-d array of lags 0..L, got shape {acf.shape}")
    if size < 2 * L + 1:
        raise ValueError(f"size: {size} too small for {L} lags; allowed: >= {2 * L + 1}")
    row = np.zeros(size)
    row[: L + 1] = acf
    if L > 0:
        row[size - L:] = acf[1:][::-1]
    return np.fft.rfft(row).real


@dataclass(frozen=True)
class Spectrum:
    """Clipped embedding eigenvalues, ready for sampling."""

    eig: np.ndarray  # rfft-layout eigenvalues (size // 2 + 1), clipped at 0
    size: int
    clipped_fraction: float  # |sum of negative eigenvalues| / sum |eigenvalues|

    @classmethod
    def from_acf(cls, acf, size: int) -> "Spectrum":
        lam = embedding_eigenvalues(acf, size)
        total = np.abs(lam).sum()
        neg = -lam[lam < 0].sum()
        return cls(np.clip(lam, 0.0, None), int(size), float(neg / total) if total > 0 else 0.0)

    def full(self) -> np.ndarray:
        """All `size` eigenvalues (the rfft layout mirrored)."""
        P = self.size
        out = np.empty(P)
        out[: P // 2 + 1] = self.eig
        out[P // 2 + 1:] = self.eig[1: (P + 1) // 2][::-1]
        return out


def draw_noise(rng: np.random.Generator, n_paths: int, size: int) -> np.ndarray:
    """Complex white noise for ceil(n_paths / 2) FFTs (each gives two paths)."""
    n_pairs = (int(n_paths) + 1) // 2
    return rng.standard_normal((n_pairs, size)) + 1j * rng.standard_normal((n_pairs, size))


def paths_from_noise(spectrum: Spectrum, noise: np.ndarray, n_points: int,
                     n_paths: int) -> np.ndarray:
    """(n_paths, n_points) zero-mean paths with the spectrum's covariance."""
    P = spectrum.size
    if noise.shape[1] != P:
        raise ValueError(f"noise: {noise.shape[1]} columns; allowed: the embedding size {P}")
    if n_points > P:
        raise ValueError(f"n_points: {n_points} > embedding size {P}")
    amp = np.sqrt(spectrum.full() / P)
    y = np.fft.fft(noise * amp, axis=1)[:, :n_points]
    out = np.empty((2 * y.shape[0], n_points))
    out[0::2] = y.real
    out[1::2] = y.imag
    return out[:n_paths]


def sample_paths(acf, n_points: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    """Convenience: `n_paths` independent paths of `n_points` with autocovariance acf."""
    acf = np.asarray(acf, dtype=float)
    size = embedding_size(n_points, acf.size - 1)
    spec = Spectrum.from_acf(acf, size)
    return paths_from_noise(spec, draw_noise(rng, n_paths, size), n_points, n_paths)


def ensemble_autocovariance(paths, n_lags: int, mean=None) -> np.ndarray:
    """Average over paths and time of (y(t) - m)(y(t + k) - m), k = 0..n_lags-1.

    Per path the lagged sums come from one zero-padded FFT; each lag k is
    divided by its number of pairs (n - k), so the estimate is unbiased for a
    known mean. `mean=None` uses 0 (no subtraction).
    """
    y = np.asarray(paths, dtype=float)
    if mean is not None:
        y = y - mean
    n = y.shape[1]
    if n_lags > n:
        raise ValueError(f"n_lags: {n_lags} > path length {n}")
    # padding to n + n_lags - 1 keeps lags < n_lags free of circular wrap-around
    P = next_fast_len(n + n_lags - 1, real=True)
    f = rfft(y, n=P, axis=1)
    power = (f.real ** 2 + f.imag ** 2).sum(axis=0)
    sums = irfft(power, n=P)[:n_lags]
    return sums / (y.shape[0] * (n - np.arange(n_lags)))
