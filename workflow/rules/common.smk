# Shared helpers: validated config, the grid, result paths.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.io import IOFile, flag, is_flagged
from snakemake.logging import logger

from stdnet.workflow.config import check_config_files, validate_config
from stdnet.workflow.costmodel import CostModel
from stdnet.files.errors import InputError, OutputError, ResourceError, StdnetError
from stdnet.files.io import remove_stale_temporaries
from stdnet.workflow.preflight import (
    backend_problems,
    gpu_memory_problems,
    machine_memory_mb,
    memory_problems,
)
from stdnet.workflow.ownership import claim, ownership_problem
from stdnet.workflow.backups import backup_space_problem
from stdnet.workflow.recovery import restore_times, set_damaged_aside, snapshot
from stdnet.model.params import format_J0
import stdnet.workflow.plan as plan
import stdnet.onset.search as onset

# One writer per HDF5 file and atomic renames make HDF5's file locks useless, and they fail
# on network file systems (NFS, Lustre: "unable to lock file"). Set for every job, locally
# and on a cluster (scripts inherit this environment, sbatch exports it).
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

try:
    # Snakemake's YAML loader keeps the last of two equal keys; ours refuses them with file:line
    check_config_files(workflow.configfiles)
    config.update(validate_config(config, Path(workflow.basedir) / "config" / "schema"))
except (
    StdnetError
) as e:  # the message names key, value and what is allowed: no traceback
    logger.error(f"stdnet: {e}")
    sys.exit(e.exit_code)

RESULTS = config["results"]

# ---- at every start (main process only): leftovers of killed jobs, damaged files --------
# A damaged output is moved aside and made a target of the default rule: Snakemake does not
# redo a missing intermediate file on its own while the tables made from it are up to date.
REDO_DAMAGED = []
# a folder with files stdnet did not write is refused before anything happens in it
# (stdnet.workflow.ownership); the first real run marks the folder as stdnet's (claim_results)
_NOT_OURS = ownership_problem(RESULTS) if workflow.is_main_process else None
if _NOT_OURS:
    logger.error(f"stdnet: {_NOT_OURS}")
    sys.exit(InputError.exit_code)
if workflow.is_main_process and Path(RESULTS).is_dir():
    for tmp in remove_stale_temporaries(RESULTS):
        logger.info(f"removed {tmp}: temporary file of a process that no longer runs")
    try:
        _DAMAGED = set_damaged_aside(RESULTS)
    except StdnetError as e:  # e.g. a read-only results folder
        logger.error(f"stdnet: {e}")
        sys.exit(e.exit_code)
    for path, problem, dest in _DAMAGED:
        logger.warning(f"{path}: {problem}; moved to {dest}, its job will run again")
        if (
            ".checkpoint" not in path.name
        ):  # a damaged checkpoint: the run starts afresh
            REDO_DAMAGED.append(str(path))


def claim_results():
    """onstart (real runs only, not dry runs): the marker that makes the results folder
    stdnet's (stdnet.workflow.ownership)."""
    if claim(RESULTS):
        logger.info(f"{RESULTS}: marked as a stdnet results folder (.stdnet-results)")


def refuse_jobs_larger_than_this_machine():
    """Called by `onstart` (the executor is known then): a local run whose jobs need more
    memory than the machine has, or a GPU it does not have (simulation.backend: cuda), stops
    before the first job, with the numbers."""
    if workflow.local_exec:
        problems = backend_problems(config)
        if problems:
            logger.error("stdnet: " + "\n".join(problems))
            sys.exit(InputError.exit_code)
        problems = memory_problems(config, machine_memory_mb())
        problems += gpu_memory_problems(config)
        if problems:
            logger.error("stdnet: " + "\n".join(problems))
            sys.exit(ResourceError.exit_code)


def refuse_a_run_without_room_for_backups():
    """Called by `onstart`: a run whose disk cannot take the copies Snakemake makes of the
    tables and figures it redoes (kept) stops before the first job, with the numbers,
    instead of in Snakemake's own traceback (stdnet.workflow.backups). `--touch` copies
    nothing."""
    if workflow.touch:
        return
    kept_outputs = [
        str(f)
        for job in workflow.dag.needrun_jobs()
        for f in job.output
        if is_flagged(f, "update")
    ]
    problem = backup_space_problem(kept_outputs, workflow.persistence.path / "backups")
    if problem:
        logger.error(f"stdnet: {problem}")
        sys.exit(OutputError.exit_code)


