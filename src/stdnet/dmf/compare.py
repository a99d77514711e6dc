"""DMF against simulations: which DMF solution a simulation is compared with, the
relative errors per quantity over seeds, and their fits against K (docs/dmf.md §8).

The finite-K DMF depends on N through K_E = c N_E (G = sqrt(K) J0 and gamma = K_I/K_E
in the mean equation), so a simulation of size N is compared with the DMF solved at
that same N, never with another N's. The balanced-limit DMF (finite_K false) is the
same for every N and is compared with all of them.

compare() is rule dmf_compare: DMF files and simulations in, the two tables (written
and read by write_tables / read_tables) and the figures' inputs (stdnet.dmf.figdata)
out. Which solves there are: stdnet.dmf.points.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stdnet.correlations.recording import autocovariance_lags, input_autocovariance
from stdnet.dmf import figdata as dmf_figdata
from stdnet.files.tables import write_table
from stdnet.model.params import ModelParams
from stdnet.stats import decorrelation_time, fit_offset_power

log = logging.getLogger("stdnet.dmf.compare")

POPS = ("E", "I")
# per quantity, the DMF value its relative error is measured against: the temporal and
# static parts of the variance are taken relative to the total Delta(0), because the
# DMF's static part q can be 0 (no quenched order) and then has no relative error of
# its own; this way the two parts' errors add up to the error of Delta(0)
REL_SCALE = {"nu_E": "nu_E", "nu_I": "nu_I", "x": "x", "mu_E": "mu_E", "mu_I": "mu_I",
             "var_E": "var_E", "var_I": "var_I",
             "var_temporal_E": "var_E", "var_temporal_I": "var_I",
             "var_static_E": "var_E", "var_static_I": "var_I",
             "tau_dec_E": "tau_dec_E", "tau_dec_I": "tau_dec_I"}
QUANTITIES = tuple(REL_SCALE)
CHAOS_VARIANCE = 1e-3  # a DMF with less temporal input variance than this is a fixed point


# ---------------------------------------------------------------------------
# the DMF solutions
# ---------------------------------------------------------------------------
def dmf_summary(d: dict) -> dict:
    """One row per DMF solution (a read_dmf dict): where it was solved and its quantities.

    dmf_N and dmf_K_E are inf for the balanced limit (finite_K false), which holds for
    every N."""
    info = d["info"]
    finite = bool(info["finite_K"])
    N = info.get("N", info.get("N_finite_K", 0))  # N_finite_K: files of the single-N stage
    tau = d["decorrelation_time"]
    row = {"dmf_N": float(N) if finite else math.inf,
           "dmf_K_E": float(info["K_E"]) if finite else math.inf, "dmf_finite_K": finite,
           "J0": float(info["J0"]), "I0": float(info["I0"]),
           "converged": bool(d["converged"]), "iterations": int(d["iterations"]),
           "wall_time_s": float(d["wall_time_s"]), "x": float(d["x_mean"][0]),
           "nu_E": float(d["signal_means"][0]), "nu_I": float(d["signal_means"][2])}
    for a, pop in enumerate(POPS):
        row.update({f"mu_{pop}": float(d["mu"][a]), f"var_{pop}": float(d["delta"][a, 0]),
                    f"var_static_{pop}": float(d["q"][a]),
                    f"var_temporal_{pop}": float(d["delta"][a, 0] - d["q"][a]),
                    f"tau_dec_{pop}": float(tau[a])})
    row["chaotic"] = max(row["var_temporal_E"], row["var_temporal_I"]) > CHAOS_VARIANCE
    return row


def dmf_table(solutions) -> pd.DataFrame:
    """dmf_summary of every solution, sorted by (N, I0, J0)."""
    rows = [dmf_summary(d) for d in solutions]
    if not rows:
        return pd.DataFrame(columns=["dmf_N", "dmf_K_E", "dmf_finite_K", "J0", "I0", "chaotic"])
    return pd.DataFrame(rows).sort_values(["dmf_N", "I0", "J0"]).reset_index(drop=True)


def matching_dmf(dmf: pd.DataFrame, N: int, J0: float, I0: float) -> pd.Series | None:
    """The DMF solution to compare with simulations of size N at (J0, I0): the finite-K
    solve at this very N, or the balanced-limit solve (the same for all N); None if
    there is neither. Several candidates are an error, never a silent choice."""
    same_point = np.isclose(dmf.J0, J0) & np.isclose(dmf.I0, I0)
    same_N = dmf.dmf_finite_K.astype(bool) & (dmf.dmf_N == N)
    limit = ~dmf.dmf_finite_K.astype(bool)
    cand = dmf[same_point & (same_N | limit)]
    if len(cand) > 1:
        raise ValueError(f"{len(cand)} DMF solutions match N={N}, J0={J0:g}, I0={I0:g} "
                         f"(dmf_N = {list(cand.dmf_N)}); expected one")
    return None if cand.empty else cand.iloc[0]


# ---------------------------------------------------------------------------
# the simulations
# ---------------------------------------------------------------------------
def simulation_observables(sim: dict) -> dict:
    """Per population: mean rate, mean input, input variance (temporal + static =
    the DMF's Delta(0)), its temporal and static parts, from a simulation file."""
    n = sim["neurons"]
    N_E = int(sim["params"]["N_E"])
    out = {}
    for pop, sl in (("E", slice(0, N_E)), ("I", slice(N_E, None))):
        hm, hv = n["h_mean"][sl], n["h_var"][sl]
        out[f"nu_{pop}"] = float(n["nu_mean"][sl].mean())
        out[f"mu_{pop}"] = float(hm.mean())
        out[f"var_temporal_{pop}"] = float(hv.mean())
        out[f"var_static_{pop}"] = float(hm.var())
        out[f"var_{pop}"] = float(hv.mean() + hm.var())
    out["x"] = float(n["x_mean"].mean())
    return out


def recorded_decorrelation_times(sim: dict, max_lag: float) -> dict:
    """Decorrelation time (docs/dmf.md) per population from the recorded h traces
    after the transient (a few neurons; nan where they do not fluctuate)."""
    t = sim["time"]
    keep = t >= sim["t_transient"]
    h = sim["recorded"]["h"][keep]
    idx = sim["recorded"]["index"]
    N_E = int(sim["params"]["N_E"])
    dt = float(t[1] - t[0])
    n_lags = autocovariance_lags(max_lag, dt, h.shape[0])
    out = {}
    for pop, sel in (("E", idx < N_E), ("I", idx >= N_E)):
        if not sel.any() or n_lags < 3:
            out[f"tau_dec_{pop}"] = np.nan
            continue
        temporal, _ = input_autocovariance(h[:, sel], n_lags)
        out[f"tau_dec_{pop}"] = decorrelation_time(np.arange(n_lags) * dt, temporal)
    return out


def simulation_K_E(params: dict) -> int:
    """K_E = c N_E of a simulation, from the parameters stored in its file."""
    fields = {f.name for f in dataclasses.fields(ModelParams)}
    return ModelParams(**{k: v for k, v in params.items() if k in fields}).K_E


def simulation_row(sim: dict, inputs: dict | None, max_lag: float) -> dict:
    """Observables of one simulation (a read_simulation dict) with its N, K_E, J0, seed.

    Decorrelation times come from the input recording of the correlations stage where
    there is one (a longer continuation with more neurons), else from the few traces
    recorded during the simulation."""
    p = sim["params"]
    row = {"N": int(p["N"]), "K_E": simulation_K_E(p), "J0": float(p["J0"]),
           "seed": int(p["seed"]), **simulation_observables(sim)}
    if inputs is not None:
        ac = inputs["autocov"]
        for pop in POPS:
            row[f"tau_dec_{pop}"] = decorrelation_time(ac["lags"], ac[f"{pop}_temporal"])
    else:
        row.update(recorded_decorrelation_times(sim, max_lag))
    return row


# ---------------------------------------------------------------------------
# relative errors and their fits
# ---------------------------------------------------------------------------
def _error_rows(group: pd.DataFrame, ref: pd.Series, I0: float) -> list[dict]:
    """Per quantity: the seed mean, spread and standard error of the simulations, and the
    signed relative error (sim - DMF) / |DMF scale| averaged over seeds."""
    rows = []
    N, J0 = int(group.N.iloc[0]), float(group.J0.iloc[0])
    for q in QUANTITIES:
        values = group[q].to_numpy(dtype=float) if q in group else np.array([np.nan])
        values = values[np.isfinite(values)]
        n = values.size
        mean = float(values.mean()) if n else math.nan
        sd = float(values.std(ddof=1)) if n > 1 else math.nan
        dv, scale = float(ref[q]), abs(float(ref[REL_SCALE[q]]))
        ok = np.isfinite(dv) and np.isfinite(scale) and scale > 0
        rel = (mean - dv) / scale if ok else math.nan
        rel_se = sd / math.sqrt(n) / scale if ok and n > 1 else math.nan
        rows.append({"N": N, "K_E": int(group.K_E.iloc[0]), "J0": J0, "I0": I0, "quantity": q,
                     "n_seeds": n, "sim_mean": mean, "sim_sd": sd,
                     "sim_se": sd / math.sqrt(n) if n > 1 else math.nan, "dmf": dv,
                     "rel_to": REL_SCALE[q], "rel_error": rel, "rel_error_se": rel_se,
                     "abs_rel_error": abs(rel), "dmf_N": float(ref.dmf_N),
                     "dmf_K_E": float(ref.dmf_K_E), "dmf_finite_K": bool(ref.dmf_finite_K),
                     "dmf_chaotic": bool(ref.chaotic), "dmf_converged": bool(ref.converged)})
    return rows


def discrepancy_table(sim: pd.DataFrame, dmf: pd.DataFrame, I0: float):
    """Every (N, J0) of the simulations against its matching DMF (matching_dmf).

    Returns (table, unmatched): one row per (N, J0, quantity), and the (N, J0) that have
    no DMF solution to compare with."""
    rows, unmatched = [], []
    for (N, J0), group in sim.groupby(["N", "J0"]):
        ref = matching_dmf(dmf, int(N), float(J0), I0)
        if ref is None:
            unmatched.append((int(N), float(J0)))
            continue
        rows += _error_rows(group, ref, I0)
    return pd.DataFrame(rows), unmatched


def _fit_points(g: pd.DataFrame) -> pd.DataFrame:
    """The points of one fit: a single-seed N has no standard error, and one unweighted
    point would turn the whole fit unweighted, so such N are left out while at least
    three N with standard errors remain (enough for a lack-of-fit test)."""
    g = g[np.isfinite(g.rel_error)]
    weighted = g[np.isfinite(g.rel_error_se) & (g.rel_error_se > 0)]
    return weighted if weighted.K_E.nunique() >= 3 else g


def verdict(fit: dict, level: float = 0.95) -> tuple[bool, str]:
    """Is the error consistent with one that vanishes like K^(-1/2): the offset a
    consistent with 0 (inside its interval) and an acceptable fit (lack-of-fit
    p >= 1 - level)? Undetermined without a weighted fit with dof >= 1."""
    if fit["status"] != "ok":
        return False, f"undetermined (fit status {fit['status']})"
    if not fit["dof"] >= 1:
        return False, (f"undetermined ({fit['n_points']} N: a lack-of-fit test needs at least "
                       "3 N with standard errors)")
    a_zero = fit["a_lo"] <= 0.0 <= fit["a_hi"]
    fit_ok = fit["p_lack_of_fit"] >= 1.0 - level
    if a_zero and fit_ok:
        return True, "consistent with a + b/sqrt(K), a = 0"
    if not fit_ok:
        return False, f"a + b/sqrt(K) rejected (lack-of-fit p = {fit['p_lack_of_fit']:.2g})"
    return False, f"offset a = {fit['a']:.3g} != 0 (error does not vanish as K -> inf)"


def error_fits(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (J0, quantity) of chaotic DMF points: the weighted fit of the signed relative
    error e(K) = a + b K^(-1/2) over N (weights: across-seed standard errors), with a and
    b, their intervals at `level`, the lack-of-fit chi2 and p, and the verdict."""
    rows = []
    if table.empty:
        return pd.DataFrame(rows)
    for (J0, q), g in table[table.dmf_chaotic].groupby(["J0", "quantity"], sort=False):
        pts = _fit_points(g.sort_values("K_E"))
        se = pts.rel_error_se.to_numpy(dtype=float)
        fit = fit_offset_power(pts.K_E.to_numpy(dtype=float), pts.rel_error.to_numpy(dtype=float),
                               se, power=-0.5, level=level)
        ok, text = verdict(fit, level)
        rows.append({"J0": J0, "I0": float(g.I0.iloc[0]), "quantity": q, **fit,
                     "level": level, "vanishes_like_inv_sqrt_K": ok, "verdict": text,
                     "N_values": " ".join(str(int(n)) for n in pts.N),
                     "seeds_per_N": " ".join(str(int(n)) for n in pts.n_seeds),
                     "N_left_out": " ".join(str(int(n)) for n in sorted(set(g.N) - set(pts.N))),
                     "dmf_finite_K": bool(g.dmf_finite_K.iloc[0])})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# rule dmf_compare: everything in, the tables and the figures' inputs out
# ---------------------------------------------------------------------------
@dataclass
class Comparison:
    """What rule dmf_compare writes: the tables and the inputs of its three figures
    (keyword arguments of stdnet.plotting.dmf's fig5_figure, approach_figure, and the
    runs of convergence_figure)."""

    table: pd.DataFrame  # discrepancy_table: one row per (N, J0, quantity)
    fits: pd.DataFrame  # error_fits
    fig5: dict
    approach: dict
    runs: list


def _log_fits(fits: pd.DataFrame) -> None:
    for r in fits.itertuples():
        log.info("J0=%g %s: e(K) = a + b K^-1/2, a = %.3g [%.3g, %.3g], b = %.3g [%.3g, %.3g], "
                 "chi2 = %.3g on %d dof (p = %.3g): %s", r.J0, r.quantity, r.a, r.a_lo, r.a_hi,
                 r.b, r.b_lo, r.b_hi, r.chi2, r.dof, r.p_lack_of_fit, r.verdict)


def compare(solutions, simulations, inputs: dict, read_recording, *, model_I0: float,
            figure_N: int, corr_max_lag: float, dmf_config: dict,
            model_config: dict) -> Comparison:
    """Every simulated N against the DMF of that N (paper Fig 5), the relative errors vs K
    and their 1/sqrt(K) fits, and the convergence of the solves.

    solutions: read_dmf dicts; simulations: read_simulation dicts (an iterable, consumed
    one at a time); inputs: path -> read_inputs dict of each input recording (the
    autocovariances and params suffice); read_recording: path -> read_inputs dict with
    the h traces, called only for the recordings of Fig 5's panels; model_I0: the I0 of
    the simulations; corr_max_lag: the lag window of the recorded decorrelation times."""
    solved = {}
    for d in solutions:
        info = d["info"]
        solved[(int(info.get("N", 0)), float(info["J0"]), float(info["I0"]))] = d
    dmf = dmf_table(solved.values())
    for r in dmf[~dmf.converged].itertuples():
        log.warning("DMF at N=%g, J0=%g, I0=%g did not converge", r.dmf_N, r.J0, r.I0)
    log.info("DMF solves: %d, wall time per solve: median %.1f s, max %.1f s", len(dmf),
             dmf.wall_time_s.median(), dmf.wall_time_s.max())
    recorded = {}
    for path, d in inputs.items():
        p = d["params"]
        recorded[(int(p["N"]), float(p["J0"]), int(p["seed"]))] = (path, d)
    rows = []
    for s in simulations:
        p = s["params"]
        rec = recorded.get((int(p["N"]), float(p["J0"]), int(p["seed"])))
        rows.append(simulation_row(s, None if rec is None else rec[1], corr_max_lag))
    sim = pd.DataFrame(rows)
    table, unmatched = discrepancy_table(sim, dmf, model_I0)
    for N, J0 in unmatched:
        log.info("no DMF solution for N=%d, J0=%g (not in dmf.J0): not compared", N, J0)
    fits = error_fits(table)
    _log_fits(fits)
    fig5, approach = dmf_figdata.figure_inputs(
        dmf, sim, table, fits, solved, recorded, read_recording, figure_N=figure_N,
        I0=model_I0, dmf_config=dmf_config, model_config=model_config)
    return Comparison(table, fits, fig5, approach, dmf_figdata.convergence_runs(solved))


def write_tables(cmp: Comparison, table_path, fits_path) -> None:
    """The discrepancy table and the error fits as CSV, each written atomically."""
    for frame, path in ((cmp.table, table_path), (cmp.fits, fits_path)):
        write_table(frame, path)


def read_tables(table_path, fits_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(discrepancy table, error fits) as written by write_tables."""
    return pd.read_csv(table_path), pd.read_csv(fits_path)
