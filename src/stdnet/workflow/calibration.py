"""`stdnet calibrate`: the machine's speed for the cost model, measured on a finished run.

The cost model's CPU rates (stdnet.workflow.costmodel) were measured on one machine; on another,
every job takes about 1/speed as long, and `machine.speed` in the config says so. This
command measures it from the jobs a results folder already holds: Snakemake's benchmark
file of each job gives its wall and CPU seconds, and each simulate and lyapunov job is
priced as the model prices it at speed 1 (a lyapunov job for its own averaging time, read
from its lyapunov.h5, so the model's guess of the extensions does not enter). Then

* speed = the median over the calibration jobs (rule `--rule`, predicted at least
  `--min-seconds`, so that start-up does not dominate) of predicted / measured CPU time;
* at that speed, per rule, N and kind (grid point or onset probe), the median measured /
  predicted CPU time. The groups of the other rule test the model's structure rather than
  the fitted number.

CPU time, not wall time: wall time adds whatever else the machine was doing, which is not
a property of the job. The speed to use for a cluster is measured on its nodes.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from stdnet.files.errors import InputError, InputFileError
from stdnet.files.io import open_h5
from stdnet.files.tables import write_table
from stdnet.kernels.hardware import cache_sizes
from stdnet.workflow.benchmarks import read_benchmarks
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.costmodel import CostModel
from stdnet.workflow.plan import run_dir

#: the rules whose jobs are priced from what they did
PRICED_RULES = ("simulate", "lyapunov")
MIN_SECONDS = 5.0


def priced_jobs(cfg: dict) -> pd.DataFrame:
    """One row per finished simulate and lyapunov job of cfg's results folder: rule, N, J0,
    seed, kind ('grid' or 'probe'), wall_s, cpu_s (benchmark file) and pred_s (the model's
    price at speed 1). Lyapunov jobs whose lyapunov.h5 cannot be read (still running, or
    redone since, another point's) are left out."""
    cm = CostModel({**cfg, "machine": {**cfg.get("machine", {}), "speed": 1.0}})
    root = Path(cfg["results"])
    grid = {float(j) for j in cfg["grid"]["J0"]}
    bench = read_benchmarks(root / "benchmarks")
    rows = []
    for r in bench[bench["rule"].isin(PRICED_RULES)].itertuples():
        if pd.isna(r.N) or pd.isna(r.J0) or not (r.cpu_time > 0):
            continue
        N, J0 = int(r.N), float(r.J0)
        if r.rule == "simulate":
            pred = cm.job("simulate", N=N, J0=J0).seconds
        else:
            path = Path(run_dir(root, N, r.J0, r.seed)) / "lyapunov.h5"
            try:  # complete, and the point its folder names (io.open_h5)
                with open_h5(path, "lyapunov file") as h:
                    t_av = float(h["summary"].attrs["t_average_total"])
            except InputFileError:
                continue
            pred = cm.lyapunov_seconds(N, J0, t_av)
        rows.append({"rule": r.rule, "N": N, "J0": J0, "seed": r.seed,
                     "kind": "grid" if J0 in grid else "probe", "wall_s": float(r.s),
                     "cpu_s": float(r.cpu_time), "pred_s": pred})
    return pd.DataFrame(rows, columns=["rule", "N", "J0", "seed", "kind", "wall_s", "cpu_s",
                                       "pred_s"])


def machine_speed(jobs: pd.DataFrame, rule: str = "simulate",
                  min_seconds: float = MIN_SECONDS) -> tuple[float, int]:
    """(speed, jobs used): the median of pred_s / cpu_s over the jobs of `rule` predicted at
    least min_seconds (at speed 1). Raises InputError when there are none."""
    use = jobs[(jobs["rule"] == rule) & (jobs["pred_s"] >= min_seconds)]
    if use.empty:
        longest = jobs.loc[jobs["rule"] == rule, "pred_s"].max()
        raise InputError(f"--min-seconds: invalid value {min_seconds:g}; allowed: at most the "
                         f"longest predicted {rule} job of this run "
                         + (f"({longest:.3g} s)" if math.isfinite(longest or math.nan)
                            else "(the run has no finished " + rule + " job)"))
    return float((use["pred_s"] / use["cpu_s"]).median()), int(len(use))


def ratio_table(jobs: pd.DataFrame, speed: float) -> pd.DataFrame:
    """Per rule, N and kind: jobs, median predicted seconds at `speed`, median measured CPU
    and wall seconds, and the medians of CPU / predicted and wall / predicted."""
    d = jobs.assign(pred_s=jobs["pred_s"] / speed)
    d = d.assign(cpu_ratio=d["cpu_s"] / d["pred_s"], wall_ratio=d["wall_s"] / d["pred_s"])
    return d.groupby(["rule", "N", "kind"]).agg(
        jobs=("pred_s", "size"), pred_s=("pred_s", "median"), cpu_s=("cpu_s", "median"),
        wall_s=("wall_s", "median"), cpu_over_pred=("cpu_ratio", "median"),
        wall_over_pred=("wall_ratio", "median")).reset_index()


# ---- CLI ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configfiles", nargs="+", metavar="CONFIGFILE",
                   help="the config files of the finished run, laid over one another in "
                        "order (e.g. config/params.yaml config/width.yaml)")
    p.add_argument("--rule", choices=PRICED_RULES, default="simulate",
                   help="the jobs the speed is measured on (default simulate; the other "
                        "rule's ratios then test the model)")
    p.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                   help=f"leave out of the speed the jobs predicted shorter than this at "
                        f"speed 1, whose time is mostly start-up (default {MIN_SECONDS:g})")
    p.add_argument("--csv", default=None, help="also write the per-group table to this CSV")


def run(args) -> int:
    if not args.min_seconds >= 0:
        raise InputError(f"--min-seconds: invalid value {args.min_seconds}; allowed: >= 0")
    cfg = load_config_files(args.configfiles, schema_dir())
    jobs = priced_jobs(cfg)
    if jobs.empty:
        raise InputError(f"results: {cfg['results']!r} has no finished simulate or lyapunov "
                         "job with a benchmark file; allowed: the results folder of a run")
    speed, used = machine_speed(jobs, args.rule, args.min_seconds)
    table = ratio_table(jobs, speed)
    pd.set_option("display.width", 200)
    print(f"{cfg['results']}: {len(jobs)} jobs ({cfg['simulation']['method']}, dt = "
          f"{cfg['simulation']['dt']}); speed from {used} {args.rule} jobs predicted >= "
          f"{args.min_seconds:g} s: median predicted / measured CPU time = {speed:.3g}")
    print(table.round(3).to_string(index=False))
    l3 = cache_sizes().get("L3")
    cache = cfg["machine"]["cache_mib"]
    print(f"\nmachine:\n  speed: {speed:.3g}    # stdnet calibrate on {cfg['results']}"
          f"\n  cache_mib: {cache:g}    # "
          + (f"this machine's L3: {l3 / 2 ** 20:g} MiB" if l3 else "this machine's L3: unknown"))
    if args.csv:

        write_table(table, args.csv)
    return 0
