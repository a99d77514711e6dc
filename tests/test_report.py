"""The HTML report and the job accounting.

Unit tests of stdnet.workflow.benchmarks and stdnet.workflow.status on hand-made benchmark files
and run folders (exact
values), then the tiny workflow run end to end (tests/data/tiny.yaml, into a temporary
results folder) and `snakemake --report`: every figure the workflow made is in the
report, embedded, with a caption and a category, next to the workflow description,
the benchmark figure and the run status table.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stdnet.files.io import atomic_h5, parse_wildcards
from stdnet.workflow.benchmarks import read_benchmarks, summarise_benchmarks
from stdnet.workflow.plan import point_spec
from stdnet.workflow.status import run_status

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path: Path, s: float, rss: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BENCH_HEADER + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{s / 2}\n")


# ---- accounting ------------------------------------------------------------------
def test_parse_wildcards():
    assert parse_wildcards("N~200_J0~0.87_seed~3") == {"N": "200", "J0": "0.87", "seed": "3"}
    assert parse_wildcards("simulation_regimes") == {}


def test_read_and_summarise_benchmarks(tmp_path):
    b = tmp_path / "benchmarks"
    _bench(b / "simulate" / "N~200_J0~0.1_seed~1.tsv", 2.0, 100.0)
    _bench(b / "simulate" / "N~200_J0~0.1_seed~2.tsv", 4.0, 120.0)
    _bench(b / "simulate" / "N~400_J0~0.1_seed~1.tsv", 8.0, 300.0)
    _bench(b / "summarise.tsv", 1.5, 90.0)
    _bench(b / "figures" / "simulation_regimes.tsv", 3.0, 200.0)
    (b / "simulate" / "N~800_J0~0.1_seed~1.tsv").write_text("")  # killed while writing
    table = read_benchmarks(tmp_path / "benchmarks")
    assert len(table) == 5
    assert set(table["rule"]) == {"simulate", "summarise", "figures/simulation_regimes"}
    sims = table[table["rule"] == "simulate"].sort_values(["N", "seed"])
    assert sims["N"].tolist() == [200, 200, 400] and sims["seed"].tolist() == [1, 2, 1]
    summary = summarise_benchmarks(table)
    row = summary[(summary["rule"] == "simulate") & (summary["N"] == 200)].iloc[0]
    assert (row["jobs"], row["wall_median_s"], row["wall_max_s"], row["max_rss_mb"]) == \
        (2, 3.0, 4.0, 120.0)
    assert row["cpu_time_s"] == pytest.approx(3.0)


def test_run_status_of_every_kind(tmp_path):
    spec = point_spec(tmp_path, "simulate", "simulation.h5")
    point = lambda N, J0, s: tmp_path / f"N~{N}" / f"J0~{J0}" / f"seed~{s}"  # noqa: E731
    logs = tmp_path / "logs" / "simulate"
    logs.mkdir(parents=True)
    with atomic_h5(point(200, "0.1", 1) / "simulation.h5") as f:  # complete, with its marker
        f.create_group("params")
    (logs / "N~200_J0~0.1_seed~1.log").write_text("x: step 10/20 t = 1.0 ETA 0:00:01\n"
                                                 "x: finished 20 steps in 0.1 s\n")
    _bench(tmp_path / "benchmarks" / "simulate" / "N~200_J0~0.1_seed~1.tsv", 2.5, 150.0)
    (logs / "N~200_J0~0.1_seed~2.log").write_text("Traceback (most recent call last):\n"
                                                 "DivergenceError: integration diverged\n")
    point(200, "0.1", 3).mkdir(parents=True)
    (point(200, "0.1", 3) / "simulation.checkpoint.h5").write_bytes(b"x")
    point(200, "0.1", 5).mkdir(parents=True)
    (point(200, "0.1", 5) / "simulation.h5").write_bytes(b"x")  # truncated: not HDF5
    grid = [(200, "0.1", s) for s in (1, 2, 3, 4, 5)]
    table = run_status(grid, [spec])
    assert table["status"].tolist() == ["done", "failed", "incomplete", "not run", "corrupt"]
    assert table["wall_s"].iloc[0] == 2.5 and table["max_rss_mb"].iloc[0] == 150.0
    assert table["last_progress"].iloc[0] == "finished 20 steps in 0.1 s"


# ---- the report ------------------------------------------------------------------
def _embedded(html: str, name: str) -> dict:
    m = re.search(rf"var {name} = (\{{.*?\}});\s*</script>", html, flags=re.S)
    assert m, f"report has no '{name}' data"
    return json.loads(m.group(1))


def _snakemake(workdir, *extra, timeout):
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "-d", str(workdir), "--configfile", str(TINY), *extra]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"{' '.join(extra)}: {res.stderr[-4000:]}"
    # docutils reports caption mistakes (e.g. a bare |x|) as "(ERROR/3)" and goes on
    assert "(ERROR/" not in res.stderr, res.stderr[-4000:]


@pytest.fixture(scope="module")
def tiny_report(request, tmp_path_factory):
    """The tiny workflow run to the end in a fresh working directory, and its report.
    A session fixture `tiny_workflow_results` (the results folder of a finished tiny
    run made with `-d <workdir>`, e.g. in conftest.py) is reused when it exists, so the
    workflow runs once per session."""
    try:
        results = Path(request.getfixturevalue("tiny_workflow_results"))
    except pytest.FixtureLookupError:
        results = None
    if results is None:
        work = tmp_path_factory.mktemp("tiny")
        _snakemake(work, "--cores", "2", timeout=900)
        results = work / yaml.safe_load(TINY.read_text())["results"]
    report = tmp_path_factory.mktemp("report") / "report.html"
    _snakemake(results.parent, "--report", str(report), timeout=180)
    return results.resolve(), report.read_text()


def test_report_holds_every_figure_with_caption_and_category(tiny_report):
    results, html = tiny_report
    work = results.parent  # the report names files relative to the working directory

    def absolute(path: str) -> str:
        return str((work / path).resolve())

    entries = {absolute(k): v for k, v in _embedded(html, "results").items()}
    categories = {c: {sc: [absolute(p) for p in paths] for sc, paths in sub.items()}
                  for c, sub in _embedded(html, "categories").items()}
    figures = sorted((results / "figures").glob("*.png"))
    assert figures, "the tiny workflow made no figure"
    in_category = {p for sub in categories.values() for paths in sub.values() for p in paths}
    for fig in figures:
        entry = entries.get(str(fig))
        assert entry is not None, f"{fig.name} is not in the report (wrap it in report(...))"
        assert entry["data_uri"].startswith("data:image/png"), fig.name
        assert len(re.sub(r"<[^>]+>", "", entry["caption"]).strip()) > 40, \
            f"{fig.name}: caption missing or empty"
        assert str(fig) in in_category, f"{fig.name} has no category"
    assert str(results / "figures" / "workflow_benchmarks.png") in categories["9. Workflow"][
        "cost of the jobs"]
    assert str(results / "tables" / "run_status.csv") in entries
    assert "balanced excitatory/inhibitory rate networks" in html  # workflow.rst


def test_status_and_benchmark_tables_of_the_tiny_run(tiny_report):
    results, _ = tiny_report
    status = pd.read_csv(results / "tables" / "run_status.csv")
    sims = status[status["rule"] == "simulate"]
    assert len(sims) == 8 and set(sims["status"]) == {"done"}
    assert (sims["wall_s"] > 0).all() and (sims["max_rss_mb"] > 0).all()
    jobs = pd.read_csv(results / "tables" / "benchmarks.csv")
    assert (jobs["rule"] == "simulate").sum() == 8
    assert set(jobs[jobs["rule"] == "simulate"]["N"]) == {200, 400}
