"""Rule dmf_correlations: pairwise input correlations vs N, with power-law fits."""
import pandas as pd

from stdnet.correlations import power_law_fit, read_inputs
from stdnet.io import atomic_path
from stdnet.plotting import save_figure
from stdnet.plotting.dmf import correlations_figure
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
inp, out = snakemake.input, snakemake.output  # noqa: F821
rows, examples = [], {}
for path in inp.inputs:
    d = read_inputs(path)
    prm = d["params"]
    rows.append({"N": int(prm["N"]), "J0": float(prm["J0"]), "seed": int(prm["seed"]),
                 "K_E": int(prm["K_E"]), **d["stats"]})
    key = (float(prm["J0"]), int(prm["N"]))
    examples.setdefault(key, d["recording"])
table = pd.DataFrame(rows)
QUANTITIES = [f"{pop}.{q}" for pop in ("E", "I")
              for q in ("E.cov", "I.cov", "total.cov", "EI.cov", "E.corr", "I.corr", "total.corr",
                        "E.var", "I.var", "total.var")] + ["var_pop_nu_E", "var_pop_nu_I"]
fits = []
if not table.empty:
    table = table.sort_values(["J0", "N", "seed"])
    for J0, grp in table.groupby("J0"):
        for q in QUANTITIES:
            f = power_law_fit(grp["N"], grp[q])
            fits.append({"J0": J0, "quantity": q, **f})
            log.info("J0=%g %s ~ N^%.3f +- %.3f (sign %+d, %d points)", J0, q, f["exponent"],
                     f["stderr"], f["sign"], f["n_points"])
fits = pd.DataFrame(fits, columns=["J0", "quantity", "exponent", "stderr", "prefactor", "sign",
                                   "n_points"])
with atomic_path(out.table) as tmp:
    table.to_csv(tmp, index=False)
with atomic_path(out.fits) as tmp:
    fits.to_csv(tmp, index=False)
fig = correlations_figure(table, fits, examples)
save_figure(fig, out.png, out.pdf)
log.info("wrote %s, %s and the figure", out.table, out.fits)
