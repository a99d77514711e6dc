"""Confidence intervals of means: of independent values, and of a correlated time series.

* `sample_mean`: n, mean, sd, standard error and t-interval of independent values (one per
  realization); `fill_single_realization_se` gives a standard error to the sizes that have
  only one realization.
* `block_ci`: a fixed number of contiguous blocks, t-interval of their means.
* `batch_means_ci`: batches sized by the integrated autocorrelation time
  (stats.correlation_times), the interval used for time averages.

Batch means. The mean of n correlated samples has variance sigma^2 tau_int / n. The series
is cut into B = n // b contiguous batches of

    b = max(ceil(K_BATCH tau_int'), ceil(n / MAX_BATCHES)),
    K_BATCH = 10,  tau_int' = max(tau_int, 1),  MAX_BATCHES = 30,

samples (the remainder, fewer than b samples, is dropped at the start, where a run
is closest to its transient) and the half width is t_{(1+c)/2, B-1} sd(batch
means) / sqrt(B). An anti-correlated or telescoping series (tau_int < 1) still gets
batches of 10 samples, which only makes its interval conservative. Why
K_BATCH = 10 (= 2c, c = SOKAL_C the window constant of tau_int):

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
from scipy import stats

from stdnet.stats.correlation_times import SOKAL_C, integrated_autocorrelation_time

K_BATCH = 10.0  # batch length in units of tau_int
MIN_BATCHES = 5  # fewer batches: half width inf (undecidable from these data)
MAX_BATCHES = 30  # more data: longer batches, not more of them


def sample_mean(values, level: float = 0.95) -> dict:
    """n, mean, sd (ddof 1), standard error and `level` t-interval (lo, hi) of the mean of
    independent values; NaN where n is too small (mean: n = 0, the rest: n < 2)."""
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "se": se, "lo": mean - half, "hi": mean + half}


def fill_single_realization_se(per, within=None):
    """Standard errors for the sizes measured in one realization only.

    per: a table with columns n (realizations), mean, se (across realizations, nan
    where n = 1); within: optional per-row within-run standard errors. For n = 1 the
    se becomes max(within, r |mean|), where r is the median relative spread sd/|mean|
    of the sizes with n >= 2: it assumes the realization-to-realization spread does
    not grow relative to the mean with N, which is conservative for a self-averaging
    quantity. Adds a column se_source ("seeds", "pooled" or "none")."""
    per = per.copy()
    multi = per[(per.n >= 2) & np.isfinite(per.se) & (per["mean"] != 0)]
    r = float(np.median(multi.se * np.sqrt(multi.n) / np.abs(multi["mean"]))) if len(multi) \
        else math.nan
    w = np.zeros(len(per)) if within is None else np.nan_to_num(np.asarray(within, float))
    single = (per.n == 1).to_numpy()
    pooled = r * np.abs(per["mean"].to_numpy(float))
    fill = np.where(np.isfinite(pooled), np.maximum(pooled, w), np.where(w > 0, w, np.nan))
    per.loc[single, "se"] = fill[single]
    per["se_source"] = np.where(single, np.where(np.isfinite(fill), "pooled", "none"), "seeds")
    return per


def block_ci(series: np.ndarray, n_blocks: int, confidence: float = 0.95):
    """Mean of `series` (n, ...) along axis 0 and a CI half width from block means.

    Blocks are contiguous, equal-sized (a remainder at the start is left out of
    the CI only); the half width is t_{(1+c)/2, B-1} sd(block means) / sqrt(B).
    Needs at least 2 blocks of at least one sample; otherwise the half width is inf.
    """
    series = np.asarray(series, dtype=float)
    mean = series.mean(axis=0)
    n = series.shape[0]
    B = min(int(n_blocks), n)
    if B < 2:
        return mean, np.full(np.shape(mean), np.inf)
    size = n // B
    blocks = series[n - B * size:].reshape(B, size, *series.shape[1:]).mean(axis=1)
    sd = blocks.std(axis=0, ddof=1)
    half = stats.t.ppf(0.5 + confidence / 2, B - 1) * sd / math.sqrt(B)
    return mean, half


class BatchMeansCI(NamedTuple):
    """Mean, CI half width and diagnostics; scalars for a 1-D series, (m,) arrays for 2-D."""

    mean: float | np.ndarray
    half_width: float | np.ndarray
    tau_int: float | np.ndarray  # integrated autocorrelation time (samples)
    batch_length: int | np.ndarray  # b (samples); 0 where tau_int could not be estimated
    n_batches: int | np.ndarray  # B = n // b; below min_batches the half width is inf
    reliable: bool | np.ndarray  # n >= MIN_LENGTH max(tau_int, 1)


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
