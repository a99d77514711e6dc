"""Regime of each run, and the transition per realization: J_FP, J_ch, width, fit vs N.

Classification of one run (thresholds in config section `transition`):

1. chaos            lambda_1 - CI_1 > zero_tol (positive beyond its interval)
2. fixed point      lambda_1 + CI_1 < -zero_tol (all exponents negative), or the
                    inputs do not move (temporal_sd < temporal_sd_tol);
                    homogeneous if the neurons' time-mean inputs agree within a
                    population (spatial_sd < spatial_sd_tol), else heterogeneous
3. quasi-periodic   otherwise, when >= 2 of the m exponents are zero
                    (|lambda_k| <= zero_tol + CI_k)
4. periodic         otherwise (one zero exponent: the direction of the flow)

Per realization (N, seed), over the J0 grid: J_ch is the smallest J0 from which
every larger grid point is chaotic; J_FP is where the homogeneous fixed point is
lost (from the stability stage's table when present, else the first grid J0
that is not a homogeneous fixed point); the width is J_ch - J_FP; the route is
the sequence of regimes crossed. Per N: mean and sd of the width, and the fit
width = A N^-a (least squares in log-log over all realizations) with J_c, the
N -> infinity limit of J_ch = J_c + B N^-a.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOM_FP, HET_FP, PERIODIC, QUASI, CHAOS = ("homogeneous FP", "heterogeneous FP", "periodic",
                                          "quasi-periodic", "chaos")
REGIMES = (HOM_FP, HET_FP, PERIODIC, QUASI, CHAOS)
SHORT = {HOM_FP: "hFP", HET_FP: "xFP", PERIODIC: "P", QUASI: "QP", CHAOS: "C"}


@dataclass(frozen=True)
class Thresholds:
    """Classification thresholds (config section `transition`)."""

    zero_tol: float = 0.005
    temporal_sd_tol: float = 1e-3
    spatial_sd_tol: float = 1e-3

    def __post_init__(self):
        for k in ("zero_tol", "temporal_sd_tol", "spatial_sd_tol"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"transition.{k}: invalid value {v!r}; allowed: a number >= 0")


def classify(exponents, half_width, temporal_sd: float, spatial_sd: float,
             th: Thresholds = Thresholds()) -> str:
    """The regime of one run from its exponents (descending) with CIs and its spreads."""
    lam = np.asarray(exponents, dtype=float)
    ci = np.nan_to_num(np.asarray(half_width, dtype=float), nan=np.inf, posinf=np.inf)
    if lam[0] - ci[0] > th.zero_tol:
        return CHAOS
    if lam[0] + ci[0] < -th.zero_tol or temporal_sd < th.temporal_sd_tol:
        return HOM_FP if spatial_sd < th.spatial_sd_tol else HET_FP
    n_zero = int(np.sum(np.abs(lam) <= th.zero_tol + ci))
    return QUASI if n_zero >= 2 else PERIODIC


def classify_table(runs: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Add a `regime` column to a table with lambda_k / ci_k columns and the spreads."""
    lam_cols = sorted((c for c in runs.columns if c.startswith("lambda_") and c[7:].isdigit()),
                      key=lambda c: int(c[7:]))
    ci_cols = [f"ci_{c[7:]}" for c in lam_cols]
    out = runs.copy()
    out["regime"] = [
        classify(row[lam_cols].to_numpy(float), row[ci_cols].to_numpy(float),
                 row["temporal_sd"], row["spatial_sd"], th)
        for _, row in runs.iterrows()]
    return out


def route(regimes) -> str:
    """The sequence of regimes along increasing J0, repeats collapsed ('hFP > P > C')."""
    seq = []
    for r in regimes:
        if not seq or seq[-1] != r:
            seq.append(r)
    return " > ".join(SHORT.get(r, r) for r in seq)


def chaos_onset(J0, regimes) -> tuple[float, float]:
    """(J_ch, J_below): the smallest grid J0 from which all larger ones are chaotic, and the
    grid point just below it (NaN where there is none). J_ch is NaN when the largest
    J0 is not chaotic."""
    order = np.argsort(J0)
    J = np.asarray(J0, dtype=float)[order]
    reg = [regimes[i] for i in order]
    if not reg or reg[-1] != CHAOS:
        return math.nan, (float(J[-1]) if len(J) else math.nan)
    k = len(reg) - 1
    while k > 0 and reg[k - 1] == CHAOS:
        k -= 1
    return float(J[k]), (float(J[k - 1]) if k > 0 else math.nan)


