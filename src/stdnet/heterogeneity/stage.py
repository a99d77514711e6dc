"""The heterogeneity stage's tables and verdict (rule heterogeneity): the per-network
measurements gathered, the stationary theory's lines vs K per ensemble, the (CV, J0) phase
diagram of the theory, and what holds and what breaks (docs/heterogeneity.md §5)."""
from __future__ import annotations

import logging
import math
import re

import numpy as np
import pandas as pd
from scipy import stats

from stdnet.files.errors import FixedPointError
from stdnet.heterogeneity.measure import POPULATIONS
from stdnet.heterogeneity.point import read_point
from stdnet.heterogeneity.settings import ensemble_params
from stdnet.model.params import ModelParams
from stdnet.onset.search import read_search
from stdnet.stats.fits import fit_power_law
from stdnet.theory.quenched import QuenchedTheory, moments_of
from stdnet.transition.width_models import per_N_table

log = logging.getLogger("stdnet.heterogeneity.stage")

_PATH = re.compile(r"heterogeneity/(?P<ensemble>[^/]+)/N~(?P<N>\d+)/seed~(?P<seed>\d+)/")
#: a variance below this is round-off, not a spread of inputs
ROUND_OFF_VARIANCE = 1e-12
#: theory statistics tabulated per ensemble and N (QuenchedState fields and silent fractions)
THEORY_KEYS = ("nu_E", "nu_I", "var_h_E", "var_h_I", "var_h_degree_E", "var_h_degree_I")


def network_of(path, file: str) -> dict:
    """{ensemble, N, seed} of a per-network file from its path."""
    m = _PATH.search(str(path))
    if m is None:
        raise ValueError(f"heterogeneity {file}: {path} is not "
                         f"heterogeneity/<ensemble>/N~<N>/seed~<seed>/{file}")
    return {"ensemble": m["ensemble"], "N": int(m["N"]), "seed": int(m["seed"])}


def collect_points(paths) -> pd.DataFrame:
    """One row per point file: ensemble, N, seed, the realized in-degree statistics, and the
    attrs of /stationary (stat_*), /jfp (jfp_*) and /chaos (chaos_*)."""
    rows = []
    for path in paths:
        d = read_point(path)
        row = {**network_of(path, "point.h5"), "K_E": int(d["params"]["K_E"]),
               "K_I": int(d["params"]["K_I"])}
        row.update({f"degree_{k}": v for k, v in d["degrees"].items() if k != "arrays"})
        for group, prefix in (("stationary", "stat_"), ("jfp", "jfp_"), ("chaos", "chaos_")):
            row.update({prefix + k: v for k, v in d[group].items() if k != "arrays"})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["ensemble", "N", "seed"]).reset_index(drop=True)


def theory_lines(model: dict, section: dict) -> pd.DataFrame:
    """The ensemble theory at J0_stationary for every ensemble and every theory_N: K, the
    THEORY_KEYS and the near-silent fractions silent_E, silent_I."""
    rows = []
    for ens in section["ensembles"]:
        for N in section["theory_N"]:
            p = ensemble_params(model, section, ens, N, section["J0_stationary"])
            row = {"ensemble": ens, "N": int(N), "K": p.K}
            try:
                th = QuenchedTheory(p)
                st = th.solve()
                row.update({k: getattr(st, k) for k in THEORY_KEYS})
                M = moments_of(st)
                row.update({f"silent_{a}": th.fraction_below(M, a, section["silent_rate"])
                            for a in POPULATIONS})
            except FixedPointError as e:
                log.warning("%s", e)
            rows.append(row)
    return pd.DataFrame(rows)


