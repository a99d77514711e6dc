"""Rule transition_figures: regime map per N; the transition width and both ends vs N with
the fitted models, the bulk theory and the verdict."""
import pandas as pd

from stdnet.plotting import save_figure
from stdnet.plotting.lyapunov import fig_regime_map
from stdnet.plotting.width import fig_width
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
inp, out = snakemake.input, snakemake.output  # noqa: F821
note = snakemake.params.note  # noqa: F821
save_figure(fig_regime_map(pd.read_csv(inp.regimes), note), out.map_png, out.map_pdf)
limits = {r["quantity"]: r for r in pd.read_csv(inp.limits).to_dict("records")}
verdict = open(inp.verdict).read().strip()
fig = fig_width(pd.read_csv(inp.table), pd.read_csv(inp.per_N), pd.read_csv(inp.fit),
                limits.get("J_ch"), limits.get("J_FP"), pd.read_csv(inp.bulk), verdict,
                note=note)
save_figure(fig, out.width_png, out.width_pdf)
log.info("wrote the transition figures")
