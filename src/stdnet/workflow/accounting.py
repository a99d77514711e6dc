"""Job accounting: Snakemake benchmark files, run status of the grid, cluster requests.

Every rule writes a benchmark TSV under {results}/benchmarks/<rule>/<wildcards>.tsv
(or {results}/benchmarks/<rule>.tsv for a rule without wildcards). Read together
they say what each job class costs as a function of N, which is what a user needs
to check cluster requests; stdnet.workflow.costmodel turns the measured costs into the `runtime`
and `mem_mb` resources of the heavy rules.

The status table says, for every grid point and every per-point output, whether
it is done, failed (log with an error, no output), incomplete (a log, checkpoint or
temporary file, no output: killed or still running) or not run (no trace: not
started yet, or not requested by the config).
Run it any time, also while a workflow runs or after it failed:
`python -m stdnet.workflow.accounting config/params.yaml`.

The run-folder layout (RUN_DIR, POINT: where a grid point's outputs, logs and benchmarks
lie) is defined here once; `stdnet status` uses it directly, the workflow's report rules
pass their rules' path patterns as plain strings (point_specs): nothing here reads
Snakemake's objects.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pandas as pd

from stdnet.files.errors import InputFileError
from stdnet.files.io import parse_wildcards  # noqa: F401 - also this module's: tests and tools import it here
from stdnet.workflow.costmodel import positive_int, runtime_request_min
from stdnet.workflow.costmodel import sweep_jobs
from stdnet.files.io import check_h5
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.model.params import format_J0

#: columns of a Snakemake benchmark TSV that we keep (seconds, MB)
BENCH_COLUMNS = ("s", "max_rss", "max_vms", "io_in", "io_out", "mean_load", "cpu_time")

#: Synapse updates per second of one core in the RK4 kernel (one "update" = one
#: presynaptic term of one neuron in one RK4 step, 4 vector-field evaluations).
#: Measured here: N=1000 (K_E+K_I=100), 10^4 steps in 5.3 s; N=2000 in 18.3 s,
#: i.e. 1.9e8 and 2.2e8 per s. Cluster cores may be slower and shared: the
#: runtime estimate multiplies by RUNTIME_SAFETY.
SYNAPSE_STEPS_PER_S = 2.0e8
RUNTIME_SAFETY = 3.0

# ---- the run-folder layout (the workflow's rules write these paths) --------------------
#: the folder of one grid point's per-point outputs
RUN_DIR = "{results}/N~{N}/J0~{J0}/seed~{seed}"
#: a grid point's name in the file names of per-point logs and benchmarks
POINT = "N~{N}_J0~{J0}_seed~{seed}"


def run_dir(results, N, J0, seed) -> str:
    """The run folder of one grid point; with N, J0, seed = "{N}", "{J0}", "{seed}" the
    pattern of every run folder."""
    return RUN_DIR.format(results=results, N=N, J0=J0, seed=seed)


def point_spec(results, rule: str, output: str) -> dict:
    """The status spec of a per-point output `output` (a file name in the run folder) of
    `rule`, with its log and benchmark where the workflow's rules put them:
    {results}/logs/<rule>/<point>.log, {results}/benchmarks/<rule>/<point>.tsv."""
    return {"rule": rule, "output": f"{run_dir(results, '{N}', '{J0}', '{seed}')}/{output}",
            "log": f"{results}/logs/{rule}/{POINT}.log",
            "benchmark": f"{results}/benchmarks/{rule}/{POINT}.tsv"}


def read_benchmarks(root, exclude=()) -> pd.DataFrame:
    """All benchmark TSVs under the folder `root` ({results}/benchmarks) as one table.

    One row per job (the last line of a file if it was benchmarked repeatedly),
    with the rule name, the wildcards N, J0, seed (when present) and the
    benchmark columns (s: wall seconds, max_rss: MB). Rules in `exclude` (e.g. the
    reading rule's own benchmark) are left out.
    """
    root = Path(root)
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root)
        wc = parse_wildcards(path.stem)
        # <rule folder>/<wildcards>.tsv (the folder may be nested, e.g. stability/jfp_search),
        # or <rule>.tsv / <folder>/<name>.tsv without wildcards
        rule = (rel.parent if wc and len(rel.parts) > 1 else rel.with_suffix("")).as_posix()
        try:
            bench = pd.read_csv(path, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue  # a job killed while writing its benchmark: not a measurement
        if bench.empty or "s" not in bench:
            continue
        last = bench.iloc[-1]
        row = {"rule": rule, "job": str(rel.with_suffix(""))}
        row["N"] = int(wc["N"]) if "N" in wc and wc["N"].isdigit() else pd.NA
        row["J0"] = wc.get("J0", pd.NA)
        row["seed"] = int(wc["seed"]) if "seed" in wc and wc["seed"].isdigit() else pd.NA
        for col in BENCH_COLUMNS:
            row[col] = pd.to_numeric(last.get(col, float("nan")), errors="coerce")
        rows.append(row)
    columns = ["rule", "job", "N", "J0", "seed", *BENCH_COLUMNS]
    table = pd.DataFrame(rows, columns=columns).astype({"N": "Int64", "seed": "Int64"})
    return table[~table["rule"].isin(list(exclude))]


def summarise_benchmarks(table: pd.DataFrame) -> pd.DataFrame:
    """Per rule and N: number of jobs, median and max wall time (s), max RSS (MB)."""
    t = table.copy()
    t["N"] = t["N"].astype("float")  # keep rules without N as NaN groups
    g = t.groupby(["rule", "N"], dropna=False)
    out = g.agg(jobs=("s", "size"), wall_median_s=("s", "median"), wall_max_s=("s", "max"),
                cpu_time_s=("cpu_time", "sum"), max_rss_mb=("max_rss", "max")).reset_index()
    out["N"] = out["N"].astype("Int64")
    return out


# ---- cluster requests ----------------------------------------------------------
def simulation_runtime_min(N: int, K_total: int, total_steps: int, threads: int = 1,
                           rate: float = SYNAPSE_STEPS_PER_S,
                           safety: float = RUNTIME_SAFETY) -> int:
    """Wall-time request (minutes) of one simulation: N (K_E+K_I) synapse terms per
    step, `total_steps` steps, at `rate` per second and thread, as
    costmodel.runtime_request_min turns work into a request with `safety`.

    A conservative stand-alone estimate (e.g. for a hand-written batch script); the
    workflow's requests come from stdnet.workflow.costmodel, calibrated on the benchmark files."""

    for key, value in (("N", N), ("K_total", K_total), ("total_steps", total_steps)):
        positive_int(key, value)
    return runtime_request_min(N * K_total * total_steps / rate, threads=threads,
                               safety=safety)


# ---- predicted cost of a sweep -------------------------------------------------
def sweep_cost(config: dict, probes_per_realization: int = 0) -> pd.DataFrame:
    """Predicted cost per N of a validated config: the jobs of costmodel.sweep_jobs (every
    heavy job of its stages, up to `probes_per_realization` onset probes per realization)
    grouped by N, so that its total is costmodel.sweep_by_rule's. Columns: jobs, expected
    core-hours (cores held) of simulate, lyapunov and the other rules, their sum core_h and
    the worst case; N sorted, the jobs of the whole sweep (N "-") and the DMF's N = inf last."""

    jobs = sweep_jobs(config, probes_per_realization)
    kind = jobs["rule"].where(jobs["rule"].isin(["simulate", "lyapunov"]), "other")
    for k in ("simulate", "lyapunov", "other"):
        jobs[f"{k}_core_h"] = jobs["core_h"].where(kind == k, 0.0)
    table = jobs.groupby("N").agg(
        jobs=("core_h", "size"), simulate_core_h=("simulate_core_h", "sum"),
        lyapunov_core_h=("lyapunov_core_h", "sum"), other_core_h=("other_core_h", "sum"),
        core_h=("core_h", "sum"), worst_core_h=("worst_core_h", "sum")).reset_index()
    number = pd.to_numeric(table["N"], errors="coerce")  # "-" and "inf" after the numbers
    return table.assign(_n=number.fillna(float("inf"))).sort_values(
        ["_n", "N"]).drop(columns="_n").reset_index(drop=True)


# ---- run status ----------------------------------------------------------------
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
    """The last progress line ('step ... ETA ...') of a log, or ''."""
    if log_path is None or not Path(log_path).exists():
        return ""
    lines = [ln for ln in Path(log_path).read_text(errors="replace").splitlines()
             if "ETA" in ln or "finished" in ln]
    return lines[-1].split(": ", 1)[-1].strip() if lines else ""


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


def _plain(pattern) -> str:
    """A path pattern without wildcard constraints ({N,\\d+} -> {N})."""
    return re.sub(r"\{(\w+),[^}]*\}", r"{\1}", str(pattern))


def point_specs(rules, results) -> list[dict]:
    """The status specs of every output that a rule writes directly into a run folder
    (run_dir) of the results folder `results`.

    rules: one dict per rule with its path patterns as the workflow declares them:
    'rule' (name), 'outputs' (list), 'log' and 'benchmark' ("" where none); wildcard
    constraints ({N,\\d+}) are dropped."""
    prefix = f"{run_dir(results, '{N}', '{J0}', '{seed}')}/"
    specs = []
    for r in rules:
        for out in r["outputs"]:
            out = _plain(out)
            if out.startswith(prefix) and "{" not in out[len(prefix):]:
                log, bench = r.get("log"), r.get("benchmark")
                specs.append({"rule": r["rule"], "output": out,
                              "log": _plain(log) if log else "",
                              "benchmark": _plain(bench) if bench else ""})
    return specs


def simulate_spec(results) -> dict:
    """The status spec of rule simulate (simulation.h5 in every run folder)."""
    return point_spec(results, "simulate", "simulation.h5")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the status command (`python -m stdnet.workflow.accounting`, or a CLI command)."""
    p.add_argument("configfiles", nargs="+", metavar="CONFIGFILE",
                   help="workflow config files, laid over one another in order as Snakemake "
                        "does (e.g. config/params.yaml config/width.yaml)")
    p.add_argument("--results", default=None, help="results folder (default: from the config)")
    p.add_argument("--benchmarks", action="store_true",
                   help="print the benchmark summary per rule and N instead")


def run(args) -> int:
    """Print the status of every simulation of the config's grid; exit 9 unless all done."""

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
    grid = [(int(n), format_J0(j), int(s)) for n in cfg["grid"]["N"] for j in cfg["grid"]["J0"]
            for s in cfg["grid"]["seeds"]]
    table = run_status(grid, [simulate_spec(results)])
    shown = table.astype(object).where(table.notna(), "-")  # no time or memory yet: '-'
    with pd.option_context("display.max_rows", None, "display.width", 160):
        print(shown.to_string(index=False))
    counts = table["status"].value_counts().to_dict()
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if set(counts) <= {"done"}:
        return 0
    problems = [f"{r.output} of N={r.N}, J0={r.J0}, seed={r.seed} is corrupt: "
                f"{check_h5(Path(run_dir(results, r.N, r.J0, r.seed)) / r.output)}"
                for r in table.itertuples() if r.status == "corrupt"]
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("the workflow moves corrupt files to <results>/.damaged/ and reruns their jobs "
              "at its next start", file=sys.stderr)
    return NOT_DONE


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m stdnet.workflow.accounting",
        description="Status of every grid point of a results folder: done, failed, "
                    "incomplete (killed or still running) or not run (not started, or "
                    "not requested).")
    add_arguments(p)
    argv = sys.argv[1:] if argv is None else list(argv)
    p.parse_args(argv)  # usage errors and --help here; the run goes through the CLI's handler
    from stdnet.cli import main as cli_main

    return cli_main(["status", *argv])


if __name__ == "__main__":
    sys.exit(main())
