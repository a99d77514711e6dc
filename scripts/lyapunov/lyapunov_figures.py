"""Rule lyapunov_figures: lambda_max vs J0, convergence of lambda_max, Kaplan-Yorke dimension."""
import pandas as pd

from stdnet.lyapunov.files import convergence_series
from stdnet.plotting import save_figure
from stdnet.plotting.lyapunov import fig_convergence, fig_kaplan_yorke, fig_lambda_vs_J0
from stdnet.workflow.runtime import setup

log = setup(snakemake)
out = snakemake.output
note = snakemake.params.note
table = pd.read_csv(snakemake.input.table)
save_figure(fig_lambda_vs_J0(table, note), out.lambda_png, out.lambda_pdf)
runs = convergence_series(snakemake.input.convergence)
save_figure(fig_convergence(runs, note), out.convergence_png, out.convergence_pdf)
save_figure(fig_kaplan_yorke(table, note), out.ky_png, out.ky_pdf)
log.info("wrote the lyapunov figures")
