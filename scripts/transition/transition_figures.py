"""Rule transition_figures: regime map per N; the transition width and both ends vs N with
the fitted models, the bulk theory and the verdict."""
import pandas as pd

from stdnet.plotting import save_figure
from stdnet.plotting.transition import fig_regime_map, fig_width
from stdnet.transition.stage import read_results
from stdnet.workflow.runtime import setup

log = setup(snakemake)
inp, out = snakemake.input, snakemake.output
note = snakemake.params.note
save_figure(fig_regime_map(pd.read_csv(inp.regimes), note), out.map_png, out.map_pdf)
r = read_results(inp)
fig = fig_width(r["trans"], r["per_N"], r["fits"], r["jch_fit"], r["jfp_fit"], r["bulk"],
                r["verdict"], note=note)
save_figure(fig, out.width_png, out.width_pdf)
log.info("wrote the transition figures")
