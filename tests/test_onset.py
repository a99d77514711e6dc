"""The onset-of-chaos search (stdnet.onset.search): bisection logic, and the checkpointed workflow
search equal to the same search run serially in one process."""
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stdnet.onset import search as onset
from stdnet.onset.search import CHAOTIC, NOT_CHAOTIC, UNDECIDED, Probe

ROOT = Path(__file__).resolve().parents[1]


def _grid(decisions: dict) -> list:
    return [Probe(J0=j, decision=d, lambda_max=0.1 if d == CHAOTIC else -0.1,
                  half_width=0.01, step=0) for j, d in decisions.items()]


def _threshold_judge(J_star, undecided_near=0.0):
    def judge(J0):
        if abs(J0 - J_star) < undecided_near:
            return Probe(J0, UNDECIDED, 0.0, math.inf, 0)
        return Probe(J0, CHAOTIC if J0 >= J_star else NOT_CHAOTIC, J0 - J_star, 0.001, 0)
    return judge


def test_bisection_brackets_a_threshold_to_the_resolution():
    grid = _grid({0.5: NOT_CHAOTIC, 0.87: NOT_CHAOTIC, 1.0: CHAOTIC, 1.5: CHAOTIC})
    s = onset.serial_search(_threshold_judge(0.9373), 1000, 1, grid, resolution=0.01)
    assert s.status == onset.RESOLVED
    assert s.lo < 0.9373 <= s.hi and s.hi - s.lo <= 0.01
    assert abs(s.J_ch - 0.9373) <= 0.005
    # (1.0 - 0.87) / 2^4 < 0.01: four probes, numbered 1..4 after the grid's step 0
    assert [p.step for p in s.probes] == [0, 0, 0, 0, 1, 2, 3, 4]
    assert s.row()["n_probes"] == 4
    # the widest grid gap (0.5 -> 0.87) would need ceil(log2(0.5 / 0.01)) = 6
    assert onset.max_probes([0.5, 0.87, 1.0, 1.5], 0.01) == 6


def test_probes_sit_on_result_path_values():
    grid = _grid({0.1: NOT_CHAOTIC, 1.0: CHAOTIC})
    s = onset.serial_search(_threshold_judge(0.123456789), 200, 1, grid, resolution=1e-7)
    from stdnet.model.params import format_J0
    assert all(float(format_J0(p.J0)) == p.J0 for p in s.probes)
    assert s.status == onset.RESOLVED and s.hi - s.lo < 2e-6  # path precision reached


def test_undecided_probe_stops_and_keeps_the_bracket():
    grid = _grid({0.5: NOT_CHAOTIC, 1.5: CHAOTIC})
    s = onset.serial_search(_threshold_judge(0.9, undecided_near=0.2), 1000, 1, grid, 0.01,
                            undecided="stop")
    assert s.status == UNDECIDED and s.probes[-1].decision == UNDECIDED
    assert (s.lo, s.hi) == (0.5, 1.5) and s.J_ch == 1.0 and s.row()["J_ch_resolution"] == 1.0
    assert s.next_probe() is None


def test_undecided_probes_lie_below_the_onset_of_demonstrated_chaos():
    """Undecided within 0.05 of J* = 0.9: the search resolves the onset of decided chaos,
    J* + 0.05, and J_ch_weak marks where the undecided band starts."""
    grid = _grid({0.5: NOT_CHAOTIC, 1.5: CHAOTIC})
    s = onset.serial_search(_threshold_judge(0.9, undecided_near=0.05), 1000, 1, grid, 0.01)
    assert s.status == onset.RESOLVED and s.lo < 0.95 <= s.hi and s.hi - s.lo <= 0.01
    row = s.row()
    assert row["n_undecided"] >= 1 and 0.85 <= row["J_ch_weak"] < s.lo
    assert all(p.decision == UNDECIDED for p in s.probes if row["J_ch_weak"] <= p.J0 <= s.lo)


def test_undecided_grid_point_below_the_chaotic_ones():
    grid = _grid({0.5: NOT_CHAOTIC, 0.9: UNDECIDED, 1.0: CHAOTIC, 1.5: CHAOTIC})
    s = onset.start(1000, 1, grid, 0.01)  # below_onset: it has not shown chaos
    assert (s.lo, s.hi, s.status) == (0.9, 1.0, onset.SEARCHING) and s.next_probe() == 0.95
    s = onset.start(1000, 1, grid, 0.01, undecided="stop")  # stays inside the bracket
    assert (s.lo, s.hi, s.status) == (0.5, 1.0, onset.SEARCHING) and s.next_probe() == 0.75
    with pytest.raises(ValueError, match="transition.onset.undecided"):
        onset.start(1000, 1, grid, 0.01, undecided="guess")


