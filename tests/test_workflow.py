"""The tiny workflow (tests/data/tiny.yaml: 2 N x 2 J0 x 2 seeds) runs end to end."""
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def tiny_run(tiny_workflow_results):
    return tiny_workflow_results


def test_simulations_and_table(tiny_run):
    sims = sorted(tiny_run.glob("N~*/J0~*/seed~*/simulation.h5"))
    assert len(sims) == 8
    table = pd.read_csv(tiny_run / "tables" / "runs.csv")
    assert len(table) == 8
    assert set(table["N"]) == {200, 400} and set(table["J0"]) == {0.1, 1.5}
    # small coupling settles on the homogeneous fixed point, strong coupling does not
    assert table.loc[table["J0"] == 0.1, "settled_homogeneous"].all()
    assert not table.loc[table["J0"] == 1.5, "settled_homogeneous"].any()
    assert (table.loc[table["J0"] == 1.5, "h_E_var_temporal"] > 1e-3).all()


def test_figures(tiny_run):
    for name in ("simulation_regimes", "meanfield_fixed_point"):
        for ext in ("png", "pdf"):
            path = tiny_run / "figures" / f"{name}.{ext}"
            assert path.stat().st_size > 10_000, path


def test_every_job_logged_and_benchmarked(tiny_run):
    # the 8 grid points and every onset-search probe at a J0 off the grid
    probes = pd.read_csv(tiny_run / "tables" / "onset_probes.csv")
    points = {(n, round(j, 6), s) for n, j, s in probes[["N", "J0", "seed"]].itertuples(
        index=False)}
    assert len(points) >= 8
    logs = list((tiny_run / "logs" / "simulate").glob("*.log"))
    assert len(logs) == len(points)
    text = logs[0].read_text()
    assert "steps of rk4" in text and "finished" in text
    assert len(list((tiny_run / "benchmarks" / "simulate").glob("*.tsv"))) == len(points)


def test_no_temporary_files_left(tiny_run):
    assert not [p for p in tiny_run.rglob("*") if ".tmp-" in p.name]