def kept(path):
    """Every table and figure output is declared through this: flagged `update`, Snakemake
    backs the file up before its job runs and restores it if the job fails, so a failed
    downstream rule never leaves a results folder without the previous good table."""
    return flag(path, "update")


def keep_previous_version_on_failure(rules):
    """Refuse a rule whose table or figure output was declared without `kept` (flagging it
    here afterwards is lost on a plain path: Snakemake keeps the flags of the declared
    string)."""
    for r in rules:
        for f in r.output:
            if Path(f).parent.name in ("tables", "figures") and not is_flagged(
                f, "update"
            ):
                raise WorkflowError(
                    f"{f}: a table or figure output of {r.name} declared without "
                    "kept(...), so a failed job would lose its previous version"
                )


TABLES_AT_START = {}


def remember_tables():
    """onstart: time and content of every table and figure (stdnet.workflow.recovery)."""
    TABLES_AT_START.update(snapshot([f"{RESULTS}/tables", f"{RESULTS}/figures"]))


def date_back_restored_tables():
    """onerror: a table that Snakemake restored after its job failed gets its old time back
    and loses the record Snakemake wrote for the failed job (it holds the checksums of the
    new inputs, which would make the old table look up to date), so the next run redoes it.
    """
    for name in restore_times(TABLES_AT_START):
        workflow.persistence.cleanup_metadata(IOFile(name))
        logger.warning(
            f"{name}: kept the previous version (its job failed); redone next run"
        )


# the sweep, expanded once (stdnet.workflow.plan): every rule file reads PLAN
PLAN = plan.SweepPlan(config)
GRID_N = PLAN.grid_N
GRID_J0 = PLAN.grid_J0
GRID_SEEDS = PLAN.grid_seeds
GRID = PLAN.grid
# a grid point's run folder and its name in log and benchmark files, as wildcard patterns
RUN = plan.run_dir(RESULTS, "{N}", "{J0}", "{seed}")
POINT = plan.point_name("{N}", "{J0}", "{seed}")

# the software of every rule, for `--sdm conda` (plain runs use the active environment). The
# env file installs stdnet from ${STDNET_SOURCE}, which pip expands when conda creates the
# environment from Snakemake's copy of the file: this workflow's own directory, whatever the
# working directory and whatever stdnet the Python running Snakemake imports. (Set here, not
# read: the `envvars` directive is for variables a user has to provide.)
CONDA_ENV = "../../envs/stdnet.yaml"
os.environ.update(STDNET_SOURCE=str(Path(workflow.basedir).resolve()))

STAGES = set(config["stages"])


def get_stage_outputs():
    """The final outputs of every stage that config `stages` selects (called once every
    rule is defined; the rules that make them pull in the rest)."""
    outputs = {
        "simulate": lambda: [rules.summarise.output.table],
        "figures": lambda: [
            rules.simulation_regimes.output.png,
            rules.meanfield_fixed_point.output.png,
        ],
        "stability": lambda: [
            rules.jfp_table.output.table,
            rules.stability_homogeneous.output.png,
            rules.stability_jfp.output.png,
            rules.stability_routes.output.png,
            rules.stability_hetfp.output.png,
        ],
        "lyapunov": lambda: [
            rules.lyapunov_table.output.table,
            rules.lyapunov_figures.output.lambda_png,
            rules.lyapunov_figures.output.convergence_png,
            rules.lyapunov_figures.output.ky_png,
        ],
        "onset": lambda: [rules.onset_table.output.table] if ONSET["search"] else [],
        "transition": lambda: [
            rules.regimes.output.table,
            rules.transition.output.table,
            rules.transition.output.fit,
            rules.width_power.output.table,
            rules.transition_figures.output.map_png,
            rules.transition_figures.output.width_png,
        ],
        "dmf": lambda: [rules.dmf_compare.output.table, rules.dmf_compare.output.fits],
        "correlations": lambda: [rules.correlations.output.terms],
        "heterogeneity": lambda: [rules.heterogeneity.output.verdict],
    }
    return [f for stage, files in outputs.items() if stage in STAGES for f in files()]


def missing_point_files():
    """Per-point files of the selected stages that are absent from a results folder whose
    tables exist (deleted by hand, or lost): Snakemake does not redo a missing intermediate
    file while the tables made from it are up to date, so each becomes a target, like the
    damaged files of REDO_DAMAGED. (Onset probes are redone by their own search.)"""
    if not Path(f"{RESULTS}/tables").is_dir():
        return []  # a first run: everything is made anyway
    wanted = [
        f for _, name, points in PLAN.point_outputs() for f in grid_files(name, points)
    ]
    if STAGES & {"stability", "transition"}:
        wanted += [f"{run}/jfp.h5" for run in STAB_RUNS]
    wanted += [
        f"{heterogeneity_dir(e, N, s)}/point.h5"
        for e, N, s in PLAN.heterogeneity_points
    ]
    missing = sorted({f for f in wanted if not os.path.exists(f)})
    for f in missing:
        logger.warning(
            f"{f}: missing although the tables made from it exist; made again"
        )
    return missing


