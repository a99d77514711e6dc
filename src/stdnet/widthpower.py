"""Power of a finite-size design: would n realizations at sizes N decide between the models of
the transition width (stdnet.widthmodels)?

Synthetic data with today's spread (`spread_model`, from the measured per-N sds) around a
true mean width are fitted by the same machinery as the real data (`power_study`), over
numbers of realizations and sets of sizes (`power_scan`); `power_designs` runs the scan for
the two truths that the measured fits suggest (widths that vanish, widths that level off).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .stats import akaike_weights, chi2_sf
from .widthmodels import BETA_BOUNDS, LEVEL, MODELS, clean_points, fit_row

log = logging.getLogger(__name__)

def spread_model(per_N: pd.DataFrame, sd_model: str = "power", quantity: str = "width"):
    """The per-realization sd of the width as a function of N, from today's per-N sds.

    sd_model 'power': sd = s0 (N / N0)^-s, least squares of log sd on log N over the N with a
    positive sd (the sd is positive, so its log is safe; widths are never logged); with one
    such N, s = 0. 'constant': the pooled sd, sqrt(sum (n-1) sd^2 / sum (n-1)).
    Returns (function N -> sd, dict with sd_model, s, sd_at_N0, N0).
    """
    N = per_N["N"].to_numpy(float)
    sd = per_N[f"{quantity}_sd"].to_numpy(float)
    n = per_N[f"{quantity}_n"].to_numpy(float) if f"{quantity}_n" in per_N else \
        per_N["n"].to_numpy(float)
    ok = np.isfinite(sd) & (sd > 0) & (n > 1)
    if not ok.any():
        raise ValueError("no N with a positive sd of the width: cannot model the spread")
    N0 = float(N[ok].min())
    if sd_model == "constant":
        s0 = float(math.sqrt(((n[ok] - 1) * sd[ok] ** 2).sum() / (n[ok] - 1).sum()))
        s = 0.0
    elif sd_model == "power":
        if ok.sum() >= 2:
            slope, icpt = np.polyfit(np.log(N[ok] / N0), np.log(sd[ok]), 1)
            s, s0 = float(-slope), float(math.exp(icpt))
        else:
            s, s0 = 0.0, float(sd[ok][0])
    else:
        raise ValueError(f"sd_model: {sd_model!r}; allowed: 'power', 'constant'")
    return (lambda NN: s0 * (np.asarray(NN, float) / N0) ** (-s)), \
        {"sd_model": sd_model, "s": s, "sd_at_N0": s0, "N0": N0}


def _true_params(model) -> tuple[float, float, float]:
    def get(key):
        v = model.get(key, 0.0) if isinstance(model, Mapping) or hasattr(model, "get") else 0.0
        v = 0.0 if v is None else float(v)
        return v if np.isfinite(v) else 0.0
    return get("w_inf"), get("a"), get("beta")


def power_study(per_N: pd.DataFrame, N_values, n_realizations: int, model,
                n_sim: int = 500, seed: int = 0, sd_model: str = "power",
                level: float = LEVEL, beta_bounds=BETA_BOUNDS, criterion: str = "aic") -> dict:
    """Synthetic data with today's spread, fitted by the same machinery as the real data.

    per_N: a per_N_table (only N, width_sd and width_n are used; the spread is modelled by
    `spread_model`). model: the true mean width, a mapping with w_inf, a, beta (missing or
    NaN -> 0; a row of fit_models works). Each synthetic data set draws n_realizations
    Gaussian widths at every N in N_values, forms the per-N means and sample SEs and fits
    the constant, power and offset models.

    Returns a dict: N_values, n_realizations, n_sim, true w_inf/a/beta, sd_model, s,
    sd_at_N0, n_ok (offset fits that succeeded), median_halfwidth (median half-width of the
    offset model's Wald interval of w_inf; an interval that cannot be computed counts as
    infinite), q90_halfwidth, frac_undetermined (no interval), coverage (fraction of intervals
    holding the true w_inf), power_lrt (fraction with the LRT of w_inf = 0 significant at
    1 - level), frac_excludes_0 (fraction of intervals that exclude 0), frac_prefers_offset
    (offset model has the largest Akaike weight by `criterion`), median_w_inf.
    """
    rng = np.random.default_rng(seed)
    sd_fun, sd_info = spread_model(per_N, sd_model)
    N_values = np.asarray(sorted(N_values), float)
    w0, a, beta = _true_params(model)
    mean = w0 + a * N_values ** (-beta)
    sd = sd_fun(N_values)
    n = int(n_realizations)
    N_ref = float(math.exp(np.mean(np.log(N_values))))
    half, cover, reject, excl0, pref, west = [], [], [], [], [], []
    n_ok = 0
    for _ in range(n_sim):
        draws = mean[:, None] + sd[:, None] * rng.standard_normal((N_values.size, n))
        y = draws.mean(axis=1)
        se = draws.std(axis=1, ddof=1) / math.sqrt(n)
        N_, y_, se_, _ = clean_points(N_values, y, se, np.zeros_like(se))
        rows = {m: fit_row(N_, y_, se_, m, beta_bounds, level, N_ref) for m in MODELS}
        o, p = rows["offset"], rows["power"]
        if not o["ok"]:
            half.append(math.inf)
            continue
        n_ok += 1
        lo, hi = o["w_inf_lo"], o["w_inf_hi"]
        if np.isfinite(lo) and np.isfinite(hi):
            half.append(0.5 * (hi - lo))
            cover.append(lo <= w0 <= hi)
            excl0.append(lo > 0 or hi < 0)
        else:
            half.append(math.inf)
            cover.append(False)
            excl0.append(False)
        west.append(o["w_inf"])
        if p["ok"] and o["dof"] >= 1:
            stat = max(0.0, p["chi2"] - o["chi2"])
            reject.append(chi2_sf(stat, 1) < 1 - level)
        else:
            reject.append(False)
        fr = akaike_weights(pd.DataFrame([rows[m] for m in MODELS]))
        crit = criterion if criterion == "aic" or np.isfinite(fr["aicc"]).all() else "aic"
        pref.append(fr.loc[fr["weight_" + crit].idxmax(), "model"] == "offset")
    half = np.asarray(half, float)
    mean_or_nan = lambda v: float(np.mean(v)) if len(v) else math.nan  # noqa: E731
    return {"N_values": tuple(int(v) for v in N_values), "n_N": int(N_values.size),
            "n_realizations": n, "n_sim": int(n_sim), "w_inf_true": w0, "a_true": a,
            "beta_true": beta, **sd_info, "n_ok": n_ok,
            "median_halfwidth": float(np.median(half)) if half.size else math.nan,
            "q90_halfwidth": float(np.percentile(half, 90)) if half.size else math.nan,
            "frac_undetermined": float(np.mean(~np.isfinite(half))) if half.size else math.nan,
            "coverage": mean_or_nan(cover), "power_lrt": mean_or_nan(reject),
            "frac_excludes_0": mean_or_nan(excl0), "frac_prefers_offset": mean_or_nan(pref),
            "median_w_inf": float(np.median(west)) if west else math.nan}


def doubling(N_min: int, N_max: int) -> list[int]:
    """N_min, 2 N_min, 4 N_min, ... up to N_max."""
    out = [int(N_min)]
    while out[-1] * 2 <= N_max:
        out.append(out[-1] * 2)
    return out


def power_scan(per_N: pd.DataFrame, model, n_realizations=(10, 20, 40, 80), N_sets=None,
               n_sim: int = 500, seed: int = 0, sd_model: str = "power",
               level: float = LEVEL, beta_bounds=BETA_BOUNDS, criterion: str = "aic"
               ) -> pd.DataFrame:
    """`power_study` over numbers of realizations and sets of N, one row per combination.

    N_sets: a mapping name -> list of N, or a list of lists (named 'N_min-N_max'); default
    doubling from 1000 up to 16000, 32000 and 64000. Columns: N_set, those of power_study
    (N_values as a tuple) and realizations_total (= n_N * n_realizations) and
    N_realizations (= sum of N over all realizations: cost grows at least with it).
    """
    if N_sets is None:
        N_sets = [doubling(1000, m) for m in (16000, 32000, 64000)]
    if not isinstance(N_sets, Mapping):
        N_sets = {f"{min(s)}-{max(s)}": list(s) for s in N_sets}
    rows = []
    for i, (name, Ns) in enumerate(N_sets.items()):
        for j, n in enumerate(n_realizations):
            r = power_study(per_N, Ns, n, model, n_sim, seed + 1000 * i + j, sd_model, level,
                            beta_bounds, criterion)
            r["N_set"] = name
            r["realizations_total"] = r["n_N"] * n
            r["N_realizations"] = int(sum(Ns)) * n
            rows.append(r)
    df = pd.DataFrame(rows)
    first = ["N_set", "n_realizations", "median_halfwidth", "q90_halfwidth", "power_lrt",
             "coverage", "frac_excludes_0", "frac_prefers_offset", "frac_undetermined"]
    return df[first + [c for c in df.columns if c not in first]]


def power_designs(per_N: pd.DataFrame, fits: pd.DataFrame, N_max, n_realizations, n_sim: int,
                  seed: int, level: float = LEVEL) -> pd.DataFrame:
    """`power_scan` for two truths taken from the fits of the measured widths: they vanish as
    N -> inf (the pure power law fitted to the data) and they level off (the offset power
    law fitted to the data), each where that fit succeeded. Sizes: doubling from the
    smallest measured N up to each of N_max. One row per truth and design (column truth
    first); no rows (columns truth, N_set, n_realizations) when neither model was fitted.
    """
    N_min = int(per_N["N"].min())
    N_sets = [doubling(N_min, n) for n in N_max]
    by_model = {r["model"]: r for r in fits.to_dict("records") if r["ok"]}
    truths = {name: by_model[m] for name, m in (("w_inf = 0 (power law)", "power"),
                                                ("fitted offset power law", "offset"))
              if m in by_model}
    if not truths:
        log.warning("no power law could be fitted to the widths: no power study")
    rows = []
    for name, model in truths.items():
        table = power_scan(per_N, model, n_realizations, N_sets, n_sim=n_sim, seed=seed,
                           level=level)
        table.insert(0, "truth", name)
        rows.append(table)
        log.info("truth %s: %s", name, table[["N_set", "n_realizations", "median_halfwidth",
                                              "power_lrt"]].to_string(index=False))
    return pd.concat(rows) if rows else pd.DataFrame(columns=["truth", "N_set", "n_realizations"])
