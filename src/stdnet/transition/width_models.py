"""Models of a per-N mean (the transition width, J_ch, J_FP) as a function of network size N.

The per-N means of a quantity (stdnet.transition.width.per_N_table), weighted by their standard
errors, are fitted by three models -- constant w = w_inf, pure power law w = a N^-beta and
offset power law w = w_inf + a N^-beta -- with the free-exponent fits of stdnet.stats
(variable projection) and compared. The standard errors are estimated from n realizations
per N; every interval and test is calibrated for that (stdnet.stats.calibrate: profile
likelihood with thresholds, and lack-of-fit / likelihood-ratio references, from a
linearised parametric bootstrap that redraws the per-N variances with n - 1 dof). The
uncalibrated Wald intervals (known SEs, z quantile) are kept as {param}_wald_lo/_hi.

* `fit_models`: one row per model with parameters, calibrated and Wald intervals and,
  optionally, bootstrap intervals, chi^2, dof, lack-of-fit p, AIC, AICc and Akaike weights;
* `bootstrap_fits`: percentile bootstrap over the realizations within each N;
* `lrt_table`: likelihood-ratio tests of the nested pairs (power, constant) in offset;
* `fit_limit`: J(N) -> J(inf): with the bulk theory's J_FP(N) given, J_FP = J_bulk(N) + delta
  and J_ch = J_bulk(N) + delta + w_inf + a N^-beta (the sum J_FP(N) + width(N)); without it
  J = J_inf + b N^-beta_J with its own exponent; compared with the bulk theory's N -> inf
  limit;
* `model_curve`: the fitted curve of a row.

Nothing is logged: zero and negative means are ordinary data.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.interpolate import PchipInterpolator

from stdnet.stats import (
    FIT_ERRORS,
    akaike,
    akaike_weights,
    chi2_sf,
    fit_free_power,
    normal_quantile,
    sample_mean,
    standard_errors,
)
from stdnet.stats.calibrate import (
    N_CAL,
    WProfile,
    constant_vs_offset_null,
    linear_calibration,
    offset_design,
    profile_beta,
    profile_interval,
)

LEVEL = 0.95
MODELS = ("constant", "power", "offset")
N_PARAMS = {"constant": 1, "power": 2, "offset": 3}
MODEL_LABELS = {"constant": "constant  w = w∞",
                "power": "power law  w = a N^-β",
                "offset": "offset power law  w = w∞ + a N^-β"}
PARAM_NAMES = ("w_inf", "a", "beta", "amp_ref")  # amp_ref = a N_ref^-beta
BETA_BOUNDS = (0.05, 4.0)


def _series(per_N: pd.DataFrame, quantity: str):
    """(N, mean, se, nu, excluded-note) for the weighted fits of `quantity`.

    N values with fewer than 2 realizations (no SE) are left out and named. A zero SE (all
    realizations equal, e.g. on a coarse J0 grid) is raised to the resolution floor, or,
    without one, to the smallest positive SE of the other N values. nu: the degrees of
    freedom of each SE (n - 1; inf where the floor, a known measurement error, sets it;
    inf for all when the table has no {quantity}_n column).
    """
    N = per_N["N"].to_numpy(float)
    y = per_N[f"{quantity}_mean"].to_numpy(float)
    se = per_N[f"{quantity}_se"].to_numpy(float)
    floor_col = f"{quantity}_se_floor"
    floor = per_N[floor_col].to_numpy(float) if floor_col in per_N else np.zeros_like(se)
    n_col = f"{quantity}_n"
    n = per_N[n_col].to_numpy(float) if n_col in per_N else np.full(se.shape, np.inf)
    return clean_points_df(N, y, se, np.nan_to_num(floor, nan=0.0), n)


def clean_points(N, y, se, floor):
    """The points (N, y, se, note) that a weighted fit can use: se raised to `floor`, points
    without a finite y and se left out, a zero se raised to the smallest positive one; the
    note says what was done."""
    N, y, se, _, note = clean_points_df(N, y, se, floor, np.full(np.shape(se), np.inf))
    return N, y, se, note


def clean_points_df(N, y, se, floor, n):
    """clean_points with the degrees of freedom of each se: (N, y, se, nu, note), nu = n - 1
    where the sample SE is used, inf where `floor` (a known error) or a borrowed SE sets it."""
    N, y, se = (np.asarray(v, float) for v in (N, y, se))
    floor = np.broadcast_to(np.asarray(floor, float), se.shape)
    nu = np.asarray(n, float) - 1.0
    nu = np.where(np.isfinite(se) & (floor > se), np.inf, nu)
    se = np.where(np.isfinite(se), np.maximum(se, floor), np.nan)
    notes = []
    bad = ~(np.isfinite(y) & np.isfinite(se))
    if bad.any():
        notes.append("N = " + ", ".join(f"{int(v)}" for v in N[bad])
                     + " left out (fewer than 2 realizations: no standard error)")
    N, y, se, nu = N[~bad], y[~bad], se[~bad], nu[~bad]
    zero = se <= 0
    if zero.any():
        pos = se[~zero]
        if pos.size:
            se = np.where(zero, pos.min(), se)
            notes.append("zero SE at N = " + ", ".join(f"{int(v)}" for v in N[zero])
                         + " raised to the smallest other SE")
        else:
            N, y, se, nu = N[:0], y[:0], se[:0], nu[:0]
            notes.append("every SE is zero: no weighted fit possible")
    nu = np.where(nu >= 1, nu, np.inf)
    return N, y, se, nu, "; ".join(notes)


CAL_COLUMNS = ("p_lack_of_fit_chi2", "lrt_w0_stat", "lrt_w0_p", "lrt_w0_p_chi2", "lrt_a0_stat",
               "lrt_a0_p", "lrt_a0_p_chi2", "w_inf_lo_open", "w_inf_hi_open", "beta_lo_open",
               "beta_hi_open", "interval_method", "nu_min")


def _empty_row(model: str, k: int, reason: str, N_ref: float) -> dict:
    p = N_PARAMS[model]
    row = {"model": model, "label": MODEL_LABELS[model], "k": k, "n_params": p,
           "dof": k - p, "ok": False, "reason": reason, "note": "", "N_ref": N_ref}
    for name in PARAM_NAMES:
        for suffix in ("", "_se", "_lo", "_hi", "_wald_lo", "_wald_hi"):
            row[name + suffix] = math.nan
    row.update({"chi2": math.nan, "p_lack_of_fit": math.nan, "aic": math.nan,
                "aicc": math.nan, "cov": None})
    row.update({c: math.nan for c in CAL_COLUMNS})
    row.update({"w_inf_lo_open": False, "w_inf_hi_open": False, "beta_lo_open": False,
                "beta_hi_open": False, "interval_method": ""})
    if model == "power":
        row.update({"w_inf": 0.0, "w_inf_se": 0.0, "w_inf_lo": 0.0, "w_inf_hi": 0.0,
                    "w_inf_wald_lo": 0.0, "w_inf_wald_hi": 0.0})
    return row


def fit_row(N, y, se, model: str, beta_bounds=BETA_BOUNDS, level: float = LEVEL,
            N_ref: float | None = None, nu=None, n_cal: int = N_CAL, seed: int = 0,
            lrt_a0: bool = True) -> dict:
    """Weighted least-squares fit of one model to (N, y +- se); one row of `fit_models`.

    nu: degrees of freedom of each se (None: all inf, the SEs known). The intervals
    {param}_lo/_hi are calibrated (stats.calibrate; docs/width.md section 2): profile
    likelihood for w_inf and beta, Wald with the calibrated quantile for a and amp_ref; the
    uncalibrated Wald intervals are {param}_wald_lo/_hi. p_lack_of_fit is calibrated as well
    (p_lack_of_fit_chi2: the chi^2 reference). The offset model also carries the
    likelihood-ratio tests of w_inf = 0 (lrt_w0_*) and a = 0 (lrt_a0_*), calibrated (_p) and
    against chi^2 (_p_chi2; lrt_a0=False skips the a = 0 test's bootstrap, for simulation
    studies that do not use it). *_open: the interval end reached its limit (a beta bound, or
    w_inf unbounded) without the profile crossing the threshold.
    """
    N = np.asarray(N, float)
    y = np.asarray(y, float)
    se = np.asarray(se, float)
    nu = np.full(N.shape, np.inf) if nu is None else np.asarray(nu, float)
    k = int(N.size)
    p = N_PARAMS[model]
    if N_ref is None:
        N_ref = float(math.exp(np.mean(np.log(N)))) if k else math.nan
    if k < p:
        return _empty_row(model, k, f"needs at least {p} N values with a standard error, "
                                    f"has {k}", N_ref)
    row = _empty_row(model, k, "", N_ref)
    z = normal_quantile(level)
    try:
        fit = fit_free_power(N, y, se, model, beta_bounds, N_ref)
    except FIT_ERRORS as exc:
        return _empty_row(model, k, f"fit failed: {exc}", N_ref)
    s = standard_errors(fit["var"])
    for j, name in enumerate(fit["names"]):
        v = float(fit["theta"][j])
        row.update({name: v, name + "_se": s[j], name + "_wald_lo": v - z * s[j],
                    name + "_wald_hi": v + z * s[j]})
    chi2, dof = fit["chi2"], k - p
    aic, aicc = akaike(chi2, k, p)
    row.update({"ok": True, "chi2": chi2, "dof": dof, "p_lack_of_fit_chi2": chi2_sf(chi2, dof),
                "aic": aic, "aicc": aicc, "cov": fit["cov"],
                "note": "; ".join(fit["notes"]), "nu_min": float(np.min(nu))})
    notes = [row["note"]]
    if n_cal > 0:
        _calibrate_row(row, N / N_ref, y, se, nu, model, beta_bounds, level, n_cal, seed,
                       notes, lrt_a0)
    else:  # uncalibrated (the bootstrap's refits): Wald intervals, chi^2 references
        for name in PARAM_NAMES:
            row[name + "_lo"], row[name + "_hi"] = row[name + "_wald_lo"], row[name + "_wald_hi"]
        row["p_lack_of_fit"] = row["p_lack_of_fit_chi2"]
        row["interval_method"] = "Wald, SEs treated as known (uncalibrated)"
    if dof == 0:
        notes.append("0 dof: passes through the points, no lack-of-fit test")
    row["note"] = "; ".join(filter(None, notes))
    return row


def _calibrate_row(row, x, y, se, nu, model, beta_bounds, level, n_cal, seed, notes,
                   lrt_a0=True):
    """The calibrated intervals and tests of one fitted row (fit_row), in place."""
    W = 1.0 / se ** 2
    dof = row["dof"]
    offset = model == "offset"
    if model == "constant":
        X = np.ones((x.size, 1))
    else:
        X = offset_design(x, offset, row["amp_ref"], row["beta"])
    cal = linear_calibration(X, se, nu, level, n_cal, seed)
    thr = cal["threshold"]
    if not cal["ok"] and model != "constant":
        # beta not identified at the fit (amplitude ~ 0): calibrate the linear part alone
        cal = linear_calibration(X[:, :-1], se, nu, level, n_cal, seed)
        thr = np.append(cal["threshold"], cal["threshold"].max())
        notes.append("beta not identified at the fit: its threshold borrowed")
    row["interval_method"] = ("profile likelihood (w_inf, beta), Wald (a, amp_ref); "
                              "thresholds calibrated for estimated SEs")
    if dof >= 1 and np.isfinite(cal["chi2"]).any():
        c2 = cal["chi2"][np.isfinite(cal["chi2"])]
        row["p_lack_of_fit"] = float((1 + np.sum(c2 >= row["chi2"])) / (1 + c2.size))
    names = {"constant": ("w_inf",), "power": ("amp_ref", "beta"),
             "offset": ("w_inf", "amp_ref", "beta")}[model]
    c = dict(zip(names, thr))
    # Wald-type calibrated intervals for the (conditionally) linear parameters
    for name in ("w_inf", "amp_ref", "a"):
        key = "amp_ref" if name == "a" else name
        if key in c and np.isfinite(row.get(name + "_se", math.nan)):
            h = math.sqrt(c[key]) * row[name + "_se"]
            row[name + "_lo"], row[name + "_hi"] = row[name] - h, row[name] + h
    if model == "constant":
        return
    chi2_min = row["chi2"]
    lo_b, hi_b = beta_bounds
    step_b = row["beta_se"] if np.isfinite(row["beta_se"]) and row["beta_se"] > 0 else 0.1
    step_b = min(max(step_b, 1e-3), 0.5 * (hi_b - lo_b))
    pb = lambda b: profile_beta(x, y, W, [b], offset)[0]  # noqa: E731
    blo, bhi, olo, ohi = profile_interval(pb, row["beta"], chi2_min + c["beta"], lo_b, hi_b,
                                          step_b)
    row.update({"beta_lo": blo, "beta_hi": bhi, "beta_lo_open": olo, "beta_hi_open": ohi})
    if olo or ohi:
        notes.append("beta's interval reaches its bound " + " and ".join(
            f"{v:g}" for v, o in ((lo_b, olo), (hi_b, ohi)) if o))
    if not offset:
        return
    pw = WProfile(x, y, W, beta_bounds)
    chi2_min = min(chi2_min, pw(row["w_inf"]))
    step_w = row["w_inf_se"] if np.isfinite(row["w_inf_se"]) and row["w_inf_se"] > 0 else \
        float(np.ptp(y) + np.max(se))
    wlo, whi, olo, ohi = profile_interval(pw, row["w_inf"], chi2_min + c["w_inf"], -math.inf,
                                          math.inf, step_w)
    row.update({"w_inf_lo": wlo, "w_inf_hi": whi, "w_inf_lo_open": olo, "w_inf_hi_open": ohi})
    if olo or ohi:
        notes.append("w_inf's interval is unbounded "
                     + ("below" if olo and not ohi else "above" if ohi and not olo else
                        "on both sides") + " (w_inf trades against a as beta -> its bound)")
    # likelihood-ratio tests: w_inf = 0 (the profile at 0) and a = 0 (constant in offset)
    stat = max(0.0, pw(0.0) - chi2_min)
    dw = cal["delta"][:, 0]
    dw = dw[np.isfinite(dw)]
    row.update({"lrt_w0_stat": stat, "lrt_w0_p_chi2": chi2_sf(stat, 1),
                "lrt_w0_p": float((1 + np.sum(dw >= stat)) / (1 + dw.size)) if dw.size
                else chi2_sf(stat, 1)})
    if not lrt_a0:
        return
    chi_c = float((W * (y - (W * y).sum() / W.sum()) ** 2).sum())
    stat_a = max(0.0, chi_c - chi2_min)
    ref = constant_vs_offset_null(se, nu, x, beta_bounds, n_cal, seed)
    row.update({"lrt_a0_stat": stat_a, "lrt_a0_p_chi2": chi2_sf(stat_a, 2),
                "lrt_a0_p": float((1 + np.sum(ref >= stat_a)) / (1 + ref.size))})


def claims_w_inf(row: Mapping) -> str:
    """What the offset row's calibrated interval says about w_inf: '>0', '<0', '0' (holds 0)
    or '' (no usable fit or interval). The verdict and the simulation studies share it."""
    if row is None or not row.get("ok", False) or row.get("dof", 0) < 1:
        return ""
    lo, hi = row.get("w_inf_lo", math.nan), row.get("w_inf_hi", math.nan)
    if lo is None or hi is None or np.isnan(lo) or np.isnan(hi):
        return ""
    return ">0" if lo > 0 else "<0" if hi < 0 else "0"


def model_curve(row: Mapping, N) -> np.ndarray:
    """The fitted curve of one model row (fit_models or fit_limit) at the sizes N."""
    N = np.asarray(N, float)
    w0 = row.get("w_inf", row.get("J_inf", 0.0))
    a = row.get("a", row.get("b", 0.0))
    w0 = 0.0 if w0 is None or not np.isfinite(w0) else w0
    a = 0.0 if a is None or not np.isfinite(a) else a
    beta = row.get("beta", 0.0)
    beta = 0.0 if beta is None or not np.isfinite(beta) else beta
    return w0 + a * N ** (-beta)


def fit_models(per_N: pd.DataFrame, quantity: str = "width", models: Sequence[str] = MODELS,
               trans: pd.DataFrame | None = None, n_boot: int = 0, seed: int = 0,
               level: float = LEVEL, beta_bounds=BETA_BOUNDS, n_cal: int = N_CAL,
               lrt_a0: bool = True) -> pd.DataFrame:
    """Fit constant / power / offset models to the per-N means of `quantity`, weighted by SE.

    One row per model with: model, label, k (N values used), n_params, dof, ok, reason
    (why a fit failed), note (bounds, identifiability, 0 dof, left-out N), N_ref;
    w_inf, a, beta, amp_ref (= a N_ref^-beta, the power-law term at the geometric-mean size
    N_ref: far less correlated with beta than a, so its interval is the one to quote)
    and for each _se (Wald), _lo/_hi (`level`, calibrated for the estimated SEs: profile
    likelihood for w_inf and beta; fit_row) and _wald_lo/_wald_hi (uncalibrated); the pure
    power law has w_inf fixed at 0; chi2, p_lack_of_fit (calibrated), p_lack_of_fit_chi2,
    the offset row's lrt_w0_* / lrt_a0_* (fit_row), aic, aicc, delta_aic, weight_aic,
    delta_aicc, weight_aicc; cov (parameter covariance, order w_inf, a, beta as present).
    n_cal: draws of the calibration (0: none, Wald and chi^2 only; seeded by `seed`).
    With trans and n_boot > 0
    also {param}_boot_lo/_median/_hi (percentile bootstrap over realizations within each N)
    and n_boot, n_boot_ok. Nothing is logged: zero and negative means are ordinary data.
    """
    N, y, se, nu, excl = _series(per_N, quantity)
    N_ref = float(math.exp(np.mean(np.log(N)))) if N.size else math.nan
    rows = []
    for m in models:
        r = fit_row(N, y, se, m, beta_bounds, level, N_ref, nu, n_cal, seed, lrt_a0)
        if excl:
            r["note"] = "; ".join(filter(None, [r["note"], excl]))
        rows.append(r)
    fits = akaike_weights(pd.DataFrame(rows))
    if trans is not None and n_boot > 0:
        boot = bootstrap_fits(trans, quantity, models, n_boot, seed, level, beta_bounds,
                              N_ref=N_ref)
        fits = fits.merge(boot, on="model", how="left")
    return fits


def _groups(trans: pd.DataFrame, quantity: str):
    t = trans.copy()
    if quantity == "width" and "width" not in t:
        t["width"] = t["J_ch"] - t["J_FP"]
    out = []
    for N, g in t.groupby("N", sort=True):
        v = pd.to_numeric(g[quantity], errors="coerce").to_numpy(float)
        out.append((float(N), v[np.isfinite(v)]))
    return out


def bootstrap_fits(trans: pd.DataFrame, quantity: str = "width",
                   models: Sequence[str] = MODELS, n_boot: int = 2000, seed: int = 0,
                   level: float = LEVEL, beta_bounds=BETA_BOUNDS,
                   N_ref: float | None = None) -> pd.DataFrame:
    """Percentile bootstrap over realizations: resample the realizations within each N (with
    replacement, same count), recompute the per-N means and SEs, refit every model.

    One row per model: model, n_boot, n_boot_ok, {param}_boot_lo, {param}_boot_hi,
    {param}_boot_median for param in w_inf, a, beta, amp_ref (NaN where the model lacks it).
    Resolution floors are not applied inside the bootstrap (raw resampled SEs; a zero SE is
    raised to the smallest other one). N values with fewer than 2 finite values drop out.
    """
    rng = np.random.default_rng(seed)
    groups = [(N, v) for N, v in _groups(trans, quantity) if v.size >= 2]
    Ns = np.array([N for N, _ in groups])
    if N_ref is None and Ns.size:
        N_ref = float(math.exp(np.mean(np.log(Ns))))
    draws = {m: np.full((n_boot, len(PARAM_NAMES)), np.nan) for m in models}
    for b in range(n_boot):
        ys, ses = np.empty(Ns.size), np.empty(Ns.size)
        for j, (_, v) in enumerate(groups):
            s = v[rng.integers(0, v.size, v.size)]
            ys[j], ses[j] = s.mean(), s.std(ddof=1) / math.sqrt(s.size)
        N_, y_, se_, _ = clean_points(Ns, ys, ses, np.zeros_like(ses))
        for m in models:
            r = fit_row(N_, y_, se_, m, beta_bounds, level, N_ref, n_cal=0)
            if r["ok"]:
                draws[m][b] = [r[name] for name in PARAM_NAMES]
    q = (100 * (0.5 - level / 2), 50.0, 100 * (0.5 + level / 2))
    rows = []
    for m in models:
        d = draws[m]
        ok = np.isfinite(d[:, 1]) | (np.isfinite(d[:, 0]) & (m == "constant"))
        row = {"model": m, "n_boot": int(n_boot), "n_boot_ok": int(ok.sum())}
        for j, name in enumerate(PARAM_NAMES):
            col = d[ok, j]
            col = col[np.isfinite(col)]
            lo, med, hi = np.percentile(col, q) if col.size else (math.nan,) * 3
            row.update({f"{name}_boot_lo": float(lo), f"{name}_boot_median": float(med),
                        f"{name}_boot_hi": float(hi)})
        rows.append(row)
    return pd.DataFrame(rows)


def lrt_table(fits: pd.DataFrame) -> pd.DataFrame:
    """Likelihood-ratio tests of the nested pairs, statistic chi2_null - chi2_offset.

    Rows: null model, alternative ('offset'), hypothesis, df, stat, p, p_chi2, calibrated, ok.
      power in offset (H0: w_inf = 0, an interior point): p from the calibrated reference of
      the offset row (lrt_w0_p: the linearised parametric bootstrap with redrawn variances,
      the same as the threshold of w_inf's profile interval, so p < 1 - level exactly when
      that interval excludes 0); p_chi2 against chi^2 with 1 df (SEs treated as known).
      constant in offset (H0: a = 0): p from the parametric bootstrap of the statistic under
      the constant model with beta free and redrawn variances (lrt_a0_p; beta is not
      identified under H0, so no chi^2_2 reference applies); p_chi2 against chi^2_2.
    Without calibration columns (n_cal = 0) p = p_chi2 and calibrated is False.
    """
    by = {r["model"]: r for _, r in fits.iterrows()}
    rows = []
    for null, df, hyp, key in (("power", 1, "w_inf = 0 (pure power law suffices)", "lrt_w0"),
                               ("constant", 2, "a = 0 (no N-dependence)", "lrt_a0")):
        row = {"null": null, "alternative": "offset", "hypothesis": hyp, "df": df,
               "stat": math.nan, "p": math.nan, "p_chi2": math.nan, "calibrated": False,
               "ok": False}
        if null in by and "offset" in by and by[null]["ok"] and by["offset"]["ok"]:
            o = by["offset"]
            stat = max(0.0, float(by[null]["chi2"] - o["chi2"]))
            row.update({"stat": stat, "p": chi2_sf(stat, df), "p_chi2": chi2_sf(stat, df),
                        "ok": True})
            pc = o.get(key + "_p", math.nan)
            if pc is not None and np.isfinite(pc):
                row.update({"stat": float(o[key + "_stat"]), "p": float(pc),
                            "p_chi2": float(o[key + "_p_chi2"]), "calibrated": True})
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- J(N) limits
def bulk_function(bulk_curve):
    """The bulk theory's J_FP(N) as a function of N: `bulk_curve` is a callable (returned as
    it is) or a table with columns N, J_FP (interpolated monotonically in log N, PCHIP;
    extrapolated beyond its range, which fit_limit notes). None -> None."""
    if bulk_curve is None or callable(bulk_curve):
        return bulk_curve

    b = bulk_curve.dropna(subset=["N", "J_FP"]).sort_values("N").drop_duplicates("N")
    if len(b) < 2:
        return None
    f = PchipInterpolator(np.log(b["N"].to_numpy(float)), b["J_FP"].to_numpy(float),
                          extrapolate=True)
    f_N = lambda N: f(np.log(np.asarray(N, float)))  # noqa: E731
    f_N.N_range = (float(b["N"].min()), float(b["N"].max()))
    return f_N


def limit_curve(fit: Mapping, N, bulk_curve=None) -> np.ndarray:
    """The fitted J(N) of a fit_limit result at the sizes N (NaN where it cannot be drawn:
    the bulk-based models need the bulk curve)."""
    N = np.asarray(N, float)
    if str(fit.get("model", "")).startswith("bulk"):
        f = bulk_function(bulk_curve)
        if f is None:
            return np.full(N.shape, np.nan)
        d = fit.get("delta", 0.0)
        d = 0.0 if d is None or not np.isfinite(d) else d
        return f(N) + d + model_curve({"w_inf": 0.0, "a": fit.get("b", 0.0),
                                       "beta": fit.get("beta", 0.0)}, N)
    return model_curve(fit, N)


def _shifted_series(per_N, trans, quantity, fN, name):
    """per_N (and trans) with a column `name` = quantity - J_bulk(N) (same n, SE, floor)."""
    p = per_N.copy()
    for suf in ("n", "sd", "se", "se_floor"):
        if f"{quantity}_{suf}" in p:
            p[f"{name}_{suf}"] = p[f"{quantity}_{suf}"]
    p[f"{name}_mean"] = p[f"{quantity}_mean"] - fN(p["N"].to_numpy(float))
    t = None
    if trans is not None:
        t = trans.copy()
        if quantity == "width" and "width" not in t:
            t["width"] = t["J_ch"] - t["J_FP"]
        t[name] = pd.to_numeric(t[quantity], errors="coerce") - fN(t["N"].to_numpy(float))
    return p, t


def fit_limit(per_N: pd.DataFrame, quantity: str = "J_ch", bulk_limit: float | None = None,
              trans: pd.DataFrame | None = None, n_boot: int = 0, seed: int = 0,
              level: float = LEVEL, beta_bounds=BETA_BOUNDS, bulk_curve=None,
              n_cal: int = N_CAL, lrt_a0: bool = True) -> dict:
    """J(N -> inf) for J_ch (J_c(inf)) or J_FP, and its comparison with `bulk_limit` (the bulk
    theory's N -> inf J_FP, transition.width.bulk_limit).

    With `bulk_curve` (the bulk theory's J_FP(N): a table N, J_FP or a callable) and
    bulk_limit, the model is the sum J_FP(N) + width(N) (docs/width.md section 5):
      J_FP: J_FP(N) = J_bulk(N) + delta (model 'bulk + delta'; a constant fit of
            J_FP - J_bulk; its lack-of-fit p tests the bulk theory's N-dependence);
      J_ch: J_ch(N) = J_bulk(N) + delta + w_inf + a N^-beta (model 'bulk + offset power
            law': the offset power law fitted to J_ch - J_bulk, with J_ch's own SEs, which
            hold the covariance of J_FP and the width of each realization);
      J_inf = bulk_limit + (delta, or delta + w_inf); b, beta: the power-law term.
    Without them: J(N) = J_inf + b N^-beta_J with its own exponent (model 'offset power
    law'; for J_ch a single power law, not the sum of J_FP's and the width's).

    Returns a dict: quantity, model, ok, reason, note, k, dof, N_ref, J_inf, b, beta, b_ref
    (= b N_ref^-beta), delta (bulk models), and their _se, _lo/_hi (calibrated, as in
    fit_models), _wald_lo/_wald_hi; J_inf_lo_open / _hi_open; chi2, p_lack_of_fit
    (calibrated), p_lack_of_fit_chi2; J_const, J_const_se (the weighted mean) and
    p_N_dependence (LRT of no N-dependence in the offset model, calibrated; NaN for
    'bulk + delta'); with bootstrap: J_inf_boot_lo/_hi, b_boot_lo/_hi, beta_boot_lo/_hi; and
    bulk_limit, bulk_diff (J_inf - bulk_limit), bulk_z (diff / J_inf_se, Wald), bulk_p
    (two-sided normal, Wald), bulk_in_ci (bulk_limit within the calibrated interval: the
    verdict's test), bulk_in_wald_ci, bulk_in_boot_ci (when there is one), statement.
    """
    fN = bulk_function(bulk_curve) if bulk_limit is not None and np.isfinite(bulk_limit) \
        else None
    name = {"J_ch": "J_c(∞)", "J_FP": "J_FP(∞)"}.get(quantity, f"{quantity}(∞)")
    shift = 0.0
    series, tr, extra_note = quantity, trans, ""
    if fN is not None:
        series = f"{quantity}_minus_bulk"
        per_N, tr = _shifted_series(per_N, trans, quantity, fN, series)
        shift = float(bulk_limit)
        rng_N = getattr(fN, "N_range", None)
        if rng_N and (per_N["N"].min() < rng_N[0] * 0.999 or per_N["N"].max() > rng_N[1] * 1.001):
            extra_note = "bulk J_FP(N) extrapolated beyond its table"
    models = ("constant",) if (fN is not None and quantity == "J_FP") else ("constant", "offset")
    fits = fit_models(per_N, series, models, tr, n_boot, seed, level, beta_bounds, n_cal,
                      lrt_a0)
    main = "constant" if models == ("constant",) else "offset"
    off = fits[fits.model == main].iloc[0]
    const = fits[fits.model == "constant"].iloc[0]
    model = {("constant", True): "bulk + delta", ("offset", True): "bulk + offset power law",
             ("offset", False): "offset power law"}[(main, fN is not None)]
    out = {"quantity": quantity, "model": model, "ok": bool(off["ok"]), "reason": off["reason"],
           "note": "; ".join(filter(None, [off["note"], extra_note])), "k": int(off["k"]),
           "dof": int(off["dof"]), "N_ref": off["N_ref"], "level": level}
    sfx = ("", "_se", "_lo", "_hi", "_wald_lo", "_wald_hi", "_boot_lo", "_boot_hi")
    for src, dst in (("w_inf", "J_inf"), ("a", "b"), ("beta", "beta"), ("amp_ref", "b_ref")):
        for suffix in sfx:
            if src + suffix in off:
                v = float(off[src + suffix])
                if dst == "J_inf" and suffix not in ("_se",):
                    v += shift
                out[dst + suffix] = v
    if main == "constant":
        for k_ in ("b", "beta", "b_ref"):
            for suffix in sfx:
                out[k_ + suffix] = math.nan
    out["delta"] = out["J_inf"] - shift if fN is not None else math.nan
    out["J_inf_lo_open"] = bool(off.get("w_inf_lo_open", False))
    out["J_inf_hi_open"] = bool(off.get("w_inf_hi_open", False))
    p_dep = float(off["lrt_a0_p"]) if main == "offset" else math.nan
    if main == "offset" and not np.isfinite(p_dep):
        p_dep = float(lrt_table(fits).set_index("null").loc["constant", "p"])
    out.update({"chi2": float(off["chi2"]), "p_lack_of_fit": float(off["p_lack_of_fit"]),
                "p_lack_of_fit_chi2": float(off["p_lack_of_fit_chi2"]),
                "J_const": float(const["w_inf"]) + shift, "J_const_se": float(const["w_inf_se"]),
                "p_N_dependence": p_dep})
    out.update({"bulk_limit": math.nan, "bulk_diff": math.nan, "bulk_z": math.nan,
                "bulk_p": math.nan, "bulk_in_ci": None, "bulk_in_wald_ci": None})
    pct = f"{100 * level:g} %"
    how = {"bulk + delta": "J_FP = J_bulk(N) + δ",
           "bulk + offset power law": "J_ch = J_bulk(N) + δ + w∞ + a N^-β",
           "offset power law": f"{quantity} = J∞ + b N^-β"}[model]
    if not out["ok"]:
        out["statement"] = f"{name} undetermined: {out['reason']}"
    elif out["dof"] < 1:
        out["statement"] = (f"{name} undetermined: {out['k']} N values leave the model "
                            f"0 dof")
    else:
        lo_t = "-∞" if out["J_inf_lo_open"] else f"{out['J_inf_lo']:.3f}"
        hi_t = "∞" if out["J_inf_hi_open"] else f"{out['J_inf_hi']:.3f}"
        out["statement"] = (f"{name} = {out['J_inf']:.3f} [{lo_t}, {hi_t}] ({pct}, "
                            f"calibrated; {how}"
                            + (f", β = {out['beta']:.2f}" if np.isfinite(out["beta"]) else "")
                            + ")")
    if bulk_limit is not None and np.isfinite(bulk_limit):
        out["bulk_limit"] = float(bulk_limit)
        if out["ok"] and np.isfinite(out["J_inf_se"]) and out["J_inf_se"] > 0:
            d = out["J_inf"] - bulk_limit
            zz = d / out["J_inf_se"]
            out.update({"bulk_diff": d, "bulk_z": zz, "bulk_p": float(2 * stats.norm.sf(abs(zz))),
                        "bulk_in_ci": bool(out["J_inf_lo"] <= bulk_limit <= out["J_inf_hi"]),
                        "bulk_in_wald_ci": bool(out["J_inf_wald_lo"] <= bulk_limit
                                                <= out["J_inf_wald_hi"])})
            blo, bhi = out.get("J_inf_boot_lo", math.nan), out.get("J_inf_boot_hi", math.nan)
            if np.isfinite(blo) and np.isfinite(bhi):
                out["bulk_in_boot_ci"] = bool(blo <= bulk_limit <= bhi)
            if out["dof"] >= 1:
                out["statement"] += (f"; bulk theory N→∞: {bulk_limit:.3f} — "
                                     + ("compatible" if out["bulk_in_ci"] else
                                        f"differs at {pct}"))
    return out


QUANTITIES = ("width", "J_FP", "J_ch")


# ----------------------------------------------------------------------------- per-N table
def per_N_table(trans: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per N: count, mean, sd, standard error and `level` t-interval of width, J_FP, J_ch.

    trans: one row per realization with columns N, seed, J_FP, J_ch and width (computed as
    J_ch - J_FP when absent); optional J_ch_resolution, J_FP_resolution (length of the
    bracket that holds each end), J_ch_se (standard error of J_ch from the onset estimator)
    and status. Returns one row per N with

      N, n_total, n (realizations with a finite width), n_missing (without one: an end
      not found), n_missing_J_FP, n_missing_J_ch,
      {q}_n, {q}_mean, {q}_sd, {q}_se, {q}_lo, {q}_hi  for q in width, J_FP, J_ch
      (statistics over the realizations where q is finite),
      {q}_se_floor  (the per-realization measurement error over sqrt(n): J_ch's is the column
      J_ch_se (the onset estimator's standard error) where given and finite, else
      J_ch_resolution / sqrt(12); J_FP's is J_FP_resolution / sqrt(12); the width's adds
      both in quadrature; 0 without any; the fits never use an SE below it),
      J_ch_resolution, J_FP_resolution (mean bracket length; NaN when not given),
      J_ch_se_used (realizations whose J_ch_se set their J_ch error),
      status_counts ("ok: 8, no chaos: 2" when a status column is given, else ""),
      note (names the realizations left out of the width statistics; "" when none).
    Missing widths are never dropped silently: they are counted and named in `note`.
    """
    t = trans.copy()
    if "width" not in t:
        t["width"] = t["J_ch"] - t["J_FP"]
    for col in ("width", "J_FP", "J_ch"):
        t[col] = pd.to_numeric(t[col], errors="coerce").astype(float)
    rows = []
    for N, g in t.groupby("N", sort=True):
        row = {"N": int(N), "n_total": int(len(g))}
        finite = {q: np.isfinite(g[q].to_numpy(float)) for q in QUANTITIES}
        row["n_missing"] = int((~finite["width"]).sum())
        row["n_missing_J_FP"] = int((~finite["J_FP"]).sum())
        row["n_missing_J_ch"] = int((~finite["J_ch"]).sum())
        res = {}
        for q in ("J_FP", "J_ch"):
            col = f"{q}_resolution"
            if col in g:
                r = pd.to_numeric(g[col], errors="coerce").to_numpy(float)
                res[q] = r ** 2 / 12.0
                row[col] = float(np.nanmean(r)) if np.isfinite(r).any() else math.nan
            else:
                row[col] = math.nan
        # the onset estimator's own standard error of J_ch replaces the bracket's r/sqrt(12)
        # wherever it is given and finite
        row["J_ch_se_used"] = 0
        if "J_ch_se" in g:
            e = pd.to_numeric(g["J_ch_se"], errors="coerce").to_numpy(float)
            have = np.isfinite(e) & (e >= 0)
            row["J_ch_se_used"] = int((have & finite["J_ch"]).sum())
            if have.any():
                base = res.get("J_ch", np.full(e.shape, np.nan))
                res["J_ch"] = np.where(have, e ** 2, base)
        for q in QUANTITIES:
            v = g[q].to_numpy(float)[finite[q]]
            s = sample_mean(v, level)
            for k, val in s.items():
                row[f"{q}_{k}"] = val
            # measurement floor: an end known only to within a bracket of length r is uniform
            # in it (variance r^2/12), or has the onset estimator's J_ch_se; the width carries
            # both ends' errors
            parts = [res[e][finite[q]] for e in (("J_FP", "J_ch") if q == "width" else (q,))
                     if e in res]
            if parts and s["n"] > 0:
                var = np.nansum(parts, axis=0)
                row[f"{q}_se_floor"] = float(math.sqrt(np.mean(var) / s["n"]))
            else:
                row[f"{q}_se_floor"] = 0.0
        row["n"] = row["width_n"]
        if "status" in g:
            counts = g["status"].astype(str).value_counts()
            row["status_counts"] = ", ".join(f"{k}: {v}" for k, v in counts.items())
        else:
            row["status_counts"] = ""
        note = ""
        if row["n_missing"]:
            why = []
            if row["n_missing_J_FP"]:
                why.append(f"J_FP not found: {row['n_missing_J_FP']}")
            if row["n_missing_J_ch"]:
                why.append(f"J_ch not found: {row['n_missing_J_ch']}")
            seeds = g.loc[~finite["width"], "seed"].tolist() if "seed" in g else []
            note = (f"{row['n_missing']} of {row['n_total']} realizations have no width"
                    + (f" ({'; '.join(why)})" if why else "")
                    + (f", seeds {', '.join(str(s) for s in seeds)}" if seeds else "")
                    + "; left out of the width statistics")
        row["note"] = note
        rows.append(row)
    cols = ["N", "n_total", "n", "n_missing", "n_missing_J_FP", "n_missing_J_ch"]
    for q in QUANTITIES:
        cols += [f"{q}_{k}" for k in ("n", "mean", "sd", "se", "lo", "hi", "se_floor")]
    cols += ["J_ch_resolution", "J_FP_resolution", "J_ch_se_used", "status_counts", "note"]
    return pd.DataFrame(rows, columns=cols)
