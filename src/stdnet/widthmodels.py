"""Models of a per-N mean (the transition width, J_ch, J_FP) as a function of network size N.

The per-N means of a quantity (stdnet.widthstats.per_N_table), weighted by their standard
errors (treated as known), are fitted by three models -- constant w = w_inf, pure power law
w = a N^-beta and offset power law w = w_inf + a N^-beta -- with the free-exponent fits of
stdnet.stats (variable projection, Wald intervals) and compared:

* `fit_models`: one row per model with parameters, covariance (Wald) and, optionally,
  bootstrap confidence intervals, chi^2, dof, lack-of-fit p, AIC, AICc and Akaike weights;
* `bootstrap_fits`: percentile bootstrap over the realizations within each N;
* `lrt_table`: likelihood-ratio tests of the nested pairs (power, constant) in offset;
* `fit_limit`: J(N) = J_inf + b N^-beta_J for J_ch or J_FP with its own exponent, compared
  with a number (the bulk theory's N -> inf limit of J_FP);
* `model_curve`: the fitted curve of a row.

Nothing is logged: zero and negative means are ordinary data.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .stats import (FIT_ERRORS, akaike, akaike_weights, chi2_sf, fit_free_power,
                    normal_quantile, standard_errors)

LEVEL = 0.95
MODELS = ("constant", "power", "offset")
N_PARAMS = {"constant": 1, "power": 2, "offset": 3}
MODEL_LABELS = {"constant": "constant  w = w∞",
                "power": "power law  w = a N^-β",
                "offset": "offset power law  w = w∞ + a N^-β"}
PARAM_NAMES = ("w_inf", "a", "beta", "amp_ref")  # amp_ref = a N_ref^-beta
BETA_BOUNDS = (0.05, 4.0)


def _series(per_N: pd.DataFrame, quantity: str):
    """(N, mean, se, excluded-note) for the weighted fits of `quantity`.

    N values with fewer than 2 realizations (no SE) are left out and named. A zero SE (all
    realizations equal, e.g. on a coarse J0 grid) is raised to the resolution floor, or,
    without one, to the smallest positive SE of the other N values.
    """
    N = per_N["N"].to_numpy(float)
    y = per_N[f"{quantity}_mean"].to_numpy(float)
    se = per_N[f"{quantity}_se"].to_numpy(float)
    floor_col = f"{quantity}_se_floor"
    floor = per_N[floor_col].to_numpy(float) if floor_col in per_N else np.zeros_like(se)
    return clean_points(N, y, se, np.nan_to_num(floor, nan=0.0))


def clean_points(N, y, se, floor):
    """The points (N, y, se, note) that a weighted fit can use: se raised to `floor`, points
    without a finite y and se left out, a zero se raised to the smallest positive one; the
    note says what was done."""
    se = np.where(np.isfinite(se), np.maximum(se, floor), np.nan)
    notes = []
    bad = ~(np.isfinite(y) & np.isfinite(se))
    if bad.any():
        notes.append("N = " + ", ".join(f"{int(n)}" for n in N[bad])
                     + " left out (fewer than 2 realizations: no standard error)")
    N, y, se = N[~bad], y[~bad], se[~bad]
    zero = se <= 0
    if zero.any():
        pos = se[~zero]
        if pos.size:
            se = np.where(zero, pos.min(), se)
            notes.append("zero SE at N = " + ", ".join(f"{int(n)}" for n in N[zero])
                         + " raised to the smallest other SE")
        else:
            N, y, se = N[:0], y[:0], se[:0]
            notes.append("every SE is zero: no weighted fit possible")
    return N, y, se, "; ".join(notes)


def _empty_row(model: str, k: int, reason: str, N_ref: float) -> dict:
    p = N_PARAMS[model]
    row = {"model": model, "label": MODEL_LABELS[model], "k": k, "n_params": p,
           "dof": k - p, "ok": False, "reason": reason, "note": "", "N_ref": N_ref}
    for name in PARAM_NAMES:
        for suffix in ("", "_se", "_lo", "_hi"):
            row[name + suffix] = math.nan
    row.update({"chi2": math.nan, "p_lack_of_fit": math.nan, "aic": math.nan,
                "aicc": math.nan, "cov": None})
    if model == "power":
        row.update({"w_inf": 0.0, "w_inf_se": 0.0, "w_inf_lo": 0.0, "w_inf_hi": 0.0})
    return row


def fit_row(N, y, se, model: str, beta_bounds=BETA_BOUNDS, level: float = LEVEL,
            N_ref: float | None = None) -> dict:
    """Weighted least-squares fit of one model to (N, y +- se); one row of `fit_models`."""
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
        row.update({name: v, name + "_se": s[j], name + "_lo": v - z * s[j],
                    name + "_hi": v + z * s[j]})
    chi2, dof = fit["chi2"], k - p
    aic, aicc = akaike(chi2, k, p)
    row.update({"ok": True, "chi2": chi2, "dof": dof, "p_lack_of_fit": chi2_sf(chi2, dof),
                "aic": aic, "aicc": aicc, "cov": fit["cov"],
                "note": "; ".join(fit["notes"])})
    if dof == 0:
        row["note"] = "; ".join(filter(None, [row["note"], "0 dof: passes through the points, "
                                                           "no lack-of-fit test"]))
    return row


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
               level: float = LEVEL, beta_bounds=BETA_BOUNDS) -> pd.DataFrame:
    """Fit constant / power / offset models to the per-N means of `quantity`, weighted by SE.

    One row per model with: model, label, k (N values used), n_params, dof, ok, reason
    (why a fit failed), note (bounds, identifiability, 0 dof, left-out N), N_ref;
    w_inf, a, beta, amp_ref (= a N_ref^-beta, the power-law term at the geometric-mean size
    N_ref: far less correlated with beta than a, so its Wald interval is the one to quote)
    and for each {_se, _lo, _hi} (Wald, `level`; the pure power law has w_inf fixed at 0);
    chi2, p_lack_of_fit, aic, aicc, delta_aic, weight_aic, delta_aicc, weight_aicc;
    cov (parameter covariance, order w_inf, a, beta as present). With trans and n_boot > 0
    also {param}_boot_lo/_median/_hi (percentile bootstrap over realizations within each N)
    and n_boot, n_boot_ok. Nothing is logged: zero and negative means are ordinary data.
    """
    N, y, se, excl = _series(per_N, quantity)
    N_ref = float(math.exp(np.mean(np.log(N)))) if N.size else math.nan
    rows = []
    for m in models:
        r = fit_row(N, y, se, m, beta_bounds, level, N_ref)
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
            r = fit_row(N_, y_, se_, m, beta_bounds, level, N_ref)
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
    """Likelihood-ratio tests of the nested pairs, from the chi^2 of `fit_models` (known SEs:
    the statistic is chi2_null - chi2_offset).

    Rows: null model, alternative ('offset'), hypothesis, df, stat, p, ok.
      power in offset (H0: w_inf = 0, an interior point): chi^2 with 1 df -- the standard test.
      constant in offset (H0: a = 0): 2 df; approximate, since beta is not identified under
      H0 (the nominal p then tends to be somewhat too small).
    """
    by = {r["model"]: r for _, r in fits.iterrows()}
    rows = []
    for null, df, hyp in (("power", 1, "w_inf = 0 (pure power law suffices)"),
                          ("constant", 2, "a = 0 (no N-dependence)")):
        row = {"null": null, "alternative": "offset", "hypothesis": hyp, "df": df,
               "stat": math.nan, "p": math.nan, "ok": False}
        if null in by and "offset" in by and by[null]["ok"] and by["offset"]["ok"]:
            stat = max(0.0, float(by[null]["chi2"] - by["offset"]["chi2"]))
            row.update({"stat": stat, "p": chi2_sf(stat, df), "ok": True})
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- J(N) limits
def fit_limit(per_N: pd.DataFrame, quantity: str = "J_ch", bulk_limit: float | None = None,
              trans: pd.DataFrame | None = None, n_boot: int = 0, seed: int = 0,
              level: float = LEVEL, beta_bounds=BETA_BOUNDS) -> dict:
    """J(N) = J_inf + b N^-beta_J for J_ch (J_c) or J_FP, with its own exponent, and its
    comparison with `bulk_limit` (e.g. the bulk theory's N -> inf J_FP, widthstats.bulk_limit).

    Returns a dict: quantity, ok, reason, note, k, dof, N_ref, J_inf, b, beta, b_ref
    (= b N_ref^-beta) and their _se/_lo/_hi (Wald), chi2, p_lack_of_fit; J_const, J_const_se
    (the weighted mean, i.e. the constant model) and p_N_dependence (LRT constant in offset,
    2 df, approximate);
    with bootstrap: J_inf_boot_lo/_hi, b_boot_lo/_hi, beta_boot_lo/_hi; and bulk_limit,
    bulk_diff (J_inf - bulk_limit), bulk_z (diff / J_inf_se), bulk_p (two-sided, normal),
    bulk_in_ci (bulk_limit within the Wald CI), bulk_in_boot_ci (within the bootstrap CI, when
    there is one), statement (one sentence; 'compatible' when either interval holds it).
    """
    from scipy import stats

    fits = fit_models(per_N, quantity, ("constant", "offset"), trans, n_boot, seed, level,
                      beta_bounds)
    off = fits[fits.model == "offset"].iloc[0]
    const = fits[fits.model == "constant"].iloc[0]
    out = {"quantity": quantity, "ok": bool(off["ok"]), "reason": off["reason"],
           "note": off["note"], "k": int(off["k"]), "dof": int(off["dof"]),
           "N_ref": off["N_ref"], "level": level}
    for src, dst in (("w_inf", "J_inf"), ("a", "b"), ("beta", "beta"), ("amp_ref", "b_ref")):
        for suffix in ("", "_se", "_lo", "_hi", "_boot_lo", "_boot_hi"):
            if src + suffix in off:
                out[dst + suffix] = float(off[src + suffix])
    out.update({"chi2": float(off["chi2"]), "p_lack_of_fit": float(off["p_lack_of_fit"]),
                "J_const": float(const["w_inf"]), "J_const_se": float(const["w_inf_se"]),
                "p_N_dependence": float(lrt_table(fits).set_index("null").loc["constant", "p"])})
    out.update({"bulk_limit": math.nan, "bulk_diff": math.nan, "bulk_z": math.nan,
                "bulk_p": math.nan, "bulk_in_ci": None})
    name = {"J_ch": "J_c(∞)", "J_FP": "J_FP(∞)"}.get(quantity, f"{quantity}(∞)")
    pct = f"{100 * level:g} %"
    if not out["ok"]:
        out["statement"] = f"{name} undetermined: {out['reason']}"
    elif out["dof"] < 1:
        out["statement"] = (f"{name} undetermined: {out['k']} N values leave the offset "
                            f"power law 0 dof")
    else:
        out["statement"] = (f"{name} = {out['J_inf']:.3f} [{out['J_inf_lo']:.3f}, "
                            f"{out['J_inf_hi']:.3f}] ({pct}, β_J = {out['beta']:.2f})")
    if bulk_limit is not None and np.isfinite(bulk_limit):
        out["bulk_limit"] = float(bulk_limit)
        if out["ok"] and np.isfinite(out["J_inf_se"]) and out["J_inf_se"] > 0:
            d = out["J_inf"] - bulk_limit
            zz = d / out["J_inf_se"]
            out.update({"bulk_diff": d, "bulk_z": zz, "bulk_p": float(2 * stats.norm.sf(abs(zz))),
                        "bulk_in_ci": bool(out["J_inf_lo"] <= bulk_limit <= out["J_inf_hi"])})
            inside = out["bulk_in_ci"]
            blo, bhi = out.get("J_inf_boot_lo", math.nan), out.get("J_inf_boot_hi", math.nan)
            if np.isfinite(blo) and np.isfinite(bhi):
                out["bulk_in_boot_ci"] = bool(blo <= bulk_limit <= bhi)
                inside = inside or out["bulk_in_boot_ci"]
            if out["dof"] >= 1:
                out["statement"] += (f"; bulk theory N→∞: {bulk_limit:.3f} — "
                                     + ("compatible" if inside else f"differs at {pct}")
                                     + f" (z = {zz:.1f})")
    return out

