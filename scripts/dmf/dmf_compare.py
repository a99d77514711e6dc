"""Rule dmf_compare: every simulated N against the finite-K DMF of that N (paper Fig 5),
the relative errors vs K and their 1/sqrt(K) fits, the convergence of the solves
(stdnet.dmf.compare.compare)."""
from functools import partial

from stdnet.correlations.recording import read_inputs
from stdnet.dmf.compare import compare, write_tables
from stdnet.dmf.files import read_dmf
from stdnet.plotting import save_figure
from stdnet.plotting.dmf import approach_figure, convergence_figure, fig5_figure
from stdnet.simulation.simulate import read_simulation
from stdnet.workflow.runtime import setup

log = setup(snakemake)
inp, out, prm = snakemake.input, snakemake.output, snakemake.params

result = compare(
    [read_dmf(path) for path in inp.dmf],
    (read_simulation(path) for path in inp.sims),  # one at a time
    # the autocovariances and params only: the recordings would need ~15 MB each
    {path: read_inputs(path, recording=("n_E",)) for path in inp.inputs},
    partial(read_inputs, recording=("n_E", "h")),  # the recordings of Fig 5's panels
    model_I0=float(prm.model_I0), figure_N=int(prm.figure_N), corr_max_lag=prm.corr_max_lag,
    dmf_config=prm.dmf, model_config=prm.model)
write_tables(result, out.table, out.fits)
save_figure(fig5_figure(**result.fig5), out.fig5, out.fig5_pdf)
save_figure(convergence_figure(result.runs), out.convergence, out.convergence_pdf)
save_figure(approach_figure(**result.approach), out.approach, out.approach_pdf)
log.info("wrote %s, %s and figures", out.table, out.fits)