def get_final_output():
    """The default target: the selected stages' outputs, the job accounting
    (which runs after them), damaged files moved aside at this start and missing per-point
    files, to redo."""
    return [
        *REDO_DAMAGED,
        *(missing_point_files() if workflow.is_main_process else []),
        *get_stage_outputs(),
        rules.benchmark_summary.output.png,
        rules.run_status.output.table,
    ]


wildcard_constraints:
    N=r"\d+",
    J0=r"\d+(\.\d+)?",
    seed=r"\d+",
    ensemble=r"[A-Za-z0-9._-]+",


def run_dir(N, J0, seed):
    """The run folder of one grid point (layout: stdnet.workflow.plan.RUN_DIR)."""
    return plan.run_dir(RESULTS, N, J0, seed)


def heterogeneity_dir(ensemble, N, seed):
    """The folder of one network of the heterogeneity stage (stdnet.workflow.plan)."""
    return plan.heterogeneity_dir(RESULTS, ensemble, N, seed)


def grid_files(name, grid=None):
    """One file `name` in the run folder of every grid point."""
    return [f"{run_dir(N, J0, s)}/{name}" for N, J0, s in (grid or GRID)]


# ---- cluster requests of the heavy rules (stdnet.workflow.costmodel; docs/cluster.md) -------------
COST = CostModel(config)


def cost_runtime(rule_name):
    """`runtime` resource (minutes) of `rule_name` from the cost model: the worst-case work of
    the job's wildcards on its threads, doubled on every attempt."""

    def runtime(wildcards, attempt, threads):
        return COST.runtime_min(
            rule_name, attempt=attempt, threads=threads, **dict(wildcards.items())
        )

    return runtime


def cost_threads(rule_name):
    """Threads of `rule_name`: 1, or what the job's parallel kernels need to keep its request
    under a day (stdnet.workflow.costmodel.CostModel.threads)."""

    def threads(wildcards):
        return COST.threads(rule_name, **dict(wildcards.items()))

    return threads


def simulation_settings():
    """config["simulation"] for a rule's params, without `backend`: where the kernels run
    changes a result only at round-off, so switching it must not make Snakemake redo the
    finished runs (its params trigger); scripts take it from the config
    (stdnet.workflow.runtime.run_params)."""
    return {k: v for k, v in config["simulation"].items() if k != "backend"}


def cost_gpus(rule_name):
    """`gpu` resource of `rule_name`: 1 where its kernels run on a GPU (simulation.backend:
    cuda). The SLURM executor turns it into --gpus=1; locally the default profile's
    `resources: gpu=1` lets one such job run at a time."""

    def gpu(wildcards):
        return COST.gpus(rule_name, **dict(wildcards.items()))

    return gpu


def cost_mem_mb(rule_name):
    """`mem_mb` resource of `rule_name` from the cost model, growing on every attempt."""

    def mem_mb(wildcards, attempt):
        return COST.mem_mb(rule_name, attempt=attempt, **dict(wildcards.items()))

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
        raise ValueError(
            f"{prev}: the onset search is finished; there is no step {step}"
        )
    return {
        "prev": prev,
        "probe": f"{run_dir(wc.N, format_J0(J0), wc.seed)}/lyapunov.h5",
    }


def onset_final_state(wc):
    """The realization's last step: walk the chain of checkpoints until the search stops."""
    step = 0
    while True:
        state = checkpoints.onset_step.get(N=wc.N, seed=wc.seed, step=step).output.state
        if onset.read_search(state).finished:
            return state
        step += 1


# ---- the heterogeneity stage (heterogeneity.smk) ----------------------------------------
def het_settings(wc, onset):
    """The section as one network's job reads it: its own ensemble only (editing another
    ensemble must not redo it); the point jobs without the onset search's settings, the
    onset jobs with those and the step alone."""
    het = config["heterogeneity"]
    out = {k: v for k, v in het.items() if k != "onset"}
    if onset:
        out = {k: het[k] for k in ("J0_stationary", "dt", "onset")}
    out["ensembles"] = {wc.ensemble: het["ensembles"][wc.ensemble]}
    return out
