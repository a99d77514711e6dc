"""How long a time series remembers itself: autocorrelation, tau_int, decorrelation time.

* `integrated_autocorrelation_time`: tau_int = 1 + 2 sum_{t >= 1} rho(t) in samples (1 for
  independent samples, (1 + phi) / (1 - phi) for AR(1)), the factor by which correlation
  inflates the variance of a mean (sigma^2 tau_int / n). It is estimated from the FFT
  autocovariance (mean removed, 1/n normalisation) summed up to a window M chosen
  self-consistently (Sokal): the smallest M with M >= c tau_int(M), c = 5. For an
  exponentially decaying rho the truncation then costs about exp(-2c) of tau_int, while
  the statistical error stays about sqrt(2 (2M + 1) / n) of it. It sizes the batches of
  stats.intervals.batch_means_ci.
* `decorrelation_time`: the first lag where an autocovariance falls below 1/e of its value
  at lag 0, the one definition used for DMF and simulation (docs/dmf.md).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

SOKAL_C = 5.0  # self-consistent window: M >= SOKAL_C tau_int(M)
MIN_LENGTH = 50.0  # tau_int is flagged unreliable when n < MIN_LENGTH tau_int


class AutocorrelationTime(NamedTuple):
    """tau_int (samples), the summation window M, and whether n >= MIN_LENGTH tau_int."""

    tau_int: float
    window: int
    reliable: bool


def autocorrelation(series) -> np.ndarray:
    """Normalised autocorrelation rho(0..n-1) of a 1-D series (FFT, mean removed, 1/n)."""
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"series: shape {x.shape}; allowed: a 1-D array")
    n = x.size
    x = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()  # zero padding: no wrap-around
    f = np.fft.rfft(x, size)
    acov = np.fft.irfft(f.real ** 2 + f.imag ** 2, size)[:n]
    if acov[0] <= 0.0:
        return np.r_[1.0, np.zeros(n - 1)]
    return acov / acov[0]


def integrated_autocorrelation_time(series, c: float = SOKAL_C,
                                    min_length: float = MIN_LENGTH) -> AutocorrelationTime:
    """tau_int of a 1-D series (samples) with Sokal's self-consistent window.

    tau_int(M) = 1 + 2 sum_{t=1}^{M} rho(t); the window is the smallest M >= 1 with
    M >= c tau_int(M). `reliable` is False when n < min_length max(tau_int, 1) (then
    tau_int is typically underestimated). A series without fluctuations has
    tau_int = 1 (window 0); one with fewer than 2 samples or non-finite values gives
    NaN, unreliable. An estimate near 0, even below 0 (it is a sum of noisy
    correlations), means a spectral density near 0 at zero frequency: a series of
    differences u_{k+1} - u_k whose sum telescopes, as the local exponent along the
    flow of a bounded orbit (its mean error falls like 1/n, not n^-1/2).
    """
    if not c > 0:
        raise ValueError(f"c: invalid value {c!r}; allowed: a number > 0")
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"series: shape {x.shape}; allowed: a 1-D array")
    n = x.size
    if n < 2 or not np.all(np.isfinite(x)):
        return AutocorrelationTime(math.nan, 0, False)
    if np.all(x == x[0]):
        return AutocorrelationTime(1.0, 0, n >= min_length)
    rho = autocorrelation(x)
    taus = 1.0 + 2.0 * np.cumsum(rho[1:])  # tau_int(M) for M = 1 .. n-1
    ok = np.arange(1, n) >= c * taus
    # always found: with the mean removed, tau_int(n - 1) = 0 exactly (up to rounding)
    M = int(np.argmax(ok)) + 1 if ok.any() else n - 1
    tau = float(taus[M - 1])
    return AutocorrelationTime(tau, M, bool(n >= min_length * max(tau, 1.0)))


def decorrelation_time(lags, acov) -> float:
    """First lag where acov / acov[0] falls below 1/e (linear interpolation); the
    definition used for both DMF and simulation (docs/dmf.md)."""
    acov = np.asarray(acov, dtype=float)
    if not acov[0] > 1e-4:  # no temporal fluctuations (fixed point): variance units of h
        return math.nan
    r = acov / acov[0]
    below = np.nonzero(r < math.exp(-1.0))[0]
    if below.size == 0:
        return math.nan
    k = below[0]
    r0, r1 = r[k - 1], r[k]
    return float(lags[k - 1] + (r0 - math.exp(-1.0)) / (r0 - r1) * (lags[k] - lags[k - 1]))
