"""Power of a finite-size design: would n realizations at sizes N decide between the models of
the transition width (stdnet.transition.width_models)?

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

from stdnet.stats import akaike_weights
from stdnet.transition.width_models import (
    BETA_BOUNDS,
    LEVEL,
    MODELS,
    claims_w_inf,
    clean_points_df,
    fit_limit,
    fit_models,
    fit_row,
    per_N_table,
)

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
                level: float = LEVEL, beta_bounds=BETA_BOUNDS, criterion: str = "aic",
                n_cal: int = 500) -> dict:
    """Synthetic data with today's spread, fitted by the same machinery as the real data.

    per_N: a per_N_table (only N, width_sd and width_n are used; the spread is modelled by
    `spread_model`). model: the true mean width, a mapping with w_inf, a, beta (missing or
    NaN -> 0; a row of fit_models works). Each synthetic data set draws n_realizations
    Gaussian widths at every N in N_values, forms the per-N means and sample SEs and fits
    the constant, power and offset models with the calibrated intervals and tests of
    transition.width_models.fit_row (n - 1 dof per SE, n_cal calibration draws).

    Returns a dict: N_values, n_realizations, n_sim, true w_inf/a/beta, sd_model, s,
    sd_at_N0, n_ok (offset fits that succeeded), median_halfwidth (median half-width of the
    offset model's calibrated interval of w_inf; an interval that cannot be computed or is
    unbounded counts as infinite), q90_halfwidth, frac_undetermined (no interval),
    coverage (fraction of intervals holding the true w_inf), power_lrt (fraction with the
    calibrated LRT of w_inf = 0 significant at 1 - level), frac_excludes_0 (fraction of
    intervals that exclude 0), frac_prefers_offset (offset model has the largest Akaike
    weight by `criterion`), median_w_inf.
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
        N_, y_, se_, nu_, _ = clean_points_df(N_values, y, se, np.zeros_like(se),
                                              np.full(N_values.size, n))
        rows = {m: fit_row(N_, y_, se_, m, beta_bounds, level, N_ref, nu_, n_cal,
                           seed * 100003 + len(west), lrt_a0=False) for m in MODELS}
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
            reject.append(o["lrt_w0_p"] < 1 - level)
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


# ----------------------------------------------------------------------------- calibration
#: the planned design of the finite-size study: N = 1000 ... 32000, 10 realizations each
PLANNED_DESIGN = {"N": (1000, 2000, 4000, 8000, 16000, 32000), "n": 10}
#: today's measurements (10 realizations; 8 at N = 4000) that shape the synthetic studies:
#: per-realization sd of the width and of J_FP at N = 1000, 2000, 4000, their power-law decay
#: (least squares of log sd on log N: width 0.132, 0.072, 0.037 -> exponent 0.92; J_FP
#: 0.041, 0.028, 0.014 -> 0.77) and the width's pure power-law shape 0.298 (N/1000)^-1
MEASURED = {"width_sd_1000": 0.132, "width_sd_exponent": 0.92, "J_FP_sd_1000": 0.041,
            "J_FP_sd_exponent": 0.77, "width_1000": 0.298, "beta": 1.0, "rho": -0.4}


def bulk_standin(N):
    """A smooth stand-in for the bulk theory's J_FP(N) (default parameters): 0.711 - 0.26
    N^-1/2 + 0.946 N^-1/4, through 0.871, 0.851, 0.830, 0.803 at N = 1e3, 2e3, 4e3, 1e4
    within 0.005 and -> 0.711. Only the synthetic studies use it (the pipeline evaluates the
    bulk theory itself)."""
    N = np.asarray(N, float)
    return 0.711 - 0.26 * N ** -0.5 + 0.946 * N ** -0.25


BULK_STANDIN_LIMIT = 0.711


