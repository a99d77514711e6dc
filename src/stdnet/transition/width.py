"""Statistics of the transition width w = J_ch - J_FP vs network size N (see docs/width.md).

Input: one row per realization (N, seed) with J_FP, J_ch and width = J_ch - J_FP (any sign;
NaN where an end was not found). Everything works on the widths themselves: no logarithm of
a width (or of J) is ever taken, so zero and negative widths are ordinary data.

* `per_N_table` (stdnet.transition.width_models, importable here): per N, n / mean / sd / standard error / 95 % t-interval of the width,
  J_FP and J_ch, with the realizations that have no width counted in `n_missing`.
* `fit_models`, `bootstrap_fits`, `lrt_table`, `fit_limit`, `model_curve`
  (stdnet.transition.width_models): the per-N means fitted by a constant, a pure power law and an
  offset power law, compared; J_ch and J_FP extrapolated to N -> inf.
* `bulk_limit`, `bulk_curve` (here): the bulk theory's J_FP(N) and its N -> inf limit.
* `verdict` (here): one sentence-level summary of what the data support about w_inf.
* `censored_at_bounds`, `censored_text` (here): the realizations whose J_ch the grid only
  bounds (onset status "no chaos in range" / "chaotic at the lowest J0"), placed at their
  bound for the verdict's sensitivity sentence: the main analysis leaves them out (a width
  that was not measured is not invented), the sensitivity says whether that choice matters.
* `power_study`, `power_scan`, `spread_model`, `doubling` (stdnet.transition.width_power): synthetic
  data with today's spread, fitted by the same machinery, to size the next runs;
  `detectable_w_inf` (the verdict's power statement), `calibration_study`,
  `null_claim_rate` (synthetic studies run through the same analysis).
* `analyse` (here): all of the above from one transition table.

This module is the entry point of the width statistics: the names of widthmodels and
widthpower listed above are importable from it.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from stdnet.stats.calibrate import N_CAL
from stdnet.theory.bulk import bulk_jfp
from stdnet.transition.width_models import (
    BETA_BOUNDS,
    LEVEL,
    MODEL_LABELS,
    MODELS,
    N_PARAMS,
    PARAM_NAMES,
    QUANTITIES,
    bootstrap_fits,
    claims_w_inf,
    fit_limit,
    fit_models,
    limit_curve,
    lrt_table,
    model_curve,
    per_N_table,
)
from stdnet.transition.width_power import (
    PLANNED_DESIGN,
    calibration_study,
    detectable_w_inf,
    doubling,
    gaussian_jch_noise,
    null_claim_rate,
    power_scan,
    power_study,
    spread_model,
    synthetic_transition,
)

__all__ = ["LEVEL", "MODELS", "N_PARAMS", "MODEL_LABELS", "PARAM_NAMES", "BETA_BOUNDS",
           "QUANTITIES", "per_N_table", "fit_models", "bootstrap_fits", "lrt_table", "fit_limit",
           "model_curve", "bulk_limit", "bulk_curve", "verdict", "analyse", "spread_model",
           "power_study", "power_scan", "doubling", "claims_w_inf", "limit_curve",
           "detectable_w_inf", "null_claim_rate", "calibration_study", "synthetic_transition",
           "gaussian_jch_noise", "PLANNED_DESIGN", "CENSORED", "censored_at_bounds",
           "censored_text"]

#: onset statuses whose J_ch the grid only bounds: the column that holds the bound and the
#: side on which the true J_ch lies (J_ch above the top of the grid, or below its lowest
#: chaotic point)
CENSORED = {"no chaos in range": ("J_ch_lo", ">"), "chaotic at the lowest J0": ("J_ch_hi", "<")}


# ----------------------------------------------------------------------------- censoring
def censored_at_bounds(trans: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The realizations without a J_ch because the grid only bounds it, placed at the bound.

    trans: the per-realization table (columns N, seed, J_FP, J_ch, onset_status and the
    bound columns of CENSORED). Returns (a copy of trans in which each censored row with a
    finite bound and J_FP has J_ch = its bound and width = bound - J_FP, and the censored
    rows: N, seed, status, bound, side (">": J_ch lies above the bound, so the width is at
    least the imputed one; "<": at most)). Without an onset_status column, or without
    censored rows, the copy is trans itself and the second table is empty.
    """
    cols = ["N", "seed", "status", "bound", "side"]
    t = trans.copy()
    if "onset_status" not in t:
        return t, pd.DataFrame(columns=cols)
    jch = pd.to_numeric(t["J_ch"], errors="coerce").to_numpy(float)
    jfp = pd.to_numeric(t["J_FP"], errors="coerce").to_numpy(float)
    rows = []
    for status, (col, side) in CENSORED.items():
        if col not in t:
            continue
        bound = pd.to_numeric(t[col], errors="coerce").to_numpy(float)
        hit = ((t["onset_status"].astype(str) == status).to_numpy() & ~np.isfinite(jch)
               & np.isfinite(bound) & np.isfinite(jfp))
        for i in np.flatnonzero(hit):
            rows.append({"N": int(t["N"].iloc[i]),
                         "seed": t["seed"].iloc[i] if "seed" in t else None,
                         "status": status, "bound": float(bound[i]), "side": side})
        t.loc[hit, "J_ch"] = bound[hit]
        t.loc[hit, "width"] = bound[hit] - jfp[hit]
    return t, pd.DataFrame(rows, columns=cols)


