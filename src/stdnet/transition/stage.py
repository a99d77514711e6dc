"""The transition stage's results: the width statistics with the bulk theory, and their files.

`analyse_transition` takes the per-realization table (stdnet.transition.regimes.transition_table) to
everything the stage reports: the width statistics (stdnet.transition.width.analyse) with J_c(inf)
and J_FP(inf) compared with the bulk theory's N -> inf limit of J_FP, and the bulk theory's
J_FP(N) over the measured sizes for the figure. `write_results` and `read_results` are the
one definition of the files (rule transition writes them; transition_figures, width_power
and tools/width_interim read or write them):

    table    CSV   one row per realization (N, seed, J_FP, J_ch, width, route, ...)
    per_N    CSV   transition.width.per_N_table
    fit      CSV   transition.width_models.fit_models without the covariance column
    lrt      CSV   transition.width_models.lrt_table
    limits   CSV   the fit_limit dicts of J_ch and J_FP, one row each (column quantity)
    verdict  text  transition.width.verdict, one line
    bulk     CSV   N, J_FP (bulk theory) and J_FP_inf (its N -> inf limit)
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from stdnet.files.io import write_text
from stdnet.files.tables import write_table
from stdnet.model.params import ModelParams
from stdnet.transition import width as widthstats

log = logging.getLogger(__name__)

FILES = ("table", "per_N", "fit", "lrt", "limits", "verdict", "bulk")


def bulk_reference(model: dict, N, J0_range) -> tuple[dict, pd.DataFrame]:
    """The bulk theory's N -> inf limit of J_FP (transition.width.bulk_limit) and its J_FP(N) on 25
    geometric sizes from min(N)/2 to 4 max(N) (columns N, J_FP, J_FP_inf), for the model
    constants of config section `model`."""
    J0_range = tuple(J0_range)
    Ns = np.asarray(N, dtype=float)
    # the bulk theory replaces N and J0 at every size and coupling it evaluates
    model = ModelParams.from_config(model, N=int(Ns.max()), J0=float(J0_range[0]))
    limit = widthstats.bulk_limit(model, J0_range=J0_range)
    curve_N = np.unique(np.geomspace(Ns.min() / 2, Ns.max() * 4, 25).round().astype(int))
    bulk = widthstats.bulk_curve(model, curve_N, J0_range=J0_range)
    bulk["J_FP_inf"] = limit["J_inf"]
    log.info("bulk theory: J_FP(N -> inf) = %.4f (from N = %s)", limit["J_inf"], limit["N"])
    return limit, bulk


def analyse_transition(trans: pd.DataFrame, model, J0_range, width: dict) -> dict:
    """The stage's results from the per-realization table `trans`. model: config section
    `model`; J0_range: the J_FP search range of the bulk theory; width: config section
    `transition.width` (bootstrap, seed, confidence, calibration_draws, detect_sims).
    Returns transition.width.analyse's dict (per_N, fits, lrt, jch_fit, jfp_fit, power, verdict)
    with trans, bulk and bulk_limit added. The bulk theory's J_FP(N) enters the J_c(∞) and
    J_FP(∞) models (transition.width_models.fit_limit)."""
    limit, bulk = bulk_reference(model, trans["N"], J0_range)
    res = widthstats.analyse(trans, bulk_limit=limit["J_inf"], n_boot=int(width["bootstrap"]),
                             seed=int(width["seed"]), level=float(width["confidence"]),
                             bulk_curve=bulk,
                             n_cal=int(width.get("calibration_draws", widthstats.N_CAL)),
                             detect_sims=int(width.get("detect_sims", 200)))
    log.info("verdict: %s", res["verdict"])
    return {**res, "trans": trans, "bulk": bulk, "bulk_limit": limit}


def write_results(paths, res: dict) -> None:
    """The files of the module docstring, each atomically, for the keys of FILES that
    `paths` (a mapping, or Snakemake's output) has."""
    tables = {"table": res["trans"], "per_N": res["per_N"],
              "fit": res["fits"].drop(columns=["cov"], errors="ignore"), "lrt": res["lrt"],
              "limits": pd.DataFrame([res["jch_fit"], res["jfp_fit"]]), "bulk": res.get("bulk")}
    for key, df in tables.items():
        if key in paths.keys() and df is not None:
            write_table(df, paths[key])
    if "verdict" in paths.keys():
        write_text(paths["verdict"], res["verdict"] + "\n")


def read_results(paths) -> dict:
    """What `write_results` wrote, for the keys of FILES that `paths` has: trans, per_N,
    fits, lrt, bulk (DataFrames), jch_fit and jfp_fit (dicts, None where absent; from
    limits) and verdict (text)."""
    have = [k for k in FILES if k in paths.keys()]
    names = {"table": "trans", "fit": "fits"}
    out = {names.get(k, k): pd.read_csv(paths[k]) for k in have
           if k not in ("limits", "verdict")}
    if "limits" in have:
        limits = {r["quantity"]: r for r in pd.read_csv(paths["limits"]).to_dict("records")}
        out.update(jch_fit=limits.get("J_ch"), jfp_fit=limits.get("J_FP"))
    if "verdict" in have:
        with open(paths["verdict"]) as f:
            out["verdict"] = f.read().strip()
    return out