def synthetic_transition(rng, design=PLANNED_DESIGN, w_inf: float = 0.0,
                         width_1000: float | None = None, beta: float | None = None,
                         delta: float = 0.0, measured: Mapping | None = None,
                         jch_noise=None, bulk=bulk_standin) -> pd.DataFrame:
    """One synthetic transition table (N, seed, J_FP, J_ch, width[, J_ch_se]) like today's.

    Per realization: J_FP = bulk(N) + delta + e_FP, width = w_inf + width_1000 (N/1000)^-beta
    + e_w, (e_FP, e_w) bivariate normal with the measured sds (power laws in N, `MEASURED`)
    and correlation rho; J_ch = J_FP + width, plus the onset estimator's error when
    `jch_noise` is given: a callable (rng, N, n) -> errors (array of n) or (errors, se) --
    the errors are added to J_ch (and the width), se becomes the column J_ch_se.
    design: {"N": sizes, "n": realizations per N (int or one per size)}.
    """
    m = {**MEASURED, **(measured or {})}
    width_1000 = m["width_1000"] if width_1000 is None else width_1000
    beta = m["beta"] if beta is None else beta
    Ns = [int(v) for v in design["N"]]
    ns = design["n"] if np.ndim(design["n"]) else [int(design["n"])] * len(Ns)
    rows = []
    for N, n in zip(Ns, ns):
        sw = m["width_sd_1000"] * (N / 1000) ** -m["width_sd_exponent"]
        sf = m["J_FP_sd_1000"] * (N / 1000) ** -m["J_FP_sd_exponent"]
        z1, z2 = rng.standard_normal((2, n))
        rho = m["rho"]
        e_f = sf * z1
        e_w = sw * (rho * z1 + math.sqrt(1 - rho ** 2) * z2)
        jfp = float(bulk(N)) + delta + e_f
        w = w_inf + width_1000 * (N / 1000) ** -beta + e_w
        jch = jfp + w
        se = None
        if jch_noise is not None:
            out = jch_noise(rng, N, n)
            err, se = out if isinstance(out, tuple) else (out, None)
            jch = jch + np.asarray(err, float)
        d = {"N": N, "seed": np.arange(n), "J_FP": jfp, "J_ch": jch, "width": jch - jfp}
        if se is not None:
            d["J_ch_se"] = np.broadcast_to(np.asarray(se, float), (n,))
        rows.append(pd.DataFrame(d))
    return pd.concat(rows, ignore_index=True)


def gaussian_jch_noise(sd: float):
    """A jch_noise for synthetic_transition: independent N(0, sd^2) errors of J_ch, with
    J_ch_se = sd (a stand-in for the onset estimator's error until its synthetic errors are
    plugged in)."""
    def noise(rng, N, n):
        return sd * rng.standard_normal(n), np.full(n, float(sd))
    return noise


def calibration_study(n_sim: int, seed: int = 0, design=PLANNED_DESIGN, w_inf: float = 0.0,
                      beta: float | None = None, width_1000: float | None = None,
                      delta: float = 0.0, jch_noise=None, measured: Mapping | None = None,
                      level: float = LEVEL, beta_bounds=BETA_BOUNDS, n_cal: int = 1000,
                      jc: bool = True, path: str = "table") -> pd.DataFrame:
    """n_sim synthetic studies (synthetic_transition) analysed as the pipeline does, one row
    per study:

      w_inf, w_inf_lo, w_inf_hi, covers_w_inf, beta_lo, beta_hi, covers_beta, beta_open
      (beta's interval reaches a bound), claim ('>0' / '<0' / '0' / '': claims_w_inf),
      p_lof (calibrated lack-of-fit p of the true model, the offset power law), p_lof_chi2,
      p_w0 (calibrated LRT of w_inf = 0), p_w0_chi2, and with jc: J_c, J_c_lo, J_c_hi,
      covers_J_c (truth bulk limit + delta + w_inf), differs_from_bulk (the bulk limit
      outside J_c's interval).

    path 'table': transition.width.per_N_table, transition.width_models.fit_models (offset) and fit_limit
    (J_ch with the bulk curve), exactly the pipeline's calls, J_ch_se floors included.
    path 'arrays': the same fits (transition.width_models.fit_row) on per-N means and SEs computed with
    numpy (no measurement floors; about 3x faster, for the calibration tests' larger counts).
    Each study's calibration draws are seeded from `seed` and the study index.
    """
    m = {**MEASURED, **(measured or {})}
    beta = m["beta"] if beta is None else beta
    rng = np.random.default_rng(seed)
    truth_jc = BULK_STANDIN_LIMIT + delta + w_inf
    bulk_tab = pd.DataFrame({"N": np.geomspace(min(design["N"]) / 2, max(design["N"]) * 2, 40)})
    bulk_tab["J_FP"] = bulk_standin(bulk_tab["N"])
    Ns = np.asarray(design["N"], float)
    N_ref = float(math.exp(np.mean(np.log(Ns))))
    rows = []
    for i in range(n_sim):
        tr = synthetic_transition(rng, design, w_inf, width_1000, beta, delta, measured,
                                  jch_noise)
        cal_seed = seed * 100003 + i
        if path == "table":
            per_N = per_N_table(tr, level)
            o = fit_models(per_N, "width", ("offset",), level=level, beta_bounds=beta_bounds,
                           n_cal=n_cal, seed=cal_seed, lrt_a0=False).iloc[0]
        else:
            g = tr.groupby("N", sort=True)
            n = g.size().to_numpy(float)
            pts = {}
            for q, v in (("width", tr["width"]),
                         ("jc", tr["J_ch"] - bulk_standin(tr["N"]))):
                gg = v.groupby(tr["N"], sort=True)
                pts[q] = clean_points_df(Ns, gg.mean().to_numpy(float),
                                         gg.std(ddof=1).to_numpy(float) / np.sqrt(n),
                                         np.zeros(Ns.size), n)
            N_, y_, se_, nu_, _ = pts["width"]
            o = fit_row(N_, y_, se_, "offset", beta_bounds, level, N_ref, nu_, n_cal,
                        cal_seed, lrt_a0=False)
        r = {"w_inf": o["w_inf"], "w_inf_lo": o["w_inf_lo"], "w_inf_hi": o["w_inf_hi"],
             "covers_w_inf": bool(o["w_inf_lo"] <= w_inf <= o["w_inf_hi"]),
             "covers_w_inf_wald": bool(o["w_inf_wald_lo"] <= w_inf <= o["w_inf_wald_hi"]),
             "beta": o["beta"], "beta_lo": o["beta_lo"], "beta_hi": o["beta_hi"],
             "covers_beta": bool(o["beta_lo"] <= beta <= o["beta_hi"]),
             "beta_open": bool(o["beta_lo_open"] or o["beta_hi_open"]),
             "claim": claims_w_inf(o), "p_lof": o["p_lack_of_fit"],
             "p_lof_chi2": o["p_lack_of_fit_chi2"], "p_w0": o["lrt_w0_p"],
             "p_w0_chi2": o["lrt_w0_p_chi2"]}
        if jc:
            if path == "table":
                f = fit_limit(per_N, "J_ch", BULK_STANDIN_LIMIT, level=level,
                              beta_bounds=beta_bounds, bulk_curve=bulk_tab, n_cal=n_cal,
                              seed=cal_seed, lrt_a0=False)
                lo, hi = f["J_inf_lo"], f["J_inf_hi"]
                est = f["J_inf"]
            else:
                N_, y_, se_, nu_, _ = pts["jc"]
                f = fit_row(N_, y_, se_, "offset", beta_bounds, level, N_ref, nu_, n_cal,
                            cal_seed, lrt_a0=False)
                lo, hi = (BULK_STANDIN_LIMIT + f["w_inf_lo"], BULK_STANDIN_LIMIT + f["w_inf_hi"])
                est = BULK_STANDIN_LIMIT + f["w_inf"]
            r.update({"J_c": est, "J_c_lo": lo, "J_c_hi": hi,
                      "covers_J_c": bool(lo <= truth_jc <= hi),
                      "differs_from_bulk": not bool(lo <= BULK_STANDIN_LIMIT <= hi)})
        rows.append(r)
    return pd.DataFrame(rows)


