# Shared helpers: validated config, the grid, result paths.
import itertools
import os
import sys
from pathlib import Path

from stdnet.config import validate_config
from stdnet.params import ModelParams, RunParams, format_J0
import stdnet.onset as onset

# One writer per HDF5 file and atomic renames make HDF5's file locks useless, and they fail
# on network file systems (NFS, Lustre: "unable to lock file"). Set for every job, locally
# and on a cluster (scripts inherit this environment, sbatch exports it).
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

config.update(validate_config(config, Path(workflow.basedir) / "config" / "schema"))

RESULTS = config["results"]
GRID_N = [int(n) for n in config["grid"]["N"]]
GRID_J0 = [format_J0(j) for j in config["grid"]["J0"]]
GRID_SEEDS = [int(s) for s in config["grid"]["seeds"]]
GRID = list(itertools.product(GRID_N, GRID_J0, GRID_SEEDS))

# the software of every rule, for `--sdm conda` (plain runs use the active environment)
CONDA_ENV = "../../envs/stdnet.yaml"

# every stage appends the files `rule all` must produce, if config `stages` lists it
ALL_TARGETS = []
STAGES = set(config["stages"])


def add_targets(stage, targets):
    """Ask `rule all` for a stage's final outputs when the config selects the stage."""
    if stage in STAGES:
        ALL_TARGETS.extend(targets)


wildcard_constraints:
    N=r"\d+",
    J0=r"\d+(\.\d+)?",
    seed=r"\d+",


def run_dir(N, J0, seed):
    return f"{RESULTS}/N~{N}/J0~{J0}/seed~{seed}"


def grid_files(name, grid=None):
    """One file `name` in the run folder of every grid point."""
    return [f"{run_dir(N, J0, s)}/{name}" for N, J0, s in (grid or GRID)]


def model_params(wildcards):
    return {**config["model"], "N": int(wildcards.N), "J0": float(wildcards.J0)}


def simulation_mem_mb(N):
    """Memory of one simulation job: the index pattern (~c N^2 uint16/uint32) dominates."""
    p = ModelParams.from_config(config["model"], N=N, J0=1.0)
    itemsize = 2 if max(p.N_E, p.N_I) <= 65536 else 4
    pattern = N * (p.K_E + p.K_I) * itemsize
    return int(400 + 2.0 * pattern / 1e6)


def simulation_runtime(wildcards, attempt):
    """SLURM wall-time request (min) from N (K_E + K_I) terms x steps; doubled on each retry."""
    from stdnet.accounting import simulation_runtime_min

    N = int(wildcards.N)
    p = ModelParams.from_config(config["model"], N=N, J0=1.0)
    steps = RunParams.from_config(config["simulation"]).total_steps
    return simulation_runtime_min(N, p.K_E + p.K_I, steps) * attempt


def jfp_mem_mb(N, method):
    """J_FP search: the network (as a simulation job) plus the eigen-solver's matrices or
    vectors (stability.smk)."""
    from stdnet.stability import jfp_memory_mb

    p = ModelParams.from_config(config["model"], N=int(N), J0=1.0)
    return simulation_mem_mb(int(N)) + jfp_memory_mb(
        p, method, config["stability"]["jfp"]["dense_max_N"]
    )


# ---- the onset search (onset.smk): the chain of checkpoints of one realization ----------
def onset_step_input(wc):
    """Step 0: the grid runs of the realization; step k: step k-1 and the run it asks for."""
    step = int(wc.step)
    if step == 0:
        return {"runs": [f"{run_dir(wc.N, J0, wc.seed)}/lyapunov.h5" for J0 in GRID_J0]}
    prev = checkpoints.onset_step.get(N=wc.N, seed=wc.seed, step=step - 1).output.state
    J0 = onset.read_search(prev).next_probe()
    if J0 is None:
        raise ValueError(f"{prev}: the onset search is finished; there is no step {step}")
    return {"prev": prev, "probe": f"{run_dir(wc.N, format_J0(J0), wc.seed)}/lyapunov.h5"}


def onset_final_state(wc):
    """The realization's last step: walk the chain of checkpoints until the search stops."""
    step = 0
    while True:
        state = checkpoints.onset_step.get(N=wc.N, seed=wc.seed, step=step).output.state
        if onset.read_search(state).finished:
            return state
        step += 1
