"""What is left of a sweep and how long it takes: the running jobs' progress and the ETA of
the per-point jobs not done, for `stdnet status`.

Running jobs: the per-point outputs that are `incomplete` (a log, no output: running, or
killed) whose log has a progress line (stdnet.workflow.progress_log). Each shows that line, how
long ago it was written, and its ETA less that age (never below 0). A line much older than
the jobs' progress interval (10 s) means the job was killed rather than running.

The rest: every per-point output not done (not run, failed, corrupt, incomplete) is one job
of its rule at its (N, J0), priced by the cost model (stdnet.workflow.costmodel.CostModel:
the expected seconds on one core at machine.speed, as `snakemake -n` prints them); a
running job with an ETA counts for its ETA instead. A job on more than one thread holds its
threads for its wall time: its core-seconds are its one-core seconds over
PARALLEL_EFFICIENCY, as in costmodel.sweep_jobs. The ETA on C cores is the larger of
core-seconds / C and the longest single job: it assumes the jobs keep all C cores busy
(Snakemake starts a job as soon as its input exists and cores are free) and no job waits
for another, so it is a lower bound where few points are left. Not counted: the jobs of
the whole sweep (J_FP searches, spectra, DMF solves, correlations, tables and figures) and
the onset probes; `snakemake -n` prints the cost of the whole sweep.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from stdnet.files.progress import format_duration, parse_eta
from stdnet.workflow.costmodel import PARALLEL_EFFICIENCY, CostModel
from stdnet.workflow.plan import point_spec
from stdnet.workflow.progress_log import last_progress_record

#: statuses of an output whose job is still to run (or running)
NOT_DONE = ("not run", "failed", "corrupt", "incomplete")


def running_jobs(table: pd.DataFrame, results, now: float | None = None) -> pd.DataFrame:
    """The incomplete rows of a status table (stdnet.workflow.status.run_status) whose log
    has a progress line: rule, N, J0, seed, line, age_s (seconds since the line was
    written) and eta_s (its ETA less its age, at least 0; NaN where the line has none)."""
    now = time.time() if now is None else now
    rows = []
    for r in table[table["status"] == "incomplete"].itertuples():
        log = point_spec(results, r.rule, r.output)["log"].format(N=r.N, J0=r.J0, seed=r.seed)
        record = last_progress_record(log)
        if record is None:
            continue
        age = max(now - record.written, 0.0)
        rows.append({"rule": r.rule, "N": r.N, "J0": r.J0, "seed": r.seed,
                     "line": record.line, "age_s": age,
                     "eta_s": max(parse_eta(record.line) - age, 0.0)})
    return pd.DataFrame(rows, columns=["rule", "N", "J0", "seed", "line", "age_s", "eta_s"])


@dataclass(frozen=True)
class Remaining:
    """The per-point jobs left: how many, their core-seconds, the longest one (seconds)."""

    jobs: int
    core_seconds: float
    longest_s: float

    def eta_s(self, cores: int) -> float:
        """Wall seconds on `cores` cores kept busy (module docstring)."""
        return max(self.core_seconds / cores, self.longest_s) if self.jobs else 0.0


def remaining_work(table: pd.DataFrame, model: CostModel,
                   running: pd.DataFrame | None = None) -> Remaining:
    """The cost of the rows of a status table that are not done: the cost model's
    expected seconds, or a running job's ETA (`running`, from running_jobs)."""
    eta = {}
    if running is not None:
        eta = {(r.rule, r.N, r.J0, r.seed): r.eta_s for r in running.itertuples()
               if math.isfinite(r.eta_s)}
    jobs, core_s, longest = 0, 0.0, 0.0
    for r in table[table["status"].isin(NOT_DONE)].itertuples():
        threads = model.threads(r.rule, N=r.N, J0=r.J0)
        key = (r.rule, r.N, r.J0, r.seed)
        if key in eta:  # measured: the wall time left on its threads
            wall, held = eta[key], eta[key] * threads
        else:
            seconds = model.job(r.rule, N=r.N, J0=r.J0).seconds
            held = seconds if threads == 1 else seconds / PARALLEL_EFFICIENCY
            wall = held / threads
        jobs, core_s, longest = jobs + 1, core_s + held, max(longest, wall)
    return Remaining(jobs, core_s, longest)


def summary_lines(running: pd.DataFrame, left: Remaining, cores: int | None,
                  speed: float) -> list[str]:
    """What `stdnet status` prints below its table: each running job's last progress line
    and ETA, then the ETA of the per-point jobs left."""
    lines = []
    if len(running):
        lines.append(f"incomplete with a progress line ({len(running)}): running, or killed "
                     "where the line is much older than the jobs' 10 s between lines")
        for r in running.itertuples():
            lines.append(f"  {r.rule} N={r.N} J0={r.J0} seed={r.seed}: {r.line}  "
                         f"[written {format_duration(r.age_s)} ago; ETA now "
                         f"{format_duration(r.eta_s)}]")
    if left.jobs == 0:
        return lines
    where = f"on {cores} cores" if cores else "on one core (--cores C divides it by C)"
    lines += [f"left: {left.jobs} per-point job(s), {left.core_seconds / 3600:.3g} core-hours "
              f"(cost model at machine.speed {speed:g}; running jobs by their ETA)",
              f"ETA {format_duration(left.eta_s(cores or 1))} {where}, if the jobs keep the "
              "cores busy; not counted: the jobs of the whole sweep and the onset probes "
              "(snakemake -n prices the whole sweep)"]
    return lines
