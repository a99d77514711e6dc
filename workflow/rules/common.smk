# Shared helpers: validated config, the grid, result paths.
import itertools
import os
import sys
from pathlib import Path

from stdnet.config import validate_config
from stdnet.costmodel import CostModel
from stdnet.params import format_J0
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


# ---- cluster requests of the heavy rules (stdnet.costmodel; docs/cluster.md) -------------
COST = CostModel(config)


def cost_runtime(rule):
    """`runtime` resource (minutes) of `rule` from the cost model: the worst-case work of
    the job's wildcards on its threads, doubled on every attempt."""

    def runtime(wildcards, attempt, threads):
        return COST.runtime_min(rule, attempt=attempt, threads=threads, **dict(wildcards.items()))

    return runtime


def cost_threads(rule):
    """Threads of `rule`: 1, or what the job's parallel kernels need to keep its request
    under a day (stdnet.costmodel.CostModel.threads)."""

    def threads(wildcards):
        return COST.threads(rule, **dict(wildcards.items()))

    return threads


def cost_mem_mb(rule):
    """`mem_mb` resource of `rule` from the cost model, growing on every attempt."""

    def mem_mb(wildcards, attempt):
        return COST.mem_mb(rule, attempt=attempt, **dict(wildcards.items()))

    return mem_mb


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
