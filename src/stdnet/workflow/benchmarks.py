"""The Snakemake benchmark files of a results folder, read as one table.

Every rule writes a benchmark TSV under {results}/benchmarks/<rule>/<wildcards>.tsv
(or {results}/benchmarks/<rule>.tsv for a rule without wildcards). Read together they say
what each job class costs as a function of N, which is what a user needs to check cluster
requests (rule benchmark_summary, `stdnet status --benchmarks`) and what `stdnet calibrate`
measures the machine's speed on (stdnet.workflow.calibration).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from stdnet.files.io import parse_wildcards

#: columns of a Snakemake benchmark TSV that we keep (seconds, MB)
BENCH_COLUMNS = ("s", "max_rss", "max_vms", "io_in", "io_out", "mean_load", "cpu_time")


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
