"""Rule fig2_fixed_point: the homogeneous fixed point vs N, I0 and J0 (paper Fig 2)."""
import pandas as pd

from stdnet.params import ModelParams
from stdnet.plotting import save_figure
from stdnet.plotting.simulation import fig_fixed_point
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
base = ModelParams.from_config(p.model, N=p.heat_N, J0=p.fig["J0_cut"])
fig = fig_fixed_point(base, pd.read_csv(snakemake.input.runs), N_range=p.fig["N_theory"],  # noqa: F821
                      J0_cut=p.fig["J0_cut"], I0_cut=p.fig["I0_cut"], I0_range=p.fig["I0_range"],
                      J0_range=p.fig["J0_range"], heat_N=p.heat_N)
save_figure(fig, snakemake.output.png, snakemake.output.pdf)  # noqa: F821