def phase_table(model: dict, section: dict) -> pd.DataFrame:
    """The theory over (CV, J0, N) for gamma in-degrees with rho = 0 (CV 0: the paper's
    network): near-silent fractions and whether balance holds (both at most silent_max)."""
    ph = section["phase"]
    rows = []
    for cv in ph["cv"]:
        hetero = ({"connectivity": "indegree_cv", "indegree_cv": float(cv)} if cv > 0
                  else {"connectivity": "fixed_indegree"})
        for N in ph["N"]:
            guess = None
            for J0 in sorted(ph["J0"]):
                p = ModelParams.from_config({**model, **hetero}, N=int(N), J0=float(J0))
                row = {"cv": float(cv), "N": int(N), "K": p.K, "J0": float(J0)}
                try:
                    th = QuenchedTheory(p)
                    st = th.solve(guess)
                    guess = moments_of(st)
                    row.update({f"silent_{a}": th.fraction_below(guess, a,
                                                                 section["silent_rate"])
                                for a in POPULATIONS})
                    row["var_h_I"] = st.var_h_I
                    row["balanced"] = max(row["silent_E"], row["silent_I"]) <= ph["silent_max"]
                except FixedPointError as e:
                    log.warning("%s", e)
                    guess = None
                rows.append(row)
    return pd.DataFrame(rows)


def growth_exponents(points: pd.DataFrame, keys) -> pd.DataFrame:
    """Per ensemble and key, the exponent of key ~ K^exponent (stats.fits.fit_power_law) on
    the per-N means over realizations, weighted by their standard errors where every size
    has at least two realizations (else unweighted; the interval is then a t interval on
    the scatter, nan with two sizes)."""
    rows = []
    for ens, g in points.groupby("ensemble"):
        for key in keys:
            # values at round-off (the paper's network's homogeneous state) carry no exponent
            v = g[np.isfinite(g[key]) & (g[key] > ROUND_OFF_VARIANCE)]
            per = v.groupby("K_E")[key].agg(["mean", "std", "count"]).reset_index()
            se = (per["std"] / np.sqrt(per["count"])).to_numpy(float)
            se = se if np.all(per["count"] >= 2) and np.all(se > 0) else None
            fit = fit_power_law(per.K_E.to_numpy(float), per["mean"].to_numpy(float), se)
            rows.append({"ensemble": ens, "key": key, "sizes": int(len(per)),
                         "realizations": int(len(v)), **{k: fit[k] for k in (
                             "exponent", "exponent_lo", "exponent_hi", "status")}})
    return pd.DataFrame(rows)


#: the measured keys whose growth with K the verdict reports
GROWTH_KEYS = ("stat_var_h_E", "stat_var_h_I", "chaos_var_h_E", "chaos_var_h_I")


def theory_deviation(points: pd.DataFrame) -> pd.DataFrame:
    """Per point and population, the stationary state against the realization's theory in
    the units of the homogeneous theory's test: (mean - theory)/sd_theory and
    sd/sd_theory - 1, with the tolerance 2/sqrt(K_E); both nan where the theory's sd is 0
    (the paper's network: one state for all neurons), whose absolute mean difference
    mean_diff is kept."""
    rows = []
    for _, r in points.iterrows():
        if not r.get("stat_converged", False):
            continue
        for a in POPULATIONS:
            sd = math.sqrt(r[f"stat_theory_var_h_{a}"])
            diff = r[f"stat_mean_h_{a}"] - r[f"stat_theory_mean_h_{a}"]
            rows.append({"ensemble": r.ensemble, "N": r.N, "seed": r.seed, "population": a,
                         "mean_diff": diff,
                         "mean_dev": diff / sd if sd > 0 else math.nan,
                         "sd_ratio_minus_1": (math.sqrt(r[f"stat_var_h_{a}"]) / sd - 1
                                              if sd > 0 else math.nan),
                         "tolerance": 2 / math.sqrt(r.K_E)})
    return pd.DataFrame(rows)


def _theory_exponent(theory: pd.DataFrame, ens: str, key: str) -> float:
    """d log(key)/d log K between the two largest theory sizes."""
    g = theory[(theory.ensemble == ens)].dropna(subset=[key]).sort_values("K")
    if len(g) < 2 or (g[key].iloc[-2:] <= 0).any():
        return math.nan
    (k1, k2), (v1, v2) = g.K.iloc[-2:].to_numpy(float), g[key].iloc[-2:].to_numpy(float)
    return math.log(v2 / v1) / math.log(k2 / k1)


