"""Rule lyapunov_figures: lambda_max vs J0, convergence of lambda_max, Kaplan-Yorke dimension."""
import pandas as pd

from stdnet.lyapunov import read_lyapunov
from stdnet.plotting import save_figure
from stdnet.plotting.lyapunov import fig_convergence, fig_kaplan_yorke, fig_lambda_vs_J0
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821
out = snakemake.output  # noqa: F821
note = snakemake.params.note  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
save_figure(fig_lambda_vs_J0(table, note), out.lambda_png, out.lambda_pdf)
runs = []
for path in snakemake.input.convergence:  # noqa: F821
    d = read_lyapunov(path)
    runs.append({"label": f"N={d['params']['N']}, J0={d['params']['J0']:g}, "
                          f"seed {d['params']['seed']}",
                 "times": d["times"], "local": d["local"],
                 "lambda_max": d["summary"]["lambda_max"], "ci": d["summary"]["lambda_max_ci"]})
save_figure(fig_convergence(runs, note), out.convergence_png, out.convergence_pdf)
save_figure(fig_kaplan_yorke(table, note), out.ky_png, out.ky_pdf)
log.info("wrote the lyapunov figures")
