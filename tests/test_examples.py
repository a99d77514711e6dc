"""The scripts of examples/ run as they are documented (plain python, on the tiny workflow's
results), so that they cannot rot."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg",
           "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / script), *map(str, args)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def test_open_results(tiny_workflow_results):
    pytest.importorskip("h5netcdf")
    text = _run("open_results.py", tiny_workflow_results)
    assert "missing runs: none" in text
    assert "tables read: runs.csv, regimes.csv, transition.csv, correlation_terms.csv" in text
    assert "N=400, J0=1.5, seed=1: lambda_max = " in text
    # the lazily read trajectory gives the summary's mean rate
    last = text.strip().splitlines()[-1]
    assert "simulation.h5: nu_E after the transient, mean " in last
    mean, table = last.split("mean ")[1].split(" (runs.csv: ")
    assert mean == table.rstrip(")")


def test_redraw_figure(tiny_workflow_results, tmp_path):
    _run("redraw_figure.py", tiny_workflow_results, tmp_path)
    for name in ("lambda_vs_J0.png", "fraction_chaotic.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name


def test_run_network(tmp_path):
    text = _run("run_network.py", tmp_path)
    assert "settled on the fixed point: False" in text  # Rate Chaos at J0 = 1.5
    assert (tmp_path / "simulation.h5").exists() and (tmp_path / "rates.png").exists()
