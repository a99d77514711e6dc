"""`stdnet status`: where every grid point of a results folder stands.

The status table says, for every grid point and every per-point output, whether it is
done, corrupt (there, but unreadable, truncated or foreign), failed (log with an error, no
output), incomplete (a log, checkpoint or temporary file, no output: killed or still
running) or not run (no trace: not started yet, or not requested by the config). Run it any
time, also while a workflow runs or after it failed: `stdnet status config/params.yaml`.
Rule run_status writes the same table for every per-point output of the workflow's rules
(stdnet.workflow.plan.point_specs); the command lists the per-point outputs of the config's
stages at the points stdnet.workflow.plan expands, and below the table each incomplete job's
last progress line with its ETA, and the ETA of the per-point jobs left by the cost model
(stdnet.workflow.remaining: what it counts and assumes).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pandas as pd

from stdnet.files.errors import InputError, InputFileError
from stdnet.files.io import check_h5
from stdnet.workflow.benchmarks import read_benchmarks, summarise_benchmarks
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.costmodel import CostModel
from stdnet.workflow.plan import SweepPlan, point_spec, run_dir
from stdnet.workflow.progress_log import last_progress_record
from stdnet.workflow.remaining import remaining_work, running_jobs, summary_lines

#: exit code of `stdnet status` when some grid point is not done (errors.EXIT_CODES)
NOT_DONE = 9

_ERROR = re.compile(r"Traceback|Error|error:|Killed|CANCELLED|DUE TO TIME LIMIT")


def point_status(run_dir, name: str, log_path=None) -> str:
    """Status of the output `name` of one grid point: done | corrupt (the file is there but
    unreadable, truncated or foreign) | failed | incomplete (killed, or still running) |
    not run (no trace of it)."""
    run_dir = Path(run_dir)
    out = run_dir / name
    if out.exists():
        if out.suffix == ".h5" and check_h5(out) is not None:
            return "corrupt"
        return "done"
    stem = Path(name).stem
    leftovers = list(run_dir.glob(f".{name}.tmp-*")) + list(run_dir.glob(f"{stem}.checkpoint*"))
    if log_path is not None and Path(log_path).exists():
        text = Path(log_path).read_text(errors="replace")
        if _ERROR.search(text):
            return "failed"
        if text.strip():
            return "incomplete"  # started, neither finished nor failed: killed or running
    return "incomplete" if leftovers else "not run"


def last_progress(log_path) -> str:
    """The last progress line ('... ETA ...', 'finished ...') of a log, or ''."""
    record = last_progress_record(log_path)
    return record.line if record else ""


def run_status(grid, specs) -> pd.DataFrame:
    """One row per grid point and per-point output: status, wall time, max RSS, progress.

    grid: iterable of (N, J0 (canonical string), seed). specs: dicts with 'rule',
    'output', 'log' and 'benchmark' path patterns containing {N}, {J0}, {seed}.
    """
    rows = []
    for N, J0, seed in grid:
        wc = {"N": N, "J0": J0, "seed": seed}
        for spec in specs:
            out = Path(spec["output"].format(**wc))
            log_path = Path(spec["log"].format(**wc)) if spec.get("log") else None
            wall = rss = None
            if spec.get("benchmark"):
                bench_path = Path(spec["benchmark"].format(**wc))
                if bench_path.exists():
                    try:
                        b = pd.read_csv(bench_path, sep="\t").iloc[-1]
                        wall, rss = float(b["s"]), float(b["max_rss"])
                    except (pd.errors.EmptyDataError, pd.errors.ParserError, IndexError,
                            KeyError, ValueError):
                        pass
            rows.append({"N": int(N), "J0": J0, "seed": int(seed), "rule": spec["rule"],
                         "output": out.name,
                         "status": point_status(out.parent, out.name, log_path),
                         "wall_s": wall, "max_rss_mb": rss,
                         "last_progress": last_progress(log_path)})
    return pd.DataFrame(rows)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `stdnet status`."""
    p.add_argument("configfiles", nargs="+", metavar="CONFIGFILE",
                   help="workflow config files, laid over one another in order as Snakemake "
                        "does (e.g. config/params.yaml config/width.yaml)")
    p.add_argument("--results", default=None, help="results folder (default: from the config)")
    p.add_argument("--benchmarks", action="store_true",
                   help="print the benchmark summary per rule and N instead")
    p.add_argument("--cores", type=int, default=None,
                   help="cores the workflow runs on: the ETA of the jobs left is divided by "
                        "them (default: the ETA on one core)")


def run(args) -> int:
    """Print the status of every per-point output of the config (SweepPlan.point_outputs); exit 9
    (NOT_DONE) unless all are done."""
    if args.cores is not None and args.cores < 1:
        raise InputError(f"--cores: value {args.cores} is not allowed; allowed: an integer >= 1")
    cfg = load_config_files(args.configfiles, schema_dir())
    results = args.results or cfg["results"]
    if os.path.exists(results) and not os.path.isdir(results):
        raise InputFileError(f"results folder {results} is not a folder")
    if args.benchmarks:
        table = read_benchmarks(Path(results) / "benchmarks")
        if table.empty:
            print(f"no benchmark files under {Path(results) / 'benchmarks'} yet: the workflow "
                  "writes one per finished job", file=sys.stderr)
            return NOT_DONE
        with pd.option_context("display.max_rows", None, "display.width", 160):
            print(summarise_benchmarks(table).to_string(index=False))
        return 0
    table = pd.concat([run_status(points, [point_spec(results, rule, name)])
                       for rule, name, points in SweepPlan(cfg).point_outputs()],
                      ignore_index=True)
    shown = table.astype(object).where(table.notna(), "-")  # no time or memory yet: '-'
    with pd.option_context("display.max_rows", None, "display.width", 160):
        print(shown.to_string(index=False))
    counts = table["status"].value_counts().to_dict()
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if set(counts) <= {"done"}:
        return 0
    model = CostModel(cfg)
    running = running_jobs(table, results)
    for line in summary_lines(running, remaining_work(table, model, running), args.cores,
                              model.speed):
        print(line)
    problems = [f"{r.output} of N={r.N}, J0={r.J0}, seed={r.seed} is corrupt: "
                f"{check_h5(Path(run_dir(results, r.N, r.J0, r.seed)) / r.output)}"
                for r in table.itertuples() if r.status == "corrupt"]
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("the workflow moves corrupt files to <results>/.damaged/ and reruns their jobs "
              "at its next start", file=sys.stderr)
    return NOT_DONE