def fp_loss(J0, regimes) -> float:
    """The first grid J0 that is not a homogeneous fixed point (NaN if all are)."""
    order = np.argsort(J0)
    for i in order:
        if regimes[i] != HOM_FP:
            return float(J0[i])
    return math.nan


def bisect_onset(is_chaotic, lower: float, upper: float, steps: int):
    """Refine the chaos onset in (lower, upper] where is_chaotic(upper) holds.

    is_chaotic(J) runs one new point; returns (upper, lower, list of (J, chaotic)).
    """
    tried = []
    for _ in range(int(steps)):
        mid = 0.5 * (lower + upper)
        ok = bool(is_chaotic(mid))
        tried.append((mid, ok))
        if ok:
            upper = mid
        else:
            lower = mid
    return upper, lower, tried


def transition_table(regimes: pd.DataFrame, jfp: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per realization (N, seed): J_FP (and its source), J_ch, the bracket below, width, route."""
    rows = []
    for (N, seed), g in regimes.groupby(["N", "seed"], sort=True):
        g = g.sort_values("J0")
        J = g["J0"].to_numpy(float)
        reg = list(g["regime"])
        J_ch, J_below = chaos_onset(J, reg)
        source = "regimes"
        J_FP = fp_loss(J, reg)
        if jfp is not None:
            hit = jfp[(jfp["N"] == N) & (jfp["seed"] == seed)]
            if len(hit):
                J_FP = float(hit["J_FP"].iloc[0])
                source = "stability"
        rows.append({"N": int(N), "seed": int(seed), "J_FP": J_FP, "J_FP_source": source,
                     "J_ch": J_ch, "J_ch_lower": J_below, "width": J_ch - J_FP,
                     "route": route(reg), "n_J0": len(J)})
    return pd.DataFrame(rows)


def power_law_fit(N, width) -> dict:
    """width = A N^-a by least squares of log width on log N; a with its standard error.

    Uses every finite positive width; needs >= 2 distinct N (the error needs >= 3
    points). Returns NaNs where the data do not allow a fit.
    """
    N = np.asarray(N, dtype=float)
    w = np.asarray(width, dtype=float)
    ok = np.isfinite(w) & (w > 0) & np.isfinite(N) & (N > 0)
    res = {"a": math.nan, "a_se": math.nan, "A": math.nan, "n_points": int(ok.sum()),
           "n_N": int(np.unique(N[ok]).size)}
    if res["n_N"] < 2:
        return res
    x, yv = np.log(N[ok]), np.log(w[ok])
    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, yv, rcond=None)
    res["a"], res["A"] = float(-coef[1]), float(math.exp(coef[0]))
    dof = len(x) - 2
    if dof > 0:
        resid = yv - X @ coef
        s2 = float(resid @ resid) / dof
        cov = s2 * np.linalg.inv(X.T @ X)
        res["a_se"] = float(math.sqrt(cov[1, 1]))
    return res


def extrapolate(N, J, a: float) -> dict:
    """J(N) = J_inf + B N^-a by least squares (a given); J_inf with its standard error."""
    N = np.asarray(N, dtype=float)
    J = np.asarray(J, dtype=float)
    ok = np.isfinite(J) & np.isfinite(N)
    out = {"J_inf": math.nan, "J_inf_se": math.nan}
    if not math.isfinite(a) or np.unique(N[ok]).size < 2:
        return out
    X = np.column_stack([np.ones(ok.sum()), N[ok] ** (-a)])
    coef, *_ = np.linalg.lstsq(X, J[ok], rcond=None)
    out["J_inf"] = float(coef[0])
    dof = ok.sum() - 2
    if dof > 0:
        resid = J[ok] - X @ coef
        cov = float(resid @ resid) / dof * np.linalg.inv(X.T @ X)
        out["J_inf_se"] = float(math.sqrt(cov[0, 0]))
    return out


def width_summary(trans: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per N: mean, sd and count of the width (and of J_FP, J_ch); plus the fits."""
    per_N = trans.groupby("N").agg(
        width_mean=("width", "mean"), width_sd=("width", "std"), n=("width", "count"),
        J_FP_mean=("J_FP", "mean"), J_ch_mean=("J_ch", "mean"), J_ch_sd=("J_ch", "std"),
    ).reset_index()
    fit = power_law_fit(trans["N"], trans["width"])
    a = fit["a"]
    ext = extrapolate(trans["N"], trans["J_ch"], a)
    fit.update({"J_c": ext["J_inf"], "J_c_se": ext["J_inf_se"]})
    return per_N, fit
