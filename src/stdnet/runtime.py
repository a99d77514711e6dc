"""Plumbing shared by the workflow's scripts: logging to the rule's log, threads.

A rule's script calls `setup(snakemake)` first: log records and uncaught
exceptions go to snakemake.log[0] (so a failed job explains itself in its log),
and numba uses exactly the threads the rule was given.
"""
from __future__ import annotations

import logging
import signal
import sys


def set_threads(n: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def limit_blas_threads(n: int) -> int:
    """Set the thread count of every OpenBLAS loaded in this process (numpy and scipy each
    bundle one). The dense factorisations here are run one job per core; idle OpenBLAS
    threads spin and slow everything down on a shared machine. Returns how many
    libraries were set (0 where /proc is missing or the BLAS is another one)."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f
                     if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    except OSError:
        return 0
    done = 0
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(int(n)))
                done += 1
                break
    return done


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (a scheduler's time limit, a user's kill) into SystemExit, so that
    atomic writers remove their temporary files and the last checkpoint stays valid."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def setup(snakemake) -> logging.Logger:
    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        stream = open(log_path, "a", buffering=1)
        sys.stderr = stream  # warnings and tracebacks end up in the rule's log too
        handlers = [logging.StreamHandler(stream)]
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    set_threads(getattr(snakemake, "threads", 1))
    limit_blas_threads(getattr(snakemake, "threads", 1))
    exit_cleanly_on_sigterm()
    return logging.getLogger(f"stdnet.rule.{snakemake.rule}")
