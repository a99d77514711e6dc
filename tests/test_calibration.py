"""`stdnet calibrate`: the machine speed recovered from the benchmark files of a run whose
jobs took exactly 1/speed of the model's price, and the errors that name what is wrong."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from stdnet import cli
from stdnet.files import io
from stdnet.workflow.calibration import machine_speed, priced_jobs, ratio_table
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.costmodel import CostModel

SPEED = 0.4
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, wall, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:01\t200\t400\t90\t110\t0\t0\t50\t{cpu}\n")


@pytest.fixture
def run(tmp_path):
    """A results folder: simulate and lyapunov jobs of N = 1000 and 2000 of the default
    config (one grid J0 and one probe J0), each taking the model's price / SPEED of CPU
    time (lyapunov runs with different averaging times) and twice that of wall time."""
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump({"results": str(tmp_path / "res")}))
    files = ["config/params.yaml", str(cfg_file)]
    cfg = load_config_files(files, schema_dir())
    cm = CostModel(cfg)
    root = tmp_path / "res"
    for N in (1000, 2000):
        for J0, t_av in (("1.5", 200.0), ("1.125", 600.0)):
            point = f"N~{N}_J0~{J0}_seed~1"
            sim = cm.job("simulate", N=N).seconds
            _bench(root / "benchmarks" / "simulate" / f"{point}.tsv", 2 * sim / SPEED,
                   sim / SPEED)
            ly = cm.lyapunov_seconds(N, float(J0), t_av)
            _bench(root / "benchmarks" / "lyapunov" / f"{point}.tsv", 2 * ly / SPEED,
                   ly / SPEED)
            run_dir = root / f"N~{N}" / f"J0~{J0}" / "seed~1"
            run_dir.mkdir(parents=True)
            with io.atomic_h5(run_dir / "lyapunov.h5") as h:  # complete, of its point
                io.write_attrs(h.create_group("params"),
                               {"N": N, "J0": float(J0), "seed": 1})
                h.create_group("summary").attrs["t_average_total"] = t_av
    return files, cfg


def test_speed_and_ratios_recovered(run):
    files, cfg = run
    jobs = priced_jobs(cfg)
    assert len(jobs) == 8 and set(jobs["kind"]) == {"grid", "probe"}
    speed, used = machine_speed(jobs, "simulate", min_seconds=0)
    assert speed == pytest.approx(SPEED) and used == 4
    table = ratio_table(jobs, speed)
    assert table["cpu_over_pred"].to_numpy() == pytest.approx(1.0)
    assert table["wall_over_pred"].to_numpy() == pytest.approx(2.0)
    # the lyapunov jobs alone give the same speed: each was priced for its own length
    assert machine_speed(jobs, "lyapunov", 0)[0] == pytest.approx(SPEED)


def test_command_prints_the_config_lines(run, capsys, tmp_path):
    files, _ = run
    out_csv = tmp_path / "ratios.csv"
    assert cli.main(["calibrate", *files, "--min-seconds", "0", "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "machine:\n  speed: 0.4" in out and "cache_mib: 64" in out
    assert len(pd.read_csv(out_csv)) == 8  # 2 rules x 2 N x 2 kinds


def test_errors_name_the_option(run, capsys, tmp_path):
    files, _ = run
    assert cli.main(["calibrate", *files, "--min-seconds", "1e9"]) == 2
    assert "--min-seconds: invalid value 1e+09" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump({"results": str(tmp_path / "nothing")}))
    assert cli.main(["calibrate", *files, str(empty)]) == 2
    assert "has no finished simulate or lyapunov job" in capsys.readouterr().err