def _lyapunov_word(lam: float, hw: float) -> str:
    if not np.isfinite(lam):
        return "not measured"
    if lam - hw > 0:
        return "chaotic"
    if lam + hw < 0:
        return "not chaotic"
    return "undecided"


def verdict(points: pd.DataFrame, theory: pd.DataFrame, growth: pd.DataFrame,
            deviation: pd.DataFrame, section: dict) -> str:
    """What holds and what breaks, per ensemble, in words and numbers."""
    lines = [f"Heterogeneity stage: {points.ensemble.nunique()} ensembles, N = "
             f"{sorted(points.N.unique().tolist())}, {points.seed.nunique()} realization(s) each; "
             f"stationary J0 = {section['J0_stationary']:g}, Rate Chaos J0 = "
             f"{section['J0_chaos']:g}, near-silent below {section['silent_rate']:g}/tau.", ""]
    spread = deviation.dropna(subset=["mean_dev"]) if not deviation.empty else deviation
    if not spread.empty:
        ok = (spread.mean_dev.abs() < spread.tolerance) & (
            spread.sd_ratio_minus_1.abs() < spread.tolerance)
        lines.append(f"Stationary theory against the brute-force state: {int(ok.sum())} of "
                     f"{len(ok)} (network, population) pairs with a spread of inputs within "
                     f"2/sqrt(K_E); largest |mean deviation| {spread.mean_dev.abs().max():.3f} "
                     f"sd, largest |sd ratio - 1| {spread.sd_ratio_minus_1.abs().max():.3f}; "
                     f"homogeneous states: largest |mean difference| "
                     f"{deviation[deviation.mean_dev.isna()].mean_diff.abs().max():.2g}.")
    not_conv = points[~points.stat_converged.astype(bool)]
    if len(not_conv):
        lines.append(f"No stationary state after t_settle (Newton failed) for "
                     f"{len(not_conv)} network(s): " + ", ".join(
                         f"{r.ensemble} N={r.N} seed={r.seed}" for r in not_conv.itertuples()))
    lines.append("")
    for ens, g in points.groupby("ensemble", sort=False):
        lines.append(f"[{ens}] {section['ensembles'].get(ens, {})}")
        for key in ("stat_var_h_I", "chaos_var_h_I"):
            row = growth[(growth.ensemble == ens) & (growth.key == key)]
            if row.empty:
                continue
            r = row.iloc[0]
            where = "stationary" if key.startswith("stat") else "Rate Chaos (time-averaged)"
            if r.status in ("ok", "unweighted") and np.isfinite(r.exponent_lo):
                lines.append(f"  quenched I input variance, {where}: ~ K^{r.exponent:.2f} "
                             f"[{r.exponent_lo:.2f}, {r.exponent_hi:.2f}] ({r.sizes} sizes, "
                             f"{r.realizations} networks)")
            elif r.status in ("ok", "unweighted"):
                lines.append(f"  quenched I input variance, {where}: ~ K^{r.exponent:.2f}, no "
                             f"interval ({r.sizes} sizes, {r.realizations} networks): "
                             "undecided at these sizes")
            else:
                lines.append(f"  quenched I input variance, {where}: no fit ({r.status})")
        b = _theory_exponent(theory, ens, "var_h_degree_I")
        if np.isfinite(b):
            lines.append(f"  theory: its in-degree part grows ~ K^{b:.2f} at the largest "
                         f"theory sizes (balance breaks as N grows where this is near 1)")
        big = g[g.N == g.N.max()]
        lines.append(f"  N = {int(g.N.max())}: near-silent E/I {big.stat_silent_E.mean():.3f}/"
                     f"{big.stat_silent_I.mean():.3f} (stationary), "
                     f"{big.chaos_silent_E.mean():.3f}/{big.chaos_silent_I.mean():.3f} (chaos)")
        for N, gn in g.groupby("N"):
            v = gn.jfp_J_FP.to_numpy(float) if "jfp_J_FP" in gn else np.array([])
            routes = ", ".join(sorted(set(gn.get("jfp_route", pd.Series(dtype=str)).astype(str))))
            jfp = (f"J_FP {np.nanmean(v):.3f}" + (f" ± {np.nanstd(v):.3f}" if np.isfinite(v).sum() > 1 else "")
                   if np.isfinite(v).any() else "J_FP not found")
            words = [_lyapunov_word(r.chaos_lambda_max, r.chaos_lambda_half_width)
                     for r in gn.itertuples()]
            lam = ", ".join(f"{r.chaos_lambda_max:.4f} ± {r.chaos_lambda_half_width:.4f}"
                            for r in gn.itertuples())
            lines.append(f"  N = {N}: {jfp} ({routes}); lambda_max at J0 = "
                         f"{section['J0_chaos']:g}: {lam} -> {', '.join(words)}")
        lines.append("")
    return "\n".join(lines) + "\n"