def censored_text(censored: pd.DataFrame, imputed_verdict: str) -> str:
    """The verdict's sentence on censored realizations ('' without any): which were left
    out, and the verdict of the same analysis with each placed at its bound."""
    if not len(censored):
        return ""
    which = "; ".join(f"N = {r.N} seed {r.seed}: {r.status}, J_ch {r.side} {r.bound:g}"
                      for r in censored.itertuples())
    n = len(censored)
    low = (censored["side"] == ">").any()
    return (f" Censored: {n} realization{'s' if n > 1 else ''} ({which}) left out of the "
            f"width statistics above. Placed at {'their bounds' if n > 1 else 'its bound'}"
            + (" (a right-censored width is at least that, so its N's mean is still a lower "
               "bound)" if low else "")
            + f", the same analysis reads: {imputed_verdict}")


# ----------------------------------------------------------------------------- bulk theory
def bulk_limit(model, N_values=(10 ** 7, 10 ** 8, 10 ** 9), J0_range=(0.3, 2.0)) -> dict:
    """The bulk theory's J_FP(N) at very large N and its N -> inf limit (model: ModelParams;
    its N and J0 are replaced).

    Evaluates stdnet.theory.bulk.bulk_jfp at the three sizes (geometric steps) and fits
    J = J_inf + c N^-g through them exactly (Richardson). Returns dict: N (list), J_FP (list),
    exponent g, J_inf (the extrapolation), J_last (the value at the largest N). With the
    default parameters J_FP converges like N^-1/2 and J_inf is about 0.711.
    """
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
    """The bulk theory's J_FP(N) at the given sizes: DataFrame N, J_FP (for fig_width;
    model: ModelParams, its N and J0 are replaced)."""
    return pd.DataFrame({"N": [int(n) for n in N_values],
                         "J_FP": [bulk_jfp(model, int(n), J0_range)[0] for n in N_values]})



# ----------------------------------------------------------------------------- verdict
def _fmt_ci(v, lo, hi, digits=3):
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _end(v, open_, digits=3):
    return ("-∞" if v < 0 else "∞") if open_ or not np.isfinite(v) else f"{v:.{digits}f}"


def power_text(det: Mapping | None, level: float = LEVEL) -> str:
    """The power clause of the verdict from detectable_w_inf's dict ('' without one)."""
    if det is None:
        return ""
    pw = f"{100 * det['power']:g} %"
    if det.get("undetermined"):
        return f" Power: not determined ({det['undetermined']})."
    design = (f"N = {det['N'][0]}–{det['N'][-1]}, {len(det['N'])} sizes × "
              + (f"{det['n'][0]}" if len(set(det["n"])) == 1 else
                 "/".join(str(v) for v in det["n"])) + " realizations")
    return (f" Power: this design ({design}) detects w∞ > 0 with {pw} probability only for "
            f"w∞ ≥ {det['w_inf']:.3g} ({det['n_sim']} simulated studies with the measured "
            f"spreads and the {det['shape']} law's decay {det['a']:.3g} N^-{det['beta']:.2f}).")


