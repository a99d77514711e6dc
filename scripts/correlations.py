"""Rule correlations: the cancellation per block vs N, its fits, and the asynchrony verdict."""
import numpy as np
import pandas as pd

from stdnet.asynchrony import asynchrony_fits, recording_asynchrony, verdict
from stdnet.cancellation import analyse_recording, fit_terms, per_N_terms
from stdnet.correlations import read_inputs, recording_params
from stdnet.io import atomic_path
from stdnet.plotting import save_figure
from stdnet.plotting.correlations import asynchrony_figure, cancellation_figure
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
inp, out = snakemake.input, snakemake.output  # noqa: F821
cfg = snakemake.params.correlations  # noqa: F821
rows, spectra = [], {}
for path in inp.inputs:
    d = read_inputs(path)
    prm, rec = d["params"], d["recording"]
    model = recording_params(d)
    seed = int(prm["seed"])
    key = (model.J0, model.N)
    stats = analyse_recording(rec, model, cfg["n_surrogates"], seed, cfg["floor_factor"])
    async_stats, spec = recording_asynchrony(rec, model, cfg["welch_segment"])
    rows.append({"N": model.N, "J0": model.J0, "seed": seed, "K_E": model.K_E, "K_I": model.K_I,
                 "n_samples": int(rec["time"].size), "t_measure": float(d["settings"]["t_measure"]),
                 **stats, **async_stats})
    spectra.setdefault(key, []).append(spec)
    log.info("N=%d seed=%d: I targets, I block shared %.4g, correlation %.4g, measured %.4g "
             "(floor %.2g); X(nu_E) = %.3g", model.N, seed, stats["I.I.shared"],
             stats["I.I.corr"], stats["I.I.measured"], stats["I.I.floor"],
             async_stats["async.nu_E.excess"])
table = pd.DataFrame(rows)
if not table.empty:
    table = table.sort_values(["J0", "N", "seed"])
    worst = float(np.nanmax(np.abs(table.filter(like=".residual").to_numpy(float))))
    log.info("decomposition identity: largest |shared + corr - measured| = %.2e", worst)
# spectra averaged over realizations (same frequencies for one N and settings)
mean_spectra = {k: {s: np.mean([v[s] for v in vs], axis=0) for s in vs[0]}
                for k, vs in spectra.items()}
per = per_N_terms(table, cfg["floor_factor"]) if not table.empty else pd.DataFrame()
fits = fit_terms(per)
aper, afits = asynchrony_fits(table) if not table.empty else (pd.DataFrame(), pd.DataFrame())
text = verdict(aper, afits)
log.info("%s", text)
counts = (table.groupby("N").seed.nunique().to_dict() if not table.empty else {})
samples = ("Realizations per N: " + ", ".join(f"{N}: {n}" for N, n in counts.items())
           + f"; {cfg['n_sample']} targets per population (all where fewer), "
           f"{cfg['t_measure']:g} τ sampled every {cfg['sample_interval']:g} τ after the "
           f"simulation; {cfg['n_surrogates']} surrogates.")
with atomic_path(out.terms) as tmp:
    table.to_csv(tmp, index=False)
with atomic_path(out.per_N) as tmp:
    per.to_csv(tmp, index=False)
with atomic_path(out.fits) as tmp:
    fits.to_csv(tmp, index=False)
with atomic_path(out.asynchrony) as tmp:
    aper.to_csv(tmp, index=False)
with atomic_path(out.asynchrony_fits) as tmp:
    afits.to_csv(tmp, index=False)
with atomic_path(out.verdict) as tmp:
    tmp.write_text(text)
info = {"floor_factor": cfg["floor_factor"], "samples": samples}
save_figure(cancellation_figure(per, fits, info), out.png, out.pdf)
save_figure(asynchrony_figure(aper, afits, mean_spectra, info), out.async_png, out.async_pdf)
log.info("wrote %s and the figures", out.terms)
