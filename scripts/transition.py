"""Rule transition: J_FP, J_ch, width and route per realization; the width vs N compared
across models, J_c(inf) and J_FP(inf) with their own exponents, the verdict
(stdnet.widthstats); the bulk theory's J_FP(N) and its N -> inf limit."""
import numpy as np
import pandas as pd

from stdnet import widthstats
from stdnet.io import atomic_path
from stdnet.regimes import transition_table
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
inp, out = snakemake.input, snakemake.output  # noqa: F821
cfg = p.transition["width"]
regimes = pd.read_csv(inp.regimes)
jfp = pd.read_csv(inp.jfp) if "jfp" in inp.keys() else None
onset = pd.read_csv(inp.onset) if "onset" in inp.keys() else None
log.info("J_FP from %s; J_ch from %s", "the stability stage" if jfp is not None else
         "the regimes (grid)", "the onset search" if onset is not None else "the J0 grid")
trans = transition_table(regimes, jfp, onset)

limit = widthstats.bulk_limit(p.model, J0_range=tuple(p.J0_range))
Ns = trans["N"].to_numpy(float)
curve_N = np.unique(np.geomspace(Ns.min() / 2, Ns.max() * 4, 25).round().astype(int))
bulk = widthstats.bulk_curve(p.model, curve_N, J0_range=tuple(p.J0_range))
bulk["J_FP_inf"] = limit["J_inf"]
log.info("bulk theory: J_FP(N -> inf) = %.4f (from N = %s)", limit["J_inf"], limit["N"])

res = widthstats.analyse(trans, bulk_limit=limit["J_inf"], n_boot=int(cfg["bootstrap"]),
                         seed=int(cfg["seed"]), level=float(cfg["confidence"]))
limits = pd.DataFrame([res["jch_fit"], res["jfp_fit"]])
log.info("verdict: %s", res["verdict"])
for path, df in ((out.table, trans), (out.per_N, res["per_N"]),
                 (out.fit, res["fits"].drop(columns=["cov"], errors="ignore")),
                 (out.lrt, res["lrt"]), (out.limits, limits), (out.bulk, bulk)):
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
with atomic_path(out.verdict) as tmp:
    tmp.write_text(res["verdict"] + "\n")