def null_claim_rate(design=PLANNED_DESIGN, jch_noise=None, n_sim: int = 400, seed: int = 0,
                    level: float = LEVEL, **kw) -> dict:
    """The end-to-end null check of issue 27: on `design` with w_inf = 0 (today's spreads and
    shape, J_ch errors from `jch_noise` -- a callable (rng, N, n) -> errors or (errors, se),
    e.g. the onset estimator's synthetic errors; gaussian_jch_noise(0.005) as a stand-in),
    the fraction of studies whose verdict claims 'w∞ > 0'. Returns dict: rate, sd (binomial),
    n_sim, claims, and the fraction that claim 'w∞ < 0' (rate_negative). `kw` goes to
    calibration_study (beta, width_1000, delta, measured, n_cal ...)."""
    t = calibration_study(n_sim, seed, design, 0.0, jch_noise=jch_noise, level=level,
                          jc=False, **kw)
    rate = float((t["claim"] == ">0").mean())
    return {"rate": rate, "sd": math.sqrt(max(rate * (1 - rate), 1e-12) / n_sim),
            "n_sim": int(n_sim), "claims": int((t["claim"] == ">0").sum()),
            "rate_negative": float((t["claim"] == "<0").mean())}


def detectable_w_inf(per_N: pd.DataFrame, fits: pd.DataFrame, power: float = 0.8,
                     n_sim: int = 200, seed: int = 0, level: float = LEVEL,
                     beta_bounds=BETA_BOUNDS, n_cal: int = 500) -> dict:
    """The smallest w_inf that the design actually run would have detected ('w∞ > 0' in the
    verdict) with probability `power`.

    Synthetic studies with the measured design (the N values and realizations per N of
    per_N), the measured per-N sds of the width (Gaussian), and the shape of the pure power
    law fitted to the widths (w = w_inf + a N^-beta; the offset fit's a, beta if the power
    law failed), analysed by the calibrated offset fit. The fit and its calibrated interval
    are exactly translation-equivariant in w_inf (adding w to every width shifts the
    estimate and both interval ends by w and changes nothing else), so one set of studies
    at w_inf = 0 gives the whole power curve: P(detect | w) = P(lo_0 > -w), and the answer
    is the `power` quantile of -lo_0 (inf when fewer than that fraction of intervals have a
    finite lower end). Returns dict: w_inf (the detectable offset), power, n_sim, a, beta,
    shape ('power' or 'offset'), N, n, undetermined (why not, '' when determined).
    """
    out = {"w_inf": math.nan, "power": power, "n_sim": int(n_sim), "a": math.nan,
           "beta": math.nan, "shape": "", "N": (), "n": (), "undetermined": ""}
    by = {r["model"]: r for r in fits.to_dict("records") if r["ok"]}
    shape = "power" if "power" in by else "offset" if "offset" in by else ""
    ok = per_N[np.isfinite(per_N["width_sd"]) & (per_N["width_n"] >= 2)]
    if not shape or len(ok) < 4:
        out["undetermined"] = ("fewer than 4 N values with a spread" if len(ok) < 4 else
                               "no power law fitted to the widths")
        return out
    a, beta = float(by[shape]["a"]), float(by[shape]["beta"])
    N = ok["N"].to_numpy(float)
    n = ok["width_n"].to_numpy(int)
    sd = ok["width_sd"].to_numpy(float)
    floor = ok["width_se_floor"].to_numpy(float) if "width_se_floor" in ok else np.zeros(N.size)
    mean = a * N ** (-beta)
    rng = np.random.default_rng(seed)
    N_ref = float(math.exp(np.mean(np.log(N))))
    lo0 = np.empty(n_sim)
    for i in range(n_sim):
        y = np.empty(N.size)
        se = np.empty(N.size)
        for j in range(N.size):
            d = mean[j] + sd[j] * rng.standard_normal(n[j])
            y[j], se[j] = d.mean(), d.std(ddof=1) / math.sqrt(n[j])
        N_, y_, se_, nu_, _ = clean_points_df(N, y, se, np.nan_to_num(floor), n)
        r = fit_row(N_, y_, se_, "offset", beta_bounds, level, N_ref, nu_, n_cal,
                    seed * 100003 + i, lrt_a0=False)
        lo0[i] = r["w_inf_lo"] if r["ok"] else -math.inf
    lo0 = np.where(np.isnan(lo0), -math.inf, lo0)
    need = -lo0
    w = float(np.quantile(need, power)) if np.isfinite(np.sort(need)[
        min(math.ceil(power * n_sim) - 1, n_sim - 1)]) else math.inf
    out.update({"w_inf": w, "a": a, "beta": beta, "shape": shape,
                "N": tuple(int(v) for v in N), "n": tuple(int(v) for v in n)})
    if not np.isfinite(w):
        out["undetermined"] = "the interval of w∞ is unbounded below too often"
    return out