def verdict(fits: pd.DataFrame, lrt: pd.DataFrame | None = None, level: float = LEVEL,
            criterion: str = "aic", jch_fit: Mapping | None = None,
            jfp_fit: Mapping | None = None, power: Mapping | None = None) -> str:
    """What the data support about the width at N -> inf, in words.

    Starts with 'undetermined:' when fewer than 4 N values are usable (with 2 only the
    constant has >= 1 dof; with 3 the offset power law has 0 dof) or the offset fit failed.
    Otherwise: the preferred model (largest Akaike weight by `criterion`: 'aic', the default;
    'aicc' falls back to AIC where k - p - 1 <= 0), its calibrated lack-of-fit p, the
    calibrated LRT of w_inf = 0, and the statement about w_inf from the offset power law's
    calibrated interval (profile likelihood with thresholds calibrated for SEs estimated
    from n realizations; transition.width_models.claims_w_inf): 'w∞ > 0 at 95 %' / 'w∞ < 0' when it
    excludes 0, else 'compatible with 0' followed by the power statement of `power`
    (transition.width_power.detectable_w_inf: the smallest w_inf this design detects with 80 %
    probability). The uncalibrated Wald and, if computed, bootstrap intervals are quoted for
    comparison only. Ends with the `statement`s of `jch_fit` (J_c(∞)) and `jfp_fit`.
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
        cal = bool(t.loc["power"].get("calibrated", False))
        parts.append("LRT w∞ = 0 (power law in offset power law"
                     + ("; calibrated" if cal else "") + f"): p = {p:.2g}"
                     + (f", rejected at {pct}." if p < 1 - level else f", not rejected at {pct}."))
    lo, hi = o["w_inf_lo"], o["w_inf_hi"]
    claim = claims_w_inf(o)
    if not claim:
        parts.append(f"w∞ = {o['w_inf']:.3f}, interval undetermined ({o['note']}).")
    else:
        cal = "calibrated" if o.get("interval_method", "").startswith("profile") else "Wald"
        ci_txt = (f"w∞ = {o['w_inf']:.3f} [{_end(lo, o.get('w_inf_lo_open', False))}, "
                  f"{_end(hi, o.get('w_inf_hi_open', False))}] ({pct}, {cal}")
        if cal == "calibrated" and np.isfinite(o.get("w_inf_wald_lo", np.nan)):
            ci_txt += f"; uncalibrated Wald [{o['w_inf_wald_lo']:.3f}, {o['w_inf_wald_hi']:.3f}]"
        if "w_inf_boot_lo" in o and np.isfinite(o.get("w_inf_boot_lo", np.nan)):
            ci_txt += f"; bootstrap [{o['w_inf_boot_lo']:.3f}, {o['w_inf_boot_hi']:.3f}]"
        ci_txt += ")"
        if claim == ">0":
            parts.append(f"w∞ > 0 at {pct}: {ci_txt}.")
        elif claim == "<0":
            parts.append(f"w∞ < 0 at {pct}: {ci_txt}.")
        else:
            parts.append(f"{ci_txt}: compatible with 0." + power_text(power, level))
    if k == 4:
        parts.append("(Only 4 N values: the offset power law has 1 dof.)")
    if o["note"]:
        parts.append(f"Offset fit: {o['note']}.")
    return " ".join(parts) + tail


def analyse(trans: pd.DataFrame, bulk_limit: float | None = None, n_boot: int = 2000,
            seed: int = 0, level: float = LEVEL, criterion: str = "aic",
            beta_bounds=BETA_BOUNDS, bulk_curve=None, n_cal: int = N_CAL,
            detect_sims: int = 200) -> dict:
    """Everything from one transition table: dict per_N, fits, lrt, jch_fit, jfp_fit, power
    (detectable_w_inf, None when detect_sims = 0 or fewer than 4 sizes), sensitivity (None
    without censored realizations, else dict censored, per_N, fits, lrt, verdict: the width
    analysis with each censored J_ch at its bound, censored_at_bounds) and verdict (ending
    with censored_text).

    bulk_curve: the bulk theory's J_FP(N) (table N, J_FP, or a callable); with it and
    bulk_limit, J_c(∞) and J_FP(∞) come from the models J_FP = J_bulk(N) + δ and
    J_ch = J_bulk(N) + δ + w∞ + a N^-β (fit_limit); without it, each from its own power law.
    n_cal: draws of the calibration of every interval and test (seeded by `seed`)."""
    per_N = per_N_table(trans, level)
    fits = fit_models(per_N, "width", MODELS, trans, n_boot, seed, level, beta_bounds, n_cal)
    lrt = lrt_table(fits)
    imputed, censored = censored_at_bounds(trans)
    sensitivity = None
    if len(censored):
        per_s = per_N_table(imputed, level)
        fits_s = fit_models(per_s, "width", MODELS, imputed, n_boot, seed, level, beta_bounds,
                            n_cal)
        lrt_s = lrt_table(fits_s)
        sensitivity = {"censored": censored, "per_N": per_s, "fits": fits_s, "lrt": lrt_s,
                       "verdict": verdict(fits_s, lrt_s, level, criterion)}
    jch = fit_limit(per_N, "J_ch", bulk_limit, trans, n_boot, seed, level, beta_bounds,
                    bulk_curve, n_cal)
    jfp = fit_limit(per_N, "J_FP", bulk_limit, trans, n_boot, seed, level, beta_bounds,
                    bulk_curve, n_cal)
    power = None
    if detect_sims and int(fits["k"].max()) >= 4:
        power = detectable_w_inf(per_N, fits, n_sim=int(detect_sims), seed=seed, level=level,
                                 beta_bounds=beta_bounds)
    text = verdict(fits, lrt, level, criterion, jch, jfp, power)
    if sensitivity is not None:
        text += censored_text(censored, sensitivity["verdict"])
    return {"per_N": per_N, "fits": fits, "lrt": lrt, "jch_fit": jch, "jfp_fit": jfp,
            "power": power, "sensitivity": sensitivity, "verdict": text}