# ---- J_ch per realization and the width of the transition region ------------------------
def collect_onsets(paths) -> pd.DataFrame:
    """One row per onset.json: ensemble, N, seed and the search's row
    (stdnet.onset.search.OnsetSearch.row, the "crossing" estimator)."""
    rows = []
    for path in paths:
        row = read_search(path).row("crossing")
        row.update(network_of(path, "onset.json"))
        rows.append(row)
    cols = ["ensemble", "N", "seed"]
    df = pd.DataFrame(rows)
    return df[cols + [c for c in df.columns if c not in cols]] if rows else df


def width_table(points: pd.DataFrame, onsets: pd.DataFrame) -> pd.DataFrame:
    """Per searched realization: J_ch (and its interval, se, method, status), J_FP of its
    branch with its bisection bracket (J_FP_resolution; nan where not searched or censored),
    and the width J_ch - J_FP (nan where either end is missing, kept in the table)."""
    if onsets.empty:
        return pd.DataFrame(columns=["ensemble", "N", "seed", "K_E", "J_FP", "J_ch", "width"])
    keys = ["ensemble", "N", "seed"]
    jfp = points[keys + ["K_E", "jfp_J_FP", "jfp_route", "jfp_J0_stable", "jfp_J0_unstable"]]
    t = onsets.merge(jfp, on=keys, how="left")
    t["J_FP"] = pd.to_numeric(t.pop("jfp_J_FP"), errors="coerce")
    t["J_FP_resolution"] = t.pop("jfp_J0_unstable") - t.pop("jfp_J0_stable")
    t["width"] = t["J_ch"] - t["J_FP"]
    t["status"] = t["onset_status"]
    front = keys + ["K_E", "J_FP", "J_FP_resolution", "jfp_route", "J_ch", "J_ch_se",
                    "J_ch_ci_lo", "J_ch_ci_hi", "J_ch_method", "width"]
    return t[front + [c for c in t.columns if c not in front]].sort_values(keys) \
        .reset_index(drop=True)


def width_per_N(widths: pd.DataFrame) -> pd.DataFrame:
    """Per ensemble and N: the transition stage's per-N statistics of width, J_FP and J_ch
    (stdnet.transition.width_models.per_N_table: means, sd, standard errors, t intervals and
    the per-realization measurement floors; realizations without a width are counted and
    named in `note`, never dropped silently)."""
    parts = []
    for ens, g in widths.groupby("ensemble", sort=False):
        per = per_N_table(g)
        per.insert(0, "ensemble", ens)
        parts.append(per)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def mean_standard_errors(per: pd.DataFrame, q: str) -> np.ndarray:
    """Standard errors of the per-N means of q (width_per_N rows): the scatter's, never below
    the measurement floor (the floor alone where one realization gives no scatter)."""
    return np.maximum(np.nan_to_num(per[f"{q}_se"].to_numpy(float), nan=0.0),
                      per[f"{q}_se_floor"].to_numpy(float))


