"""Rule simulation_regimes: traces of E and I neurons in the three regimes (paper Fig 1)."""
from stdnet.plotting import save_figure
from stdnet.plotting.simulation import fig_regimes
from stdnet.simulation.simulate import read_simulation
from stdnet.simulation.summary import params_from_file
from stdnet.workflow.runtime import setup

log = setup(snakemake)
sims = [read_simulation(path) for path in snakemake.input.sims]
fig = fig_regimes(sims, [params_from_file(s) for s in sims])
save_figure(fig, snakemake.output.png, snakemake.output.pdf)
