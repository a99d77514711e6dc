"""Rule transition_figures: regime map per N and the transition width vs N with its fit."""
import pandas as pd

from stdnet.plotting import save_figure
from stdnet.plotting.lyapunov import fig_regime_map, fig_width_vs_N
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821
out = snakemake.output  # noqa: F821
note = snakemake.params.note  # noqa: F821
regimes = pd.read_csv(snakemake.input.regimes)  # noqa: F821
save_figure(fig_regime_map(regimes, note), out.map_png, out.map_pdf)
trans = pd.read_csv(snakemake.input.table)  # noqa: F821
per_N = pd.read_csv(snakemake.input.per_N)  # noqa: F821
fit = pd.read_csv(snakemake.input.fit).iloc[0].to_dict()  # noqa: F821
save_figure(fig_width_vs_N(trans, per_N, fit, note), out.width_png, out.width_pdf)
log.info("wrote the transition figures")
