"""Statistics of the transition width w = J_ch - J_FP vs network size N (see docs/width.md).

Input: one row per realization (N, seed) with J_FP, J_ch and width = J_ch - J_FP (any sign;
NaN where an end was not found). Everything below works on the widths themselves: no
logarithm of a width (or of J) is ever taken, so zero and negative widths are ordinary data.

* `per_N_table`: per N, n / mean / sd / standard error / 95 % t-interval of the width, J_FP
  and J_ch, with the realizations that have no width counted in `n_missing`.
* `fit_models`: the per-N mean widths, weighted by their standard errors (treated as known),
  fitted by three models -- constant w = w_inf, pure power law w = a N^-beta and offset
  power law w = w_inf + a N^-beta -- with covariance (Wald) and, optionally, bootstrap
  confidence intervals, chi^2, dof, lack-of-fit p, AIC, AICc and Akaike weights.
* `lrt_table`: likelihood-ratio tests of the nested pairs (power, constant) in offset.
* `fit_limit`: J(N) = J_inf + b N^-beta_J for J_ch or J_FP with its own exponent, compared
  with a number (the bulk theory's N -> inf limit of J_FP, see `bulk_limit`).
* `verdict`: one sentence-level summary of what the data support about w_inf.
* `power_study`, `power_scan`: synthetic data with today's spread, fitted by the same
  machinery, to size the next runs.
* `analyse`: all of the above from one transition table.

Fitting method: variable projection. For a fixed exponent beta the models are linear in
(w_inf, a), so chi^2 is minimised exactly over them; the profile chi^2(beta) is scanned on a
grid inside `beta_bounds` and refined by a bounded scalar minimisation around the best grid
point. That is the weighted nonlinear least-squares solution, found without starting values.
Parameter covariance: (J^T J)^-1 with J the Jacobian of the weighted residuals (known SEs).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import minimize_scalar

LEVEL = 0.95
MODELS = ("constant", "power", "offset")
N_PARAMS = {"constant": 1, "power": 2, "offset": 3}
MODEL_LABELS = {"constant": "constant  w = w∞",
                "power": "power law  w = a N^-β",
                "offset": "offset power law  w = w∞ + a N^-β"}
PARAM_NAMES = ("w_inf", "a", "beta", "amp_ref")  # amp_ref = a N_ref^-beta
BETA_BOUNDS = (0.05, 4.0)
QUANTITIES = ("width", "J_FP", "J_ch")
_GRID = 160


# ----------------------------------------------------------------------------- per-N table
def _t_stats(values: np.ndarray, level: float) -> dict:
    n = int(values.size)
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "se": se, "lo": mean - half, "hi": mean + half}


def per_N_table(trans: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per N: count, mean, sd, standard error and `level` t-interval of width, J_FP, J_ch.

    trans: one row per realization with columns N, seed, J_FP, J_ch and width (computed as
    J_ch - J_FP when absent); optional J_ch_resolution, J_FP_resolution (length of the
    bracket that holds each end) and status. Returns one row per N with

      N, n_total, n (realizations with a finite width), n_missing (without one: an end
      not found), n_missing_J_FP, n_missing_J_ch,
      {q}_n, {q}_mean, {q}_sd, {q}_se, {q}_lo, {q}_hi  for q in width, J_FP, J_ch
      (statistics over the realizations where q is finite),
      {q}_se_floor  (resolution / sqrt(12 n) when resolution columns are given, else 0;
      the fits never use an SE below it),
      J_ch_resolution, J_FP_resolution (mean bracket length; NaN when not given),
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
                res[q] = r
                row[col] = float(np.nanmean(r)) if np.isfinite(r).any() else math.nan
            else:
                row[col] = math.nan
        for q in QUANTITIES:
            v = g[q].to_numpy(float)[finite[q]]
            s = _t_stats(v, level)
            for k, val in s.items():
                row[f"{q}_{k}"] = val
            # resolution floor: an end known only to within a bracket of length r is uniform in
            # it (sd r/sqrt(12)); the width carries both ends' brackets
            parts = [res[e][finite[q]] for e in (("J_FP", "J_ch") if q == "width" else (q,))
                     if e in res]
            if parts and s["n"] > 0:
                var = np.nansum([p ** 2 for p in parts], axis=0) / 12.0
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
    cols += ["J_ch_resolution", "J_FP_resolution", "status_counts", "note"]
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- fitting core
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
    return _clean(N, y, se, np.nan_to_num(floor, nan=0.0))


def _clean(N, y, se, floor):
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


def _linear_given_beta(x, y, W, betas, offset: bool):
    """For each beta: the weighted LS (w_inf, A) of y = w_inf + A x^-beta (or A x^-beta)
    and its chi^2 (vectorised over betas)."""
    F = x[None, :] ** (-np.asarray(betas, float)[:, None])
    Sy = (W * y).sum()
    Sfy = (W * F * y).sum(axis=1)
    S2 = (W * F * F).sum(axis=1)
    if offset:
        S0 = W.sum()
        S1 = (W * F).sum(axis=1)
        det = S0 * S2 - S1 * S1
        with np.errstate(divide="ignore", invalid="ignore"):
            w0 = (S2 * Sy - S1 * Sfy) / det
            A = (S0 * Sfy - S1 * Sy) / det
    else:
        w0 = np.zeros_like(S2)
        A = Sfy / S2
    resid = y[None, :] - w0[:, None] - A[:, None] * F
    chi2 = (W * resid * resid).sum(axis=1)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    return w0, A, chi2


def _fit_arrays(N, y, se, model: str, beta_bounds=BETA_BOUNDS, level: float = LEVEL,
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
    z = stats.norm.ppf(0.5 + level / 2)
    W = 1.0 / se ** 2
    x = N / N_ref
    try:
        if model == "constant":
            w0 = float((W * y).sum() / W.sum())
            chi2 = float((W * (y - w0) ** 2).sum())
            theta = np.array([w0])
            cov = np.array([[1.0 / W.sum()]])
            names = ("w_inf",)
        else:
            offset = model == "offset"
            lo, hi = beta_bounds
            grid = np.linspace(lo, hi, _GRID)
            _, _, chi2s = _linear_given_beta(x, y, W, grid, offset)
            if not np.isfinite(chi2s).any():
                raise FloatingPointError("no finite chi^2 on the beta grid")
            i = int(np.argmin(chi2s))
            prof = lambda b: float(_linear_given_beta(x, y, W, [b], offset)[2][0])  # noqa: E731
            a_, b_ = grid[max(i - 1, 0)], grid[min(i + 1, _GRID - 1)]
            res = minimize_scalar(prof, bounds=(a_, b_), method="bounded",
                                  options={"xatol": 1e-7 * max(1.0, hi)})
            beta = float(res.x) if res.fun <= chi2s[i] else float(grid[i])
            w0, A, c2 = _linear_given_beta(x, y, W, [beta], offset)
            w0, A, chi2 = float(w0[0]), float(A[0]), float(c2[0])
            f = x ** (-beta)
            cols = ([1.0 / se] if offset else []) + [f / se, -A * f * np.log(x) / se]
            ia_ = 1 if offset else 0
            J = np.column_stack(cols)
            JTJ = J.T @ J
            if np.linalg.cond(JTJ) > 1e13:
                cov = np.full((len(cols), len(cols)), np.nan)
                row["note"] = "parameters not separately identified (singular covariance)"
            else:
                cov = np.linalg.inv(JTJ)
            A_se = math.sqrt(cov[ia_, ia_]) if np.isfinite(cov[ia_, ia_]) and \
                cov[ia_, ia_] >= 0 else math.nan
            row.update({"amp_ref": A, "amp_ref_se": A_se, "amp_ref_lo": A - z * A_se,
                        "amp_ref_hi": A + z * A_se})
            # (w_inf, A, beta) -> (w_inf, a = A N_ref^beta, beta)
            a = A * N_ref ** beta
            T = np.eye(len(cols))
            ia = 1 if offset else 0
            T[ia, ia] = N_ref ** beta
            T[ia, ia + 1] = a * math.log(N_ref)
            cov = T @ cov @ T.T
            theta = np.array(([w0] if offset else []) + [a, beta])
            names = (("w_inf",) if offset else ()) + ("a", "beta")
            span = hi - lo
            if min(beta - lo, hi - beta) < 1e-4 * span:
                row["note"] = ("; ".join(filter(None, [row["note"], f"beta at its bound "
                                                       f"[{lo:g}, {hi:g}]"])))
        if not np.isfinite(chi2):
            raise FloatingPointError("non-finite chi^2")
    except (FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        return _empty_row(model, k, f"fit failed: {exc}", N_ref)
    for j, name in enumerate(names):
        s = math.sqrt(cov[j, j]) if np.isfinite(cov[j, j]) and cov[j, j] >= 0 else math.nan
        row.update({name: float(theta[j]), name + "_se": s,
                    name + "_lo": float(theta[j]) - z * s, name + "_hi": float(theta[j]) + z * s})
    dof = k - p
    row.update({"ok": True, "chi2": chi2, "dof": dof,
                "p_lack_of_fit": float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan,
                "aic": chi2 + 2 * p,
                "aicc": chi2 + 2 * p + 2 * p * (p + 1) / (k - p - 1) if k - p - 1 > 0
                else math.nan,
                "cov": cov})
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


def _add_weights(fits: pd.DataFrame) -> pd.DataFrame:
    for crit in ("aic", "aicc"):
        v = fits[crit].to_numpy(float)
        ok = np.isfinite(v)
        delta = np.full(v.size, np.nan)
        wt = np.full(v.size, np.nan)
        if ok.any():
            delta[ok] = v[ok] - v[ok].min()
            e = np.exp(-0.5 * delta[ok])
            wt[ok] = e / e.sum()
        fits["delta_" + crit] = delta
        fits["weight_" + crit] = wt
    return fits


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
        r = _fit_arrays(N, y, se, m, beta_bounds, level, N_ref)
        if excl:
            r["note"] = "; ".join(filter(None, [r["note"], excl]))
        rows.append(r)
    fits = _add_weights(pd.DataFrame(rows))
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
        N_, y_, se_, _ = _clean(Ns, ys, ses, np.zeros_like(ses))
        for m in models:
            r = _fit_arrays(N_, y_, se_, m, beta_bounds, level, N_ref)
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
            row.update({"stat": stat, "p": float(stats.chi2.sf(stat, df)), "ok": True})
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- J(N) limits
def fit_limit(per_N: pd.DataFrame, quantity: str = "J_ch", bulk_limit: float | None = None,
              trans: pd.DataFrame | None = None, n_boot: int = 0, seed: int = 0,
              level: float = LEVEL, beta_bounds=BETA_BOUNDS) -> dict:
    """J(N) = J_inf + b N^-beta_J for J_ch (J_c) or J_FP, with its own exponent, and its
    comparison with `bulk_limit` (e.g. the bulk theory's N -> inf J_FP; see `bulk_limit`).

    Returns a dict: quantity, ok, reason, note, k, dof, N_ref, J_inf, b, beta, b_ref
    (= b N_ref^-beta) and their _se/_lo/_hi (Wald), chi2, p_lack_of_fit; J_const, J_const_se
    (the weighted mean, i.e. the constant model) and p_N_dependence (LRT constant in offset,
    2 df, approximate);
    with bootstrap: J_inf_boot_lo/_hi, b_boot_lo/_hi, beta_boot_lo/_hi; and bulk_limit,
    bulk_diff (J_inf - bulk_limit), bulk_z (diff / J_inf_se), bulk_p (two-sided, normal),
    bulk_in_ci (bulk_limit within the Wald CI), bulk_in_boot_ci (within the bootstrap CI, when
    there is one), statement (one sentence; 'compatible' when either interval holds it).
    """
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


def bulk_limit(model, N_values=(10 ** 7, 10 ** 8, 10 ** 9), J0_range=(0.3, 2.0)) -> dict:
    """The bulk theory's J_FP(N) at very large N and its N -> inf limit.

    Evaluates stdnet.bulk.bulk_jfp at the three sizes (geometric steps) and fits
    J = J_inf + c N^-g through them exactly (Richardson). Returns dict: N (list), J_FP (list),
    exponent g, J_inf (the extrapolation), J_last (the value at the largest N). With the
    default parameters J_FP converges like N^-1/2 and J_inf is about 0.711.
    """
    from .bulk import bulk_jfp

    N_values = [int(n) for n in N_values]
    J = [bulk_jfp(model, n, J0_range)[0] for n in N_values]
    out = {"N": N_values, "J_FP": J, "J_last": J[-1], "exponent": math.nan, "J_inf": J[-1]}
    if len(J) >= 3 and all(np.isfinite(J[-3:])):
        d1, d2 = J[-3] - J[-2], J[-2] - J[-1]
        r = N_values[-2] / N_values[-3]
        if d1 != 0 and d2 != 0 and d1 / d2 > 1:
            g = math.log(d1 / d2) / math.log(r)
            out["exponent"] = g
            out["J_inf"] = J[-1] - d2 / (r ** g - 1)
    return out


def bulk_curve(model, N_values, J0_range=(0.3, 2.0)) -> pd.DataFrame:
    """The bulk theory's J_FP(N) at the given sizes: DataFrame N, J_FP (for fig_width)."""
    from .bulk import bulk_jfp

    return pd.DataFrame({"N": [int(n) for n in N_values],
                         "J_FP": [bulk_jfp(model, int(n), J0_range)[0] for n in N_values]})


# ----------------------------------------------------------------------------- verdict
def _fmt_ci(v, lo, hi, digits=3):
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def verdict(fits: pd.DataFrame, lrt: pd.DataFrame | None = None, level: float = LEVEL,
            criterion: str = "aic", jch_fit: Mapping | None = None,
            jfp_fit: Mapping | None = None) -> str:
    """What the data support about the width at N -> inf, in words.

    Starts with 'undetermined:' when fewer than 4 N values are usable (with 2 only the
    constant has >= 1 dof; with 3 the offset power law has 0 dof) or the offset fit failed.
    Otherwise: the preferred model (largest Akaike weight by `criterion`: 'aic', the default,
    is the right small-sample criterion when the SEs are treated as known; 'aicc' adds the
    correction for an estimated variance and falls back to AIC where k - p - 1 <= 0),
    its lack-of-fit p, the LRT of w_inf = 0, and the statement about w_inf from the offset
    power law's interval: 'compatible with 0' when the interval holds 0 (both the Wald and,
    if present, the bootstrap interval must exclude 0 for 'w∞ > 0' / 'w∞ < 0'). Ends with
    the `statement`s of `jch_fit` (J_c(∞)) and `jfp_fit` (J_FP(∞)) when given.
    """
    pct = f"{100 * level:g} %"
    by = {r["model"]: r for _, r in fits.iterrows()}
    k = int(fits["k"].max()) if len(fits) else 0
    tail = "".join(f" {f['statement']}." for f in (jch_fit, jfp_fit) if f is not None)
    if lrt is None:
        lrt = lrt_table(fits)
    if k < 2:
        return (f"undetermined: {k} usable N value(s); nothing about the N-dependence of the "
                f"width can be said.{tail}")
    c = by.get("constant")
    const_txt = ""
    if c is not None and c["ok"] and c["dof"] >= 1:
        const_txt = (f"constant fit w = {_fmt_ci(c['w_inf'], c['w_inf_lo'], c['w_inf_hi'])} "
                     f"({pct}), χ²/dof = {c['chi2']:.1f}/{c['dof']}, "
                     f"p = {c['p_lack_of_fit']:.2g}")
    if k == 2:
        return (f"undetermined: only 2 N values — only the constant model can be fitted with "
                f"1 dof ({const_txt}); neither an N-dependence nor w∞ can be determined.{tail}")
    o = by.get("offset")
    if k == 3:
        pw = by.get("power")
        pw_txt = ""
        if pw is not None and pw["ok"]:
            beta_ci = _fmt_ci(pw["beta"], pw["beta_lo"], pw["beta_hi"], 2)
            pw_txt = (f"; pure power law β = {beta_ci}"
                      f", χ²/dof = {pw['chi2']:.1f}/{pw['dof']}")
        return (f"undetermined: only 3 N values — the offset power law w∞ + a N^-β has 0 dof "
                f"(it passes through the points), so w∞ is not determined ({const_txt}"
                f"{pw_txt}).{tail}")
    if o is None or not o["ok"]:
        why = o["reason"] if o is not None else "offset model not fitted"
        return f"undetermined: w∞ cannot be estimated ({why}).{tail}"
    crit = criterion
    if crit == "aicc" and not np.isfinite(fits["aicc"]).all():
        crit = "aic"
    wcol = "weight_" + crit
    ranked = fits[np.isfinite(fits[wcol])].sort_values(wcol, ascending=False)
    best = ranked.iloc[0]
    name = lambda r: r["label"].split("  ")[0]  # noqa: E731
    fit_txt = (f"χ²/dof = {best['chi2']:.1f}/{int(best['dof'])}"
               + (f", lack-of-fit p = {best['p_lack_of_fit']:.2g}"
                  if np.isfinite(best["p_lack_of_fit"]) else ""))
    close = ranked.iloc[1:][ranked.iloc[1:]["delta_" + crit] < 2.0]
    if len(close):
        others = ", ".join(f"{name(r)} ({r[wcol]:.2f})" for _, r in close.iterrows())
        parts = [f"The data do not clearly prefer one model: {name(best)} ({crit.upper()} "
                 f"weight {best[wcol]:.2f}; {fit_txt}) and {others} are within Δ{crit.upper()}"
                 f" < 2."]
    else:
        parts = [f"The data prefer the {name(best)} model ({crit.upper()} weight "
                 f"{best[wcol]:.2f}; {fit_txt})."]
    if np.isfinite(best["p_lack_of_fit"]) and best["p_lack_of_fit"] < 1 - level:
        parts.append("Warning: even this model does not describe the means (lack-of-fit p < "
                     f"{1 - level:.2g}); the intervals below are too narrow.")
    t = lrt.set_index("null")
    if "power" in t.index and t.loc["power", "ok"]:
        p = t.loc["power", "p"]
        parts.append(f"LRT w∞ = 0 (power law in offset power law): p = {p:.2g}"
                     + (f", rejected at {pct}." if p < 1 - level else f", not rejected at {pct}."))
    lo, hi = o["w_inf_lo"], o["w_inf_hi"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        parts.append(f"w∞ = {o['w_inf']:.3f}, interval undetermined ({o['note']}).")
    else:
        los, his = [lo], [hi]
        ci_txt = f"w∞ = {_fmt_ci(o['w_inf'], lo, hi)} ({pct}"
        if "w_inf_boot_lo" in o and np.isfinite(o.get("w_inf_boot_lo", np.nan)):
            los.append(o["w_inf_boot_lo"])
            his.append(o["w_inf_boot_hi"])
            ci_txt += f"; bootstrap [{o['w_inf_boot_lo']:.3f}, {o['w_inf_boot_hi']:.3f}]"
        ci_txt += ")"
        if all(v > 0 for v in los):
            parts.append(f"w∞ > 0 at {pct}: {ci_txt}.")
        elif all(v < 0 for v in his):
            parts.append(f"w∞ < 0 at {pct}: {ci_txt}.")
        elif lo > 0 or hi < 0:
            parts.append(f"{ci_txt}: compatible with 0 (the bootstrap interval holds 0, the "
                         f"covariance interval does not).")
        elif len(los) > 1 and (los[1] > 0 or his[1] < 0):
            parts.append(f"{ci_txt}: compatible with 0 (the covariance interval holds 0, the "
                         f"bootstrap interval does not).")
        else:
            parts.append(f"{ci_txt}: compatible with 0.")
    if k == 4:
        parts.append("(Only 4 N values: the offset power law has 1 dof.)")
    if o["note"]:
        parts.append(f"Offset fit: {o['note']}.")
    return " ".join(parts) + tail


def analyse(trans: pd.DataFrame, bulk_limit: float | None = None, n_boot: int = 2000,
            seed: int = 0, level: float = LEVEL, criterion: str = "aic",
            beta_bounds=BETA_BOUNDS) -> dict:
    """Everything from one transition table: dict per_N, fits, lrt, jch_fit, jfp_fit, verdict."""
    per_N = per_N_table(trans, level)
    fits = fit_models(per_N, "width", MODELS, trans, n_boot, seed, level, beta_bounds)
    lrt = lrt_table(fits)
    jch = fit_limit(per_N, "J_ch", bulk_limit, trans, n_boot, seed, level, beta_bounds)
    jfp = fit_limit(per_N, "J_FP", bulk_limit, trans, n_boot, seed, level, beta_bounds)
    return {"per_N": per_N, "fits": fits, "lrt": lrt, "jch_fit": jch, "jfp_fit": jfp,
            "verdict": verdict(fits, lrt, level, criterion, jch, jfp)}


# ----------------------------------------------------------------------------- power study
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
        N_, y_, se_, _ = _clean(N_values, y, se, np.zeros_like(se))
        rows = {m: _fit_arrays(N_, y_, se_, m, beta_bounds, level, N_ref) for m in MODELS}
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
            reject.append(stats.chi2.sf(stat, 1) < 1 - level)
        else:
            reject.append(False)
        fr = _add_weights(pd.DataFrame([rows[m] for m in MODELS]))
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
