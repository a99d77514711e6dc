"""Validation of the J_ch estimator on synthetic lambda(J0) curves with a known onset.

`synthetic_study` runs the real bisection (stdnet.onset.search.serial_search) with a
synthetic judge that mimics onset_lyapunov (segments of t_average, batch means with
tau_int, extensions while undecided) and reports the bias and coverage of
stdnet.onset.estimate.crossing_estimate per scenario (tools/onset_calibration.py;
docs/onset.md); `estimator_errors` feeds the width study's power calibration.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stdnet.lyapunov.decision import chaos_decision
from stdnet.onset.estimate import CROSSING, t_quantile
from stdnet.onset.search import Probe, serial_search
from stdnet.stats.intervals import K_BATCH, MAX_BATCHES, MIN_BATCHES


@dataclass(frozen=True)
class Scenario:
    """A synthetic lambda(J0) curve family and its noise (see `synthetic_lambda`).

    Above the onset: lambda = slope x / (1 + x / x_sat) (x_sat = inf: linear; finite:
    concave, the slope halves by x = 0.41 x_sat). Below: "fp", a fixed point with
    lambda = -0.01 - 0.5 (J_c - J0) (floored at -0.1); "band", lambda = 0 exactly
    (periodic / torus) within `band` below the onset, a fixed point at -0.05 further down.
    Noise: a run of averaging time T has se = (sigma0 + sigma_slope lambda) / sqrt(T),
    matched to the width study's chaotic runs (se sqrt(T) = 0.11-0.12 at lambda < 0.015,
    0.13-0.28 at 0.05-0.3; the issue's 2500 tau runs: ~0.11), tau_int = tau_chaos for
    chaos (tau_slow extra within ~0.01 of lambda = 0: the slow oscillations near onset),
    28 tau for periodic orbits; batch means as stdnet.stats.intervals (B = n // b,
    b = max(10 tau_int, n / 30), B < 5: envelope fallback).
    """

    name: str
    slope: float = 1.0
    x_sat: float = math.inf
    below: str = "fp"
    band: float = 0.1
    sigma0: float = 0.12
    sigma_slope: float = 0.7
    tau_chaos: float = 3.0
    tau_slow: float = 0.0

    def lam(self, J0: float, Jc: float) -> float:
        x = J0 - Jc
        if x > 0:
            return self.slope * x / (1 + x / self.x_sat)
        if self.below == "band" and x > -self.band:
            return 0.0
        if self.below == "band":
            return -0.05
        return max(-0.01 + 0.5 * x, -0.1)


def concave_x_sat(slope: float, x: float = 0.5, lam: float = 0.19) -> float:
    """x_sat of the concave curve with lambda(J_c + x) = lam: by default lambda = 0.19 at
    J0 = 1.5 (N = 2000, onset near 1.0)."""
    return x / (slope * x / lam - 1)


DEFAULT_SCENARIOS = tuple(
    Scenario(f"{shape} b={b:g} {below}{' slow' if slow else ''}", slope=b,
             x_sat=math.inf if shape == "linear" else concave_x_sat(b), below=below,
             tau_slow=12.0 if slow else 0.0)
    for shape in ("linear", "concave") for b in (0.5, 1.0, 2.0) for below in ("fp", "band")
    for slow in (False, True)) + tuple(
    # stress test: lambda = 0.10 at J0 = 1.4 and a slope ~1 near the onset (N = 1000)
    Scenario(f"strongly concave b=1 {below}", slope=1.0, x_sat=concave_x_sat(1.0, 0.37, 0.10),
             below=below) for below in ("fp", "band"))


def synthetic_judge(sc: Scenario, Jc: float, rng, *, t_average: float = 200.0,
                    max_extensions: int = 4, zero_tol: float = 0.005):
    """judge(J0) -> stdnet.onset.search.Probe mimicking onset_lyapunov on the curve `sc` with
    onset Jc: averages of t_average segments, decision after each, extended (same run:
    the segment means accumulate) while undecided, at most max_extensions times."""
    def judge(J0):
        lam = sc.lam(J0, Jc)
        fixed_point = lam < 0
        sigma = 1e-3 if fixed_point else sc.sigma0 + sc.sigma_slope * lam
        tau = 28.0 if lam == 0 else sc.tau_chaos + sc.tau_slow * math.exp(-lam / 0.01)
        total, n = 0.0, 0
        for ext in range(max_extensions + 1):
            total += lam * t_average + sigma * math.sqrt(t_average) * rng.standard_normal()
            n += 1
            T = n * t_average
            est = total / T
            b = max(math.ceil(K_BATCH * max(tau, 1.0)), math.ceil(T / MAX_BATCHES))
            B = int(T // b)
            if B >= MIN_BATCHES:
                s_hat = sigma / math.sqrt(T) * math.sqrt(rng.chisquare(B - 1) / (B - 1))
                h, env = t_quantile(0.975, B - 1) * s_hat, False
            else:  # envelope of the local exponents: tight for a fixed point, wide else
                h, env = (0.005 if fixed_point else 0.1), True
            decision = chaos_decision(est, h, zero_tol)
            if decision != "undecided":
                break
        return Probe(J0=J0, decision=decision, lambda_max=est, half_width=h, step=0,
                     n_batches=B, t_average=T, ci_envelope=env)

    return judge


def synthetic_study(scenarios=DEFAULT_SCENARIOS, n_searches: int = 200, seed: int = 1, *,
                    grid=(0.7, 0.9, 1.1, 1.4, 2.0), resolution: float = 0.01,
                    onset_range=(0.92, 1.08), t_average: float = 200.0,
                    max_extensions: int = 4, zero_tol: float = 0.005, level: float = 0.95,
                    details: bool = False, **opts):
    """Bias and coverage of the crossing estimate on synthetic searches (module docstring).

    For each scenario, n_searches realizations with the onset uniform in onset_range run
    the real bisection (stdnet.onset.search.serial_search, config/width.yaml's grid, resolution
    and averaging budget) with `synthetic_judge`, then stdnet.onset.search's row. Returns one row
    per scenario: n, n_fallback (searches without a crossing estimate), bias (mean of
    J_ch - J_c), median_error, rmse, coverage (of the `level` interval), mean_ci_width,
    and the old demonstrated midpoint's bias (bias_demonstrated); details=True returns
    the per-search table instead.
    """


    rng = np.random.default_rng(seed)
    rows = []
    for sc in scenarios:
        for i in range(n_searches):
            Jc = float(rng.uniform(*onset_range))
            judge = synthetic_judge(sc, Jc, rng, t_average=t_average,
                                    max_extensions=max_extensions, zero_tol=zero_tol)
            search = serial_search(judge, 1000, i + 1, [judge(j) for j in grid], resolution)
            r = search.row(estimator=CROSSING, level=level, **opts)
            rows.append({"scenario": sc.name, "Jc": Jc, **r})
    per = pd.DataFrame(rows)
    if details:
        return per
    out = []
    for name, g in per.groupby("scenario", sort=False):
        fit = g[g["J_ch_method"] == CROSSING]
        err = fit["J_ch"] - fit["Jc"]
        cover = (fit["J_ch_ci_lo"] <= fit["Jc"]) & (fit["Jc"] <= fit["J_ch_ci_hi"])
        out.append({"scenario": name, "n": len(g), "n_fallback": len(g) - len(fit),
                    "bias": err.mean(), "median_error": err.median(),
                    "rmse": float(np.sqrt((err ** 2).mean())), "coverage": cover.mean(),
                    "mean_ci_width": (fit["J_ch_ci_hi"] - fit["J_ch_ci_lo"]).mean(),
                    "bias_demonstrated": (g["J_ch_demonstrated"] - g["Jc"]).mean()})
    return pd.DataFrame(out)


def estimator_errors(scenarios=DEFAULT_SCENARIOS, n_searches: int = 100, seed: int = 2,
                     **kw) -> "pandas.DataFrame":  # noqa: F821
    """Errors of the J_ch the pipeline reports (J_ch - J_c, crossing estimate or its
    fallback alike) and its J_ch_se, over synthetic searches of `scenarios` (columns
    scenario, error, se): the onset estimator's own noise, to feed into the width
    statistics' end-to-end checks (resampled_jch_noise)."""
    per = synthetic_study(scenarios, n_searches, seed, details=True, **kw)
    return per.assign(error=per["J_ch"] - per["Jc"], se=per["J_ch_se"])[
        ["scenario", "error", "se"]].reset_index(drop=True)


def resampled_jch_noise(errors):
    """A jch_noise callable (rng, N, n) -> (errors, se) for stdnet.transition.width_power that draws
    (error, se) pairs with replacement from estimator_errors' table: every realization of
    a synthetic width study then carries an onset error made by the real bisection and the
    real estimator (on curves of the scenarios mixed in that table)."""
    e = errors["error"].to_numpy(float)
    s = errors["se"].to_numpy(float)
    ok = np.isfinite(e) & np.isfinite(s)
    if not ok.any():
        raise ValueError("resampled_jch_noise: no finite (error, se) pair to draw from")
    e, s = e[ok], s[ok]

    def noise(rng, N, n):
        i = rng.integers(0, len(e), size=n)
        return e[i], s[i]
    return noise