#: the scenarios of docs/width.md's calibration table: (name, keyword arguments of
#: calibration_study); the planned design throughout
CALIBRATION_SCENARIOS = (
    ("w∞ = 0, β = 1 (today's decay)", {"w_inf": 0.0, "beta": 1.0}),
    ("w∞ = 0.02, β = 0.7", {"w_inf": 0.02, "beta": 0.7, "width_1000": 0.28}),
    ("w∞ = 0, β = 1, J_ch noise sd 0.005", {"w_inf": 0.0, "beta": 1.0,
                                            "jch_noise": gaussian_jch_noise(0.005)}),
)


def calibration_table(n_sim: int = 400, seed: int = 0, scenarios=CALIBRATION_SCENARIOS,
                      n_cal: int = 1000) -> pd.DataFrame:
    """One row per scenario (calibration_study on the planned design): coverage of w_inf,
    beta and J_c(∞) by the calibrated intervals; sizes of the calibrated
    lack-of-fit test and LRT of w_inf = 0 (meaningful where w_inf = 0) next to their chi^2
    versions; rate of 'w∞ > 0' claims and of 'J_c(∞) differs from bulk'; fraction of beta
    intervals that reach a bound; binomial sd of a 95 % coverage over n_sim."""
    rows = []
    for i, (name, kw) in enumerate(scenarios):
        t = calibration_study(n_sim, seed + i, n_cal=n_cal, **kw)
        rows.append({"scenario": name, "n_sim": n_sim,
                     "cover_w_inf": t["covers_w_inf"].mean(),
                     "cover_beta": t["covers_beta"].mean(),
                     "cover_J_c": t["covers_J_c"].mean(),
                     "size_lof": (t["p_lof"] < 0.05).mean(),
                     "size_lof_chi2": (t["p_lof_chi2"] < 0.05).mean(),
                     "reject_w0": (t["p_w0"] < 0.05).mean(),
                     "reject_w0_chi2": (t["p_w0_chi2"] < 0.05).mean(),
                     "claims_w_inf_pos": (t["claim"] == ">0").mean(),
                     "differs_from_bulk": t["differs_from_bulk"].mean(),
                     "beta_at_bound": t["beta_open"].mean()})
    out = pd.DataFrame(rows)
    out["binomial_sd_95"] = math.sqrt(0.95 * 0.05 / n_sim)
    return out
