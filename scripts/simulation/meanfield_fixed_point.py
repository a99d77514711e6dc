"""Rule meanfield_fixed_point: the homogeneous fixed point vs N, I0 and J0 (paper Fig 2), drawn
from the theory table (rule fixed_point_theory) and the runs table."""
from stdnet.files.tables import read_table
from stdnet.model.params import ModelParams
from stdnet.plotting import save_figure
from stdnet.plotting.simulation import fig_fixed_point
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
base = ModelParams.from_config(p.model, N=p.heat_N, J0=p.fig["J0_cut"])
fig = fig_fixed_point(read_table(snakemake.input.theory), read_table(snakemake.input.runs),
                      base)
save_figure(fig, snakemake.output.png, snakemake.output.pdf)
