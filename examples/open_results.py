# %% [markdown]
# # Open a finished run
#
# `stdnet.open_results` reads the tables of a results folder (`results/tables/*.csv`) into
# one `xarray.Dataset` over (N, J0, seed): rates, lambda_max with its interval, the regime,
# J_FP and J_ch per realization, the input-covariance terms. Run it as a script,
#
#     python examples/open_results.py results
#
# or open it as a notebook (jupytext reads the `# %%` cells). The argument is the results
# folder (default `results/`, the default config's).

# %%
import sys
from pathlib import Path

import stdnet

args = [a for a in sys.argv[1:] if not a.startswith("-")]  # a notebook kernel passes -f ...
RESULTS = Path(args[0] if args else "results")

ds = stdnet.open_results(RESULTS)
print(ds)

# %% [markdown]
# Which runs are missing (no row in `runs.csv`: not run, failed, or not summarised yet), and
# which tables the dataset was built from.

# %%
print("missing runs:", ", ".join(ds.attrs["missing_runs"]) or "none")
print("tables read:", ", ".join(ds.attrs["tables_read"]))
print("tables absent:", ", ".join(ds.attrs["tables_absent"]) or "none")

# %% [markdown]
# Every variable carries its units and a description.

# %%
for name in ("nu_E", "lambda_max", "J_ch"):
    if name in ds:
        print(f"{name} [{ds[name].attrs['units']}]: {ds[name].attrs['description']}")

# %% [markdown]
# Rates and lambda_max as J0 x N tables, averaged over the realizations (seeds).

# %%
print(ds.nu_E.mean("seed").to_pandas().T.round(4))
if "lambda_max" in ds:
    print(ds.lambda_max.mean("seed").to_pandas().T.round(4))

# %% [markdown]
# One run: lambda_max with its interval and its regime.

# %%
run = ds.sel(N=ds.N.values[-1], J0=ds.J0.values[-1], seed=ds.seed.values[0])
if "lambda_max" in ds:
    print(f"N={int(run.N)}, J0={float(run.J0):g}, seed={int(run.seed)}: lambda_max = "
          f"{float(run.lambda_max):.4f} in [{float(run.lambda_max_lo):.4f}, "
          f"{float(run.lambda_max_hi):.4f}] (1/tau), decision {run.decision.item()}, "
          f"regime {run.regime.item() if 'regime' in ds else '-'}")

# %% [markdown]
# The transition per realization (N, seed): where the homogeneous fixed point loses
# stability (J_FP), where chaos sets in (J_ch), and the width between them.

# %%
per_realization = [v for v in ("J_FP", "J_ch", "width", "route") if v in ds]
if per_realization:
    print(ds[per_realization].to_dataframe().round(4))

# %% [markdown]
# A trajectory, read lazily: only the samples used are read from `simulation.h5`
# (needs h5netcdf: `pip install h5netcdf`).

# %%
try:
    import h5netcdf  # noqa: F401 - the engine xarray opens the file with
except ImportError:
    print("h5netcdf is not installed: the trajectory is skipped")
else:
    import xarray as xr

    path = run.simulation_file.item()
    time = xr.open_dataset(path, engine="h5netcdf", phony_dims="sort").time
    pop = xr.open_dataset(path, engine="h5netcdf", group="population",
                          phony_dims="sort").assign_coords(time=time)
    after = pop.nu_E.sel(time=slice(float(time.attrs["t_transient"]), None))
    print(f"{path}: nu_E after the transient, mean {float(after.mean()):.4f} (runs.csv: "
          f"{float(run.nu_E):.4f})")
