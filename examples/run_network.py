# %% [markdown]
# # Run one network from Python
#
# The workflow runs thousands of these; one network is a few lines of the library: the
# parameters (`stdnet.ModelParams`, `stdnet.RunParams`), the integration
# (`stdnet.simulation.simulate`), its file and its summary.
#
#     python examples/run_network.py out
#
# Argument: where to write the simulation file (default the current folder).

# %%
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from stdnet import ModelParams, RunParams
from stdnet.simulation.simulate import read_simulation, simulate, write_simulation
from stdnet.simulation.summary import summarise_simulation
from stdnet.theory.meanfield import homogeneous_fixed_point

args = [a for a in sys.argv[1:] if not a.startswith("-")]  # a notebook kernel passes -f ...
OUT = Path(args[0] if args else ".")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# A small network in Rate Chaos: N = 400 neurons (80 % excitatory), J0 = 1.5, the other
# constants the paper's (docs/model.md). 20 tau of transient, then 40 tau recorded.

# %%
model = ModelParams(N=400, J0=1.5)
run = RunParams(t_transient=20.0, t_record=40.0, record_interval=0.5, n_record=4)
print(f"K_E = {model.K_E}, K_I = {model.K_I}, {run.total_steps} steps of {run.method}, "
      f"dt = {run.dt}")
result = simulate(model, run, seed=1)

# %% [markdown]
# The file the workflow would write (`N~400/J0~1.5/seed~1/simulation.h5`), and the
# summary it puts in `tables/runs.csv`.

# %%
path = OUT / "simulation.h5"
write_simulation(path, result, model, run, seed=1)
summary = summarise_simulation(read_simulation(path))
fp = homogeneous_fixed_point(model)
print(f"nu_E = {summary['nu_E']:.4f}, nu_I = {summary['nu_I']:.4f} (homogeneous fixed point: "
      f"{fp.nu_E:.4f}, {fp.nu_I:.4f}); temporal variance of h_E "
      f"{summary['h_E_var_temporal']:.3g}; settled on the fixed point: "
      f"{summary['settled_homogeneous']}")

# %% [markdown]
# The recorded rates: each neuron fluctuates on its own (Rate Chaos).

# %%
fig, ax = plt.subplots(figsize=(5, 3))
rec = result["recorded"]
for k in range(rec["nu"].shape[1]):
    ax.plot(result["time"], rec["nu"][:, k], lw=0.8)
ax.set_xlabel(r"time ($\tau$)")
ax.set_ylabel(r"rate $\nu$ (1/$\tau$)")
fig.savefig(OUT / "rates.png", dpi=120, bbox_inches="tight")
plt.close(fig)
print("wrote", path, "and", OUT / "rates.png")
