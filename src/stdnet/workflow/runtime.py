"""Plumbing shared by the workflow's scripts: logging to the rule's log, threads.

A rule's script calls `setup(snakemake)` first: log records and uncaught
exceptions go to snakemake.log[0] (so a failed job explains itself in its log, on a
full disk too: stdnet.workflow.joblog), and numba uses exactly the threads the rule
was given.
"""
from __future__ import annotations

import logging
import signal
import sys

import numba
from threadpoolctl import threadpool_info, threadpool_limits

from stdnet.model.params import ModelParams, RunParams
from stdnet.workflow.joblog import JobLog


def set_threads(n: int) -> None:
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def limit_blas_threads(n: int) -> int:
    """Set the thread count of every BLAS loaded in this process (numpy and scipy each
    bundle an OpenBLAS) for the rest of the process, by threadpoolctl. The dense
    factorisations here are run one job per core; idle BLAS threads spin and slow
    everything down on a shared machine. Returns how many libraries were set (0 where
    none is loaded yet)."""
    threadpool_limits(limits=int(n), user_api="blas")  # not restored: kept until exit
    return sum(1 for lib in threadpool_info() if lib.get("user_api") == "blas")


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (a scheduler's time limit, a user's kill) into SystemExit, so that
    atomic writers remove their temporary files and the last checkpoint stays valid."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def run_params(snakemake):
    """The RunParams of a rule: its params.simulation plus simulation.backend from the
    config (kept out of the params, common.smk: simulation_settings)."""
    backend = snakemake.config.get("simulation", {}).get("backend", "cpu")
    return RunParams.from_config({**snakemake.params.simulation, "backend": backend})


def model_params(snakemake) -> ModelParams:
    """The ModelParams of a per-point rule: config section `model` (params.model) at the
    job's wildcards N and J0."""
    return ModelParams.from_config(snakemake.params.model, N=int(snakemake.wildcards.N),
                                   J0=float(snakemake.wildcards.J0))


def setup(snakemake) -> logging.Logger:
    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        # room kept for the last lines: on a full disk the traceback still gets in (JobLog)
        stream = JobLog(log_path, fallback=sys.stderr)
        sys.stderr = stream  # warnings and tracebacks end up in the rule's log too
        handlers = [logging.StreamHandler(stream)]
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    set_threads(getattr(snakemake, "threads", 1))
    limit_blas_threads(getattr(snakemake, "threads", 1))
    exit_cleanly_on_sigterm()
    return logging.getLogger(f"stdnet.rule.{snakemake.rule}")
