"""Confidence interval of a time average: batch means sized by the autocorrelation time.

The mean of n correlated samples has variance sigma^2 tau_int / n, where

    tau_int = 1 + 2 sum_{t >= 1} rho(t)        (in samples; 1 for independent samples,
                                                (1 + phi) / (1 - phi) for AR(1))

is the integrated autocorrelation time. It is estimated from the FFT
autocovariance (mean removed, 1/n normalisation) summed up to a window M chosen
self-consistently (Sokal): the smallest M with M >= c tau_int(M), c = 5. For an
exponentially decaying rho the truncation then costs about exp(-2c) of tau_int,
while the statistical error stays about sqrt(2 (2M + 1) / n) of it.

Batch means: the series is cut into B = n // b contiguous batches of

    b = max(ceil(K_BATCH tau_int'), ceil(n / MAX_BATCHES)),
    K_BATCH = 10,  tau_int' = max(tau_int, 1),  MAX_BATCHES = 30,

samples (the remainder, fewer than b samples, is dropped at the start, where a run
is closest to its transient) and the half width is t_{(1+c)/2, B-1} sd(batch
means) / sqrt(B). An anti-correlated or telescoping series (tau_int < 1) still gets
batches of 10 samples, which only makes its interval conservative. Why
K_BATCH = 10 (= 2c):

* neighbouring batch means of an AR(1)-like series are correlated by about
  tau_int / (4 b) = 1/40, and the batch-mean variance underestimates that of the
  grand mean by about tau_int / (2 b) = 5 % (2.5 % in the half width);
* a purely periodic series of period P gives a self-consistent window near P/2
  and hence tau_int ~ P / (2c): b = 2c tau_int spans most of a period (0.6 - 0.9 P
  measured for sinusoids of P = 50 - 280 samples, with or without noise), so the
  batch means average over the oscillation instead of sampling its phases; the
  error of the mean of a periodic series falls like P / n, its interval like
  n^-1/2, so there the interval is conservative (near the onset of chaos the local
  exponents oscillate with periods of up to ~280 tau).

Batches are never shorter than n / 30: beyond ~30 batches the t quantile and the
spread of the half width gain little, while longer batches tighten the interval
of oscillating or telescoping series (the local exponent along the flow: there a
batch mean falls like 1/b, not b^-1/2) without loosening it anywhere else.

With fewer than MIN_BATCHES = 5 batches (n < ~50 tau_int, the usual threshold
below which tau_int itself cannot be estimated) the half width is inf: the data
cannot decide. Five batches (Student t with 4 degrees of freedom) is the fewest
for which the t interval is still of practical width (t_0.975,4 = 2.78).

A 2-D series (n, m) is treated column by column: every column gets its own
tau_int, batch length and number of batches (an exponent's CI should not depend
on how correlated another exponent's local values are).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

SOKAL_C = 5.0  # self-consistent window: M >= SOKAL_C tau_int(M)
K_BATCH = 10.0  # batch length in units of tau_int
MIN_BATCHES = 5  # fewer batches: half width inf (undecidable from these data)
MAX_BATCHES = 30  # more data: longer batches, not more of them
MIN_LENGTH = 50.0  # tau_int is flagged unreliable when n < MIN_LENGTH tau_int


class AutocorrelationTime(NamedTuple):
    """tau_int (samples), the summation window M, and whether n >= MIN_LENGTH tau_int."""

    tau_int: float
    window: int
    reliable: bool


class BatchMeansCI(NamedTuple):
    """Mean, CI half width and diagnostics; scalars for a 1-D series, (m,) arrays for 2-D."""

    mean: float | np.ndarray
    half_width: float | np.ndarray
    tau_int: float | np.ndarray  # integrated autocorrelation time (samples)
    batch_length: int | np.ndarray  # b (samples); 0 where tau_int could not be estimated
    n_batches: int | np.ndarray  # B = n // b; below min_batches the half width is inf
    reliable: bool | np.ndarray  # n >= MIN_LENGTH max(tau_int, 1)


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


def _column_ci(x: np.ndarray, mean: float, t_quantile, k: float, min_batches: int,
               max_batches: int, c: float):
    n = x.size
    tau, _, reliable = integrated_autocorrelation_time(x, c)
    if not math.isfinite(tau):
        return mean, math.inf, tau, 0, 0, False
    b = max(1, math.ceil(k * max(tau, 1.0)), -(-n // max_batches))
    B = n // b
    if B < min_batches:
        return mean, math.inf, tau, b, B, reliable
    means = x[n - B * b:].reshape(B, b).mean(axis=1)
    half = float(t_quantile(B - 1) * means.std(ddof=1) / math.sqrt(B))
    return mean, half, tau, b, B, reliable


def batch_means_ci(series, confidence: float = 0.95, *, k: float = K_BATCH,
                   min_batches: int = MIN_BATCHES, max_batches: int = MAX_BATCHES,
                   c: float = SOKAL_C) -> BatchMeansCI:
    """Mean of `series` along axis 0 with a batch-means CI half width (module docstring).

    series: (n,) or (n, m); each column has its own tau_int, batch length
    b = max(ceil(k max(tau_int, 1)), ceil(n / max_batches)) and B = n // b batches
    (the first n - B b samples are left out of the batches, not of the mean). Half
    width t_{(1+confidence)/2, B-1} sd(batch means) / sqrt(B), or inf when
    B < min_batches.
    """
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence: invalid value {confidence!r}; allowed: a number in (0, 1)")
    if not k > 0:
        raise ValueError(f"k: invalid value {k!r}; allowed: a number > 0")
    if not (isinstance(min_batches, (int, np.integer)) and min_batches >= 2):
        raise ValueError(f"min_batches: invalid value {min_batches!r}; allowed: an integer >= 2")
    if not (isinstance(max_batches, (int, np.integer)) and max_batches >= min_batches):
        raise ValueError(f"max_batches: invalid value {max_batches!r}; allowed: an integer >= "
                         f"min_batches ({min_batches})")
    x = np.asarray(series, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"series: shape {x.shape}; allowed: (n,) or (n, m)")

    def tq(dof):
        return stats.t.ppf(0.5 + confidence / 2, dof)

    mean = x.mean(axis=0) if x.shape[0] else np.full(x.shape[1:], math.nan)
    if x.ndim == 1:
        return BatchMeansCI(*_column_ci(x, float(mean), tq, k, min_batches, max_batches, c))
    cols = [_column_ci(np.ascontiguousarray(x[:, j]), float(mean[j]), tq, k, min_batches,
                       max_batches, c) for j in range(x.shape[1])]
    mean, half, tau, b, B, rel = (np.array(v) for v in zip(*cols)) if cols else (
        np.zeros(0),) * 6
    return BatchMeansCI(mean.astype(float), half.astype(float), tau.astype(float),
                        b.astype(np.int64), B.astype(np.int64), rel.astype(bool))
