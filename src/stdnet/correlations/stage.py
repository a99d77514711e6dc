"""The correlations stage over all recordings: one row per recording, then the tables vs N.

Per recording (an inputs.h5 of stdnet.correlations.recording): the covariance decomposition with
its within-run batch-means errors and its detection limits (surrogate floors;
stdnet.correlations.cancellation.analyse_recording) and the asynchrony of the
population rates (stdnet.correlations.asynchrony.recording_asynchrony). Over the recordings
(`analyse_recordings`): the per-N terms with their sampling errors (across realizations,
or the within-run error for a size with one realization, marked single) and their fits
(stdnet.correlations.cancellation; single-realization sizes enter only with fit_single), the per-N
excess factors, their fits and the verdict (stdnet.correlations.asynchrony), the spectra averaged over
the realizations of one (J0, N), and a sentence on the samples for the figure captions.
`write_tables` writes the tables and the verdict (the layout of rule correlations).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from stdnet.correlations.asynchrony import asynchrony_fits, recording_asynchrony, verdict
from stdnet.correlations.cancellation import analyse_recording, fit_terms, per_N_terms
from stdnet.correlations.recording import read_inputs, recording_params
from stdnet.files.io import write_text
from stdnet.files.tables import write_table

log = logging.getLogger(__name__)

#: the tables of `analyse_recordings` (also the names of rule correlations' outputs)
TABLES = ("terms", "per_N", "fits", "asynchrony", "asynchrony_fits")


def recording_row(path, cfg: dict) -> tuple[dict, tuple, dict]:
    """(row, (J0, N), spectra) of one recording: its realization, the decomposition terms
    with floors, and the excess factors; cfg: config section `correlations`."""
    d = read_inputs(path)
    prm, rec = d["params"], d["recording"]
    model = recording_params(d)
    seed = int(prm["seed"])
    stats = analyse_recording(rec, model, cfg["n_surrogates"], seed, cfg["floor_factor"])
    async_stats, spec = recording_asynchrony(rec, model, cfg["welch_segment"])
    row = {"N": model.N, "J0": model.J0, "seed": seed, "K_E": model.K_E, "K_I": model.K_I,
           "n_samples": int(rec["time"].size), "t_measure": float(d["settings"]["t_measure"]),
           **stats, **async_stats}
    log.info("N=%d seed=%d: I targets, I block shared %.4g, correlation %.4g ± %.2g, "
             "measured %.4g ± %.2g (detection limit %.2g; %s batches of %s tau); "
             "X(nu_E) = %.3g", model.N, seed, stats["I.I.shared"], stats["I.I.corr"],
             stats.get("I.I.corr_se", np.nan), stats["I.I.measured"],
             stats.get("I.I.measured_se", np.nan), stats["I.I.floor"],
             stats.get("I.n_batches", "no"), stats.get("I.batch_tau", "-"),
             async_stats["async.nu_E.excess"])
    return row, (model.J0, model.N), spec


def analyse_recordings(paths, cfg: dict) -> dict:
    """Every table of the stage from the recordings at `paths` (cfg: section
    `correlations`). Returns a dict: terms (one row per recording, sorted by J0, N, seed),
    per_N, fits (cancellation terms vs N), asynchrony, asynchrony_fits, verdict (text),
    spectra ({(J0, N): {signal: mean spectrum}}) and info (floor_factor and the samples
    sentence of the figure captions)."""
    rows, spectra = [], {}
    for path in paths:
        row, key, spec = recording_row(path, cfg)
        rows.append(row)
        spectra.setdefault(key, []).append(spec)
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values(["J0", "N", "seed"])
        worst = float(np.nanmax(np.abs(table.filter(like=".residual").to_numpy(float))))
        log.info("decomposition identity: largest |shared + corr - measured| = %.2e", worst)
    # spectra averaged over realizations (same frequencies for one N and settings)
    mean_spectra = {k: {s: np.mean([v[s] for v in vs], axis=0) for s in vs[0]}
                    for k, vs in spectra.items()}
    per = per_N_terms(table, cfg["floor_factor"]) if not table.empty else pd.DataFrame()
    fits = fit_terms(per, use_single=bool(cfg.get("fit_single", False)))
    aper, afits = asynchrony_fits(table) if not table.empty else (pd.DataFrame(), pd.DataFrame())
    text = verdict(aper, afits)
    log.info("%s", text)
    counts = (table.groupby("N").seed.nunique().to_dict() if not table.empty else {})
    samples = ("Realizations per N: " + ", ".join(f"{N}: {n}" for N, n in counts.items())
               + f"; {cfg['n_sample']} targets per population (all where fewer), "
               f"{cfg['t_measure']:g} τ sampled every {cfg['sample_interval']:g} τ after the "
               f"simulation; {cfg['n_surrogates']} surrogates for the detection limits.")
    return {"terms": table, "per_N": per, "fits": fits, "asynchrony": aper,
            "asynchrony_fits": afits, "verdict": text, "spectra": mean_spectra,
            "info": {"floor_factor": cfg["floor_factor"], "samples": samples,
                     "fit_single": bool(cfg.get("fit_single", False))}}


def write_tables(paths, res: dict) -> None:
    """The tables of `analyse_recordings` (CSV) and its verdict (text), each atomically;
    paths: a mapping (or Snakemake's output) with the names of TABLES and "verdict"."""
    for name in TABLES:
        write_table(res[name], paths[name])
    write_text(paths["verdict"], res["verdict"])
