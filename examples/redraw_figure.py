# %% [markdown]
# # Redraw a figure from the tables
#
# Every figure of the workflow is drawn from the CSV tables in `results/tables/` by a
# function of `stdnet.plotting`; the same function, or a plot of your own, redraws it
# without rerunning anything.
#
#     python examples/redraw_figure.py results figures-mine
#
# Arguments: the results folder (default `results/`) and where to write the figures
# (default the current folder).

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt

import stdnet
from stdnet.files.tables import read_table
from stdnet.plotting import save_figure
from stdnet.plotting.lyapunov import fig_lambda_vs_J0

args = [a for a in sys.argv[1:] if not a.startswith("-")]  # a notebook kernel passes -f ...
RESULTS = Path(args[0] if args else "results")
OUT = Path(args[1] if len(args) > 1 else ".")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# The workflow's own figure `figures/lyapunov_lambda.png`: lambda_max vs J0 per N, from
# `tables/lyapunov.csv`.

# %%
table = read_table(RESULTS / "tables" / "lyapunov.csv")
save_figure(fig_lambda_vs_J0(table, note="(redrawn from tables/lyapunov.csv)"),
            OUT / "lambda_vs_J0.png")
print("wrote", OUT / "lambda_vs_J0.png")

# %% [markdown]
# A figure of your own from the dataset: the fraction of realizations decided chaotic vs
# J0, per N, with J_ch of each realization as ticks at the top.

# %%
ds = stdnet.open_results(RESULTS)
chaotic = (ds.decision == "chaotic").where(ds.decision.notnull())
fig, ax = plt.subplots(figsize=(4.5, 3.2))
for N in ds.N.values:
    line, = ax.plot(ds.J0, chaotic.sel(N=N).mean("seed"), marker="o", label=f"N = {N}")
    if "J_ch" in ds:
        ax.plot(ds.J_ch.sel(N=N), [1.04] * ds.sizes["seed"], "|", ms=10, color=line.get_color())
ax.set_xlabel(r"coupling $J_0$")
ax.set_ylabel("fraction chaotic")
ax.set_ylim(-0.05, 1.1)
ax.legend(frameon=False)
fig.savefig(OUT / "fraction_chaotic.png", dpi=120, bbox_inches="tight")
plt.close(fig)
print("wrote", OUT / "fraction_chaotic.png")