def test_grid_ends():
    none = onset.start(1000, 1, _grid({0.5: NOT_CHAOTIC, 1.5: NOT_CHAOTIC}), 0.01)
    assert none.status == onset.NO_CHAOS and math.isnan(none.J_ch) and none.finished
    low = onset.start(1000, 1, _grid({0.5: CHAOTIC, 1.5: CHAOTIC}), 0.01)
    assert low.status == onset.CHAOS_AT_LOWEST and low.hi == 0.5 and math.isnan(low.J_ch)
    # the last crossing on the grid: a chaotic window below a regular one is left out
    win = onset.start(1000, 1, _grid({0.5: CHAOTIC, 0.8: NOT_CHAOTIC, 1.5: CHAOTIC}), 0.01)
    assert (win.lo, win.hi) == (0.8, 1.5)


def test_state_round_trips_and_refuses_the_wrong_probe(tmp_path):
    s = onset.start(1000, 3, _grid({0.5: NOT_CHAOTIC, 1.5: CHAOTIC}), 0.01)
    onset.write_search(tmp_path / "s.json", s)
    assert onset.read_search(tmp_path / "s.json") == s
    with pytest.raises(ValueError, match="expected the midpoint J0=1.0"):
        onset.advance(s, Probe(0.9, CHAOTIC, 0.1, 0.01, 1))
    with pytest.raises(ValueError, match="resolution"):
        onset.start(1000, 1, [], -1)
    with pytest.raises(ValueError, match="decision"):
        Probe(1.0, "chaos", 0.1, 0.01, 0)


# ---- the workflow: one checkpoint per probe == the serial search ------------------------


@pytest.fixture(scope="module")
def onset_workflow(tmp_path_factory):
    """tests/data/onset.yaml over tiny.yaml through Snakemake: N = 400, seeds 1 and 2, the
    onset stage alone (grid runs, probes, checkpoints, table); about a minute."""
    work = tmp_path_factory.mktemp("onset")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
           "--configfile", str(ROOT / "tests/data/tiny.yaml"),
           str(ROOT / "tests/data/onset.yaml"), "--cores", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-5000:]
    return work / yaml.safe_load((ROOT / "tests/data/onset.yaml").read_text())["results"]


def test_checkpointed_search_equals_serial_search(onset_workflow):
    """Every realization: replaying the search in this process, each probe a fresh
    simulation + exponents through the library (the rule scripts' calls), gives the same
    probes, decisions, exponents and J_ch as the checkpointed workflow."""
    from stdnet.workflow.config import load_config_files
    from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov
    from stdnet.model.network import build_network
    from stdnet.model.params import ModelParams, RunParams, format_J0
    from stdnet.simulation.simulate import simulate

    results = onset_workflow
    cfg = load_config_files([ROOT / "config/params.yaml", ROOT / "tests/data/tiny.yaml",
                             ROOT / "tests/data/onset.yaml"], ROOT / "config" / "schema")
    zero_tol = cfg["transition"]["zero_tol"]
    resolution = cfg["transition"]["onset"]["resolution"]
    run = RunParams.from_config(cfg["simulation"])
    table = pd.read_csv(results / "tables" / "onset.csv")
    probes = pd.read_csv(results / "tables" / "onset_probes.csv")
    assert len(table) == 2 and (probes["step"] >= 2).any()  # the search did probe
    for _, row in table.iterrows():
        N, seed = int(row["N"]), int(row["seed"])
        grid = [onset.probe_from_lyapunov(
            results / f"N~{N}/J0~{format_J0(j)}/seed~{seed}/lyapunov.h5", 0, zero_tol)
            for j in cfg["grid"]["J0"]]

        def judge(J0, N=N, seed=seed):
            model = ModelParams.from_config(cfg["model"], N=N, J0=J0)
            settings = LyapunovSettings.from_config(cfg["lyapunov"], cfg["simulation"], J0=J0)
            sim = simulate(model, run, seed)
            res, _ = onset_lyapunov(model, build_network(model, seed), sim["final"]["y"],
                                    settings, seed, zero_tol)
            return Probe(J0, res.decision, res.lambda_max, float(res.half_width[0]), 0,
                         n_batches=int(res.n_batches[0]), t_average=float(res.t_average),
                         ci_envelope=bool(res.ci_envelope[0]))

        serial = onset.serial_search(judge, N, seed, grid, resolution,
                                     cfg["transition"]["onset"]["undecided"])
        mine = probes[(probes["N"] == N) & (probes["seed"] == seed)].sort_values(
            ["step", "J0"])
        expected = sorted(serial.probes, key=lambda p: (p.step, p.J0))
        assert list(mine["J0"]) == [p.J0 for p in expected]
        assert list(mine["decision"]) == [p.decision for p in expected]
        assert list(mine["lambda_max"]) == [p.lambda_max for p in expected]
        assert row["onset_status"] == serial.status
        for col in ("J_ch", "J_ch_demonstrated", "J_ch_se"):
            mine_v, serial_v = row[col], serial.row()[col]
            assert mine_v == pytest.approx(serial_v, abs=1e-12) or (
                math.isnan(mine_v) and math.isnan(serial_v)), col
        assert row["J_ch_method"] == serial.row()["J_ch_method"]