def shrink_test(per: pd.DataFrame, q: str = "width", level: float = 0.95) -> dict:
    """Does the per-N mean of q fall from the smallest to the largest N that has it?
    Difference d = mean(small) - mean(large) with se = sqrt(se_small^2 + se_large^2) (each
    at least its measurement floor) and a t interval with the Welch-Satterthwaite degrees
    of freedom of the two scatters (the normal quantile where both are below the floors).
    Verdict 'shrinks' / 'grows' where the interval excludes 0, else 'undecided'."""
    have = per[(per[f"{q}_n"] >= 1) & np.isfinite(per[f"{q}_mean"])].sort_values("N")
    if len(have) < 2:
        return {"N_small": math.nan, "N_large": math.nan, "d": math.nan, "lo": math.nan,
                "hi": math.nan, "verdict": f"fewer than 2 sizes with a {q}"}
    a, b = have.iloc[0], have.iloc[-1]
    ses = mean_standard_errors(have, q)
    sa, sb = float(ses[0]), float(ses[-1])
    d = float(a[f"{q}_mean"] - b[f"{q}_mean"])
    se = math.hypot(sa, sb)
    na, nb = int(a[f"{q}_n"]), int(b[f"{q}_n"])
    if na < 2 or nb < 2:
        return {"N_small": int(a.N), "N_large": int(b.N), "d": d, "lo": math.nan,
                "hi": math.nan, "verdict": "undecided (one realization at an end: no scatter)"}
    num = se ** 4
    den = sa ** 4 / (na - 1) + sb ** 4 / (nb - 1)
    dof = num / den if den > 0 else math.inf
    q_t = stats.t.ppf(0.5 + level / 2, dof) if math.isfinite(dof) else stats.norm.ppf(
        0.5 + level / 2)
    lo, hi = d - q_t * se, d + q_t * se
    word = "shrinks" if lo > 0 else ("grows" if hi < 0 else "undecided")
    return {"N_small": int(a.N), "N_large": int(b.N), "d": d, "lo": lo, "hi": hi,
            "dof": dof, "verdict": word}


def onset_verdict(widths: pd.DataFrame, per: pd.DataFrame, section: dict,
                  level: float = 0.95) -> str:
    """The J_ch and width part of the verdict, per searched ensemble."""
    o = section.get("onset", {})
    if widths.empty:
        return ("J_ch per realization: not searched (heterogeneity.onset.ensembles is "
                "empty); whether the transition region shrinks in these ensembles is open.\n")
    lines = [f"J_ch per realization (onset search: grid {o.get('J0')}, resolution "
             f"{o.get('resolution')}, zero_tol {o.get('zero_tol')}; J_ch = the fitted zero "
             f"crossing of lambda_max), width = J_ch - J_FP; means with {level:.0%} t "
             "intervals over realizations:"]
    for ens, g in per.groupby("ensemble", sort=False):
        lines.append(f"[{ens}]")
        for r in g.itertuples():
            def fmt(q):
                n = getattr(r, f"{q}_n")
                if n == 0:
                    return f"{q} -"
                m, lo, hi = (getattr(r, f"{q}_{k}") for k in ("mean", "lo", "hi"))
                ci = f" [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else ""
                return f"{q} {m:.3f}{ci} (n={n})"
            lines.append(f"  N = {r.N}: {fmt('J_FP')}; {fmt('J_ch')}; {fmt('width')}"
                         + (f"; {r.status_counts}" if r.status_counts else "")
                         + (f"; {r.note}" if r.note else ""))
        for q in ("width", "J_ch"):
            t = shrink_test(g, q, level)
            if math.isfinite(t["d"]) and math.isfinite(t["lo"]):
                lines.append(f"  {q}: N = {t['N_small']} minus N = {t['N_large']}: "
                             f"{t['d']:+.3f} [{t['lo']:+.3f}, {t['hi']:+.3f}] -> {t['verdict']}")
            else:
                lines.append(f"  {q}: {t['verdict']}")
    return "\n".join(lines) + "\n"
