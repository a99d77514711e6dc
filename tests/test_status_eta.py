"""`stdnet status` below its table: each incomplete job's last progress line with its ETA, and
the ETA of the per-point jobs left by the cost model (stdnet.workflow.remaining)."""
from pathlib import Path

import pandas as pd
import pytest

from stdnet.cli import main
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.costmodel import PARALLEL_EFFICIENCY, CostModel
from stdnet.workflow.plan import SweepPlan, point_spec
from stdnet.workflow.progress_log import last_progress_record, record_time
from stdnet.workflow.remaining import Remaining, remaining_work, running_jobs, summary_lines
from stdnet.workflow.status import run_status

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "config" / "params.yaml"
STAMP = "2026-12-06 09:25:43,496"
LINE = ("800/1600 steps  t = 80.0/160.0 tau  8 steps/s  elapsed 0:01:50  ETA 0:01:40  "
        "lambda_1 (running) = 0.1000")


def _config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"results: {tmp_path / 'results'}\n"
                   "grid: {N: [100, 200], J0: [0.5, 1.5], seeds: [1]}\n"
                   "figures: {fig1: {N: 100, seed: 1, J0: [0.5]}}\n")
    return [PARAMS, cfg]


def _status(cfg: dict, results) -> pd.DataFrame:
    return pd.concat([run_status(points, [point_spec(results, rule, name)])
                      for rule, name, points in SweepPlan(cfg).point_outputs()],
                     ignore_index=True)


def _running_lyapunov(results):
    """N=200, J0=1.5: its Lyapunov run half way (a log with a progress line, no output)."""
    log = Path(results) / "logs" / "lyapunov" / "N~200_J0~1.5_seed~1.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"{STAMP} stdnet.lyapunov.spectrum INFO: N=200 J0=1.5 seed=1: 4 exponents\n"
                   f"{STAMP} stdnet.lyapunov.spectrum INFO: {LINE}\n")
    return log


def test_the_last_progress_line_and_when_it_was_written(tmp_path):
    log = _running_lyapunov(tmp_path)
    record = last_progress_record(log)
    assert record.line == LINE and record.written == record_time(STAMP + " x")
    assert last_progress_record(tmp_path / "none.log") is None
    log.write_text("a line without a time stamp, ETA 0:00:10\n")
    assert last_progress_record(log).written == log.stat().st_mtime


def test_running_jobs_and_the_eta_left(tmp_path):
    files = _config(tmp_path)
    cfg, results = load_config_files(files, schema_dir()), tmp_path / "results"
    _running_lyapunov(results)
    table = _status(cfg, results)
    now = record_time(STAMP + " x") + 30.0
    running = running_jobs(table, results, now=now)
    assert running[["rule", "N", "J0", "seed", "line", "age_s", "eta_s"]].values.tolist() == [
        ["lyapunov", 200, "1.5", 1, LINE, 30.0, 70.0]]

    model = CostModel(cfg)
    left = remaining_work(table, model, running)
    expected, longest, jobs = 0.0, 0.0, 0
    for r in table.itertuples():
        if r.status == "done" or (r.rule, r.N, r.J0) == ("lyapunov", 200, "1.5"):
            continue
        threads = model.threads(r.rule, N=r.N, J0=r.J0)
        held = model.job(r.rule, N=r.N, J0=r.J0).seconds / (1 if threads == 1
                                                             else PARALLEL_EFFICIENCY)
        expected, longest, jobs = expected + held, max(longest, held / threads), jobs + 1
    assert jobs + 1 == (table["status"] != "done").sum()
    assert left.jobs == jobs + 1
    assert left.core_seconds == pytest.approx(expected + 70.0, rel=1e-12)
    assert left.longest_s == pytest.approx(max(longest, 70.0), rel=1e-12)
    assert left.eta_s(2) == pytest.approx(max(left.core_seconds / 2, left.longest_s))


def test_summary_says_what_it_assumes():
    left = Remaining(jobs=3, core_seconds=7200.0, longest_s=600.0)
    assert left.eta_s(1) == 7200.0 and left.eta_s(4) == 1800.0 and left.eta_s(100) == 600.0
    running = pd.DataFrame([{"rule": "simulate", "N": 100, "J0": "0.5", "seed": 1,
                             "line": LINE, "age_s": 5.0, "eta_s": 95.0}])
    lines = summary_lines(running, left, cores=4, speed=0.5)
    assert lines[1] == (f"  simulate N=100 J0=0.5 seed=1: {LINE}  [written 0:00:05 ago; "
                        "ETA now 0:01:35]")
    assert lines[2] == ("left: 3 per-point job(s), 2 core-hours (cost model at machine.speed "
                        "0.5; running jobs by their ETA)")
    assert lines[3].startswith("ETA 0:30:00 on 4 cores, if the jobs keep the cores busy")
    none_running = running.iloc[:0]
    assert summary_lines(none_running, left, None, 1.0)[1].startswith(
        "ETA 2:00:00 on one core (--cores C divides it by C)")
    assert summary_lines(none_running, Remaining(0, 0.0, 0.0), 2, 1.0) == []


def test_status_command_prints_the_eta(tmp_path, capsys):
    files = _config(tmp_path)
    _running_lyapunov(tmp_path / "results")
    assert main(["status", *map(str, files), "--cores", "2"]) == 9
    out = capsys.readouterr().out
    assert "incomplete with a progress line (1)" in out
    assert f"  lyapunov N=200 J0=1.5 seed=1: {LINE}  [written " in out
    assert "per-point job(s)" in out and " on 2 cores, if the jobs keep the cores busy" in out
    assert "None" not in out


def test_status_refuses_zero_cores(tmp_path, capsys):
    assert main(["status", *map(str, _config(tmp_path)), "--cores", "0"]) == 2
    assert "--cores: value 0 is not allowed; allowed: an integer >= 1" in capsys.readouterr().err
