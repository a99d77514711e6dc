"""stdnet.open_results: the tables of a results folder as one xarray.Dataset over (N, J0,
seed), with the missing runs named and trajectories opened lazily."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stdnet
from stdnet.files.errors import InputFileError
from stdnet.files.tables import read_table, write_table
from stdnet.model.params import ModelParams, RunParams
from stdnet.simulation.simulate import read_simulation, simulate, write_simulation

xr = pytest.importorskip("xarray")

ROOT = Path(__file__).resolve().parents[1]
GRID = [(N, J0, s) for N in (100, 200) for J0 in (0.5, 1.5) for s in (1, 2)]
ABSENT = (200, 1.5, 2)  # the run that failed: no row anywhere


def nu_E(N, J0, s):
    return N / 1000 + J0 + s / 10


def _tables(root, *, transition=True):
    """A results folder with known numbers in runs, regimes, transition (or jfp and onset)
    and correlation_terms."""
    t = root / "tables"
    points = [p for p in GRID if p != ABSENT]
    write_table(pd.DataFrame([{"N": N, "J0": J0, "seed": s, "I0": 0.0, "nu_E": nu_E(N, J0, s),
                               "nu_I": 2 * nu_E(N, J0, s), "settled_homogeneous": J0 < 1,
                               "wall_time_s": 1.5} for N, J0, s in points]), t / "runs.csv")
    lyap = pd.DataFrame([{"N": N, "J0": J0, "seed": s, "lambda_max": J0 - 1 + s / 100,
                          "ci_max": 0.01 * s, "decision": "chaotic" if J0 > 1 else "not chaotic",
                          "converged": s == 1, "m": 2,
                          "lambda_1": J0 - 1 + s / 100, "ci_1": 0.01 * s,
                          "lambda_2": -0.5, "ci_2": 0.02} for N, J0, s in points])
    if transition:
        write_table(lyap.assign(regime=np.where(lyap["J0"] > 1, "chaos", "homogeneous FP")),
                    t / "regimes.csv")
        write_table(pd.DataFrame({"N": [100, 100, 200, 200], "seed": [1, 2, 1, 2],
                                  "J_FP": [0.8, 0.85, 0.9, 0.95],
                                  "crossing": ["hopf", "real", "hopf", "hopf"],
                                  "J_ch": [1.0, 1.1, 1.2, np.nan],
                                  "width": [0.2, 0.25, 0.3, np.nan],
                                  "route": ["hFP > C"] * 3 + ["hFP > P"]}),
                    t / "transition.csv")
    else:
        write_table(lyap, t / "lyapunov.csv")
        write_table(pd.DataFrame({"N": [100, 200], "seed": [1, 1], "J_FP": [0.8, 0.9],
                                  "crossing": ["hopf", "real"]}), t / "jfp.csv")
        write_table(pd.DataFrame({"N": [100, 200], "seed": [1, 1], "J_ch": [1.0, 1.25],
                                  "J_ch_se": [0.01, 0.02]}), t / "onset.csv")
    write_table(pd.DataFrame([{"N": 200, "J0": 1.5, "seed": 1, "E.E.shared": 3.0,
                               "E.E.corr": -2.5, "E.E.measured": 0.5, "E.E.shared_se": 0.1,
                               "I.total.fraction": 0.9}]), t / "correlation_terms.csv")
    return root


def test_every_number_lands_at_its_point(tmp_path):
    ds = stdnet.open_results(_tables(tmp_path))
    assert dict(ds.sizes) == {"N": 2, "J0": 2, "seed": 2, "exponent": 2, "target": 2,
                              "block": 4}
    assert ds.N.values.tolist() == [100, 200] and ds.J0.values.tolist() == [0.5, 1.5]
    for N, J0, s in GRID:
        at = ds.sel(N=N, J0=J0, seed=s)
        if (N, J0, s) == ABSENT:
            assert math.isnan(at.nu_E) and math.isnan(at.lambda_max) and bool(at.missing)
            assert math.isnan(at.settled_homogeneous) and at.regime.item() is np.nan
            continue
        assert at.nu_E.item() == nu_E(N, J0, s) and at.nu_I.item() == 2 * nu_E(N, J0, s)
        assert at.settled_homogeneous.item() == (1.0 if J0 < 1 else 0.0)
        assert at.lambda_max.item() == J0 - 1 + s / 100
        assert at.lambda_max_lo.item() == J0 - 1 + s / 100 - 0.01 * s
        assert at.lambda_max_hi.item() == J0 - 1 + s / 100 + 0.01 * s
        assert at.exponents.values.tolist() == [J0 - 1 + s / 100, -0.5]
        assert at.regime.item() == ("chaos" if J0 > 1 else "homogeneous FP")
        assert at.converged.item() == float(s == 1) and not bool(at.missing)
    assert ds.attrs["missing_runs"] == ["N=200, J0=1.5, seed=2"]
    assert ds.J_ch.dims == ("N", "seed")
    assert ds.J_ch.sel(N=200).values.tolist()[0] == 1.2 and math.isnan(ds.J_ch.sel(N=200,
                                                                                   seed=2))
    assert ds.route.sel(N=200, seed=2).item() == "hFP > P"
    assert ds.width.sel(N=100, seed=2).item() == 0.25
    cov = ds.sel(N=200, J0=1.5, seed=1)
    assert (cov.input_cov_shared.sel(target="E", block="E").item(),
            cov.input_cov_corr.sel(target="E", block="E").item(),
            cov.input_cov_measured.sel(target="E", block="E").item(),
            cov.input_cov_shared_se.sel(target="E", block="E").item(),
            cov.cancelled_fraction.sel(target="I", block="total").item()) == (
        3.0, -2.5, 0.5, 0.1, 0.9)
    assert int(ds.input_cov_shared.notnull().sum()) == 1  # one recording, one block
    assert ds.nu_E.attrs["units"] == "1/tau" and "E neurons" in ds.nu_E.attrs["description"]
    assert ds.lambda_max_half_width.attrs["units"] == "1/tau"
    assert ds.attrs["tables_read"] == ["runs.csv", "regimes.csv", "transition.csv",
                                       "correlation_terms.csv"]
    assert "simulation_wall_s" in ds and "wall_time_s" not in ds


def test_older_tables_and_absent_stages(tmp_path):
    """lyapunov.csv for regimes.csv, jfp.csv and onset.csv for transition.csv: the width is
    J_ch - J_FP; variables of tables that are not there are left out."""
    root = _tables(tmp_path, transition=False)
    (root / "tables" / "correlation_terms.csv").unlink()
    ds = stdnet.open_results(root)
    assert ds.attrs["tables_absent"] == ["regimes.csv", "transition.csv",
                                         "correlation_terms.csv"]
    assert "regime" not in ds and "input_cov_shared" not in ds and "route" not in ds
    assert ds.width.sel(N=200, seed=1).item() == 1.25 - 0.9
    assert math.isnan(ds.width.sel(N=200, seed=2))
    assert ds.J_ch_se.sel(N=100, seed=1).item() == 0.01
    assert ds.lambda_max.sel(N=100, J0=0.5, seed=1).item() == 0.5 - 1 + 0.01


def test_only_run_folders(tmp_path):
    """A workflow still running: simulation files, no tables yet: every point missing."""
    for N, J0, s in [(100, "0.87", 1), (100, "1", 1)]:
        d = tmp_path / f"N~{N}" / f"J0~{J0}" / f"seed~{s}"
        d.mkdir(parents=True)
        (d / "simulation.h5").write_bytes(b"")
    ds = stdnet.open_results(tmp_path)
    assert ds.J0.values.tolist() == [0.87, 1.0] and "nu_E" not in ds
    assert ds.attrs["missing_runs"] == ["N=100, J0=0.87, seed=1", "N=100, J0=1, seed=1"]
    assert ds.simulation_file.sel(J0=0.87).item().endswith("N~100/J0~0.87/seed~1/simulation.h5")


def test_bad_folders_are_named(tmp_path):
    with pytest.raises(InputFileError, match=r"'.*nowhere' does not exist"):
        stdnet.open_results(tmp_path / "nowhere")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputFileError, match="afile' is not a folder"):
        stdnet.open_results(tmp_path / "afile")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="holds no results: neither tables"):
        stdnet.open_results(tmp_path / "empty")


def test_trajectories_open_lazily_as_documented(tmp_path):
    """The docstring's recipe: simulation_file, then the group with h5netcdf."""
    pytest.importorskip("h5netcdf")
    m, r = ModelParams(N=100, J0=1.5), RunParams(t_transient=2.0, t_record=3.0)
    path = tmp_path / "N~100" / "J0~1.5" / "seed~1" / "simulation.h5"
    path.parent.mkdir(parents=True)
    write_simulation(path, simulate(m, r, 1, progress_every_s=1e9), m, r, 1)
    ds = stdnet.open_results(tmp_path)
    file = ds.simulation_file.sel(N=100, J0=1.5, seed=1).item()
    root = xr.open_dataset(file, engine="h5netcdf", phony_dims="sort")
    pop = xr.open_dataset(file, engine="h5netcdf", group="population",
                          phony_dims="sort").assign_coords(time=root.time)
    assert pop.nu_E.variable._in_memory is False  # nothing read yet
    sim = read_simulation(path)
    window = (sim["time"] >= 1.0) & (sim["time"] <= 2.0)
    assert pop.nu_E.sel(time=slice(1.0, 2.0)).values.tolist() == (
        sim["population"]["nu_E"][window].tolist())
    rec = xr.open_dataset(file, engine="h5netcdf", group="recorded", phony_dims="sort")
    assert sim["recorded"]["index"][0] == 0
    np.testing.assert_array_equal(rec.nu.sel(index=0).values, sim["recorded"]["nu"][:, 0])
    for opened in (root, pop, rec):
        opened.close()


def test_the_tiny_workflow_in_one_line(tiny_workflow_results):
    ds = stdnet.open_results(tiny_workflow_results)
    runs = read_table(tiny_workflow_results / "tables" / "runs.csv")
    regimes = read_table(tiny_workflow_results / "tables" / "regimes.csv")
    assert ds.attrs["missing_runs"] == [] and dict(ds.nu_E.sizes) == {"N": 2, "J0": 2,
                                                                      "seed": 2}
    for r in runs.itertuples():
        assert ds.nu_E.sel(N=r.N, J0=r.J0, seed=r.seed).item() == r.nu_E
    for r in regimes.itertuples():
        at = ds.sel(N=r.N, J0=r.J0, seed=r.seed)
        assert (at.lambda_max.item(), at.regime.item()) == (r.lambda_max, r.regime)
    assert all(ds.simulation_file.values.ravel())


def test_import_stdnet_stays_light():
    """open_results is loaded on first use: `import stdnet` loads neither xarray nor pandas."""
    code = ("import sys, stdnet; assert 'xarray' not in sys.modules and 'pandas' not in "
            "sys.modules; stdnet.open_results; assert 'xarray' in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_config_names_the_points_not_reached_and_probes_stay_out(tmp_path):
    """With the config, a point of its grid that no table has is missing; a run folder off
    the grid (an onset probe's) is not part of the dataset."""
    root = _tables(tmp_path / "results")
    for J0 in ("1.5", "1.03125"):  # a grid run and an onset probe
        d = root / "N~100" / f"J0~{J0}" / "seed~1"
        d.mkdir(parents=True)
        (d / "simulation.h5").write_bytes(b"")
    ds = stdnet.open_results(root)
    assert ds.J0.values.tolist() == [0.5, 1.5] and ds.attrs["missing_runs"] == [
        "N=200, J0=1.5, seed=2"]
    assert ds.simulation_file.sel(N=100, J0=1.5, seed=1).item().endswith("J0~1.5/seed~1/"
                                                                         "simulation.h5")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"results: {root}\ngrid: {{N: [100, 200], J0: [0.5, 1.5, 2], seeds: [1, 2]}}"
                   "\nfigures: {fig1: {N: 100, seed: 1, J0: [0.5]}}\n")
    ds = stdnet.open_results(root, config=[ROOT / "config" / "params.yaml", cfg])
    assert ds.J0.values.tolist() == [0.5, 1.5, 2.0]
    assert ds.attrs["missing_runs"] == ["N=100, J0=2, seed=1", "N=100, J0=2, seed=2",
                                        "N=200, J0=1.5, seed=2", "N=200, J0=2, seed=1",
                                        "N=200, J0=2, seed=2"]
    assert "c.yaml" in ds.attrs["expected_points"] and bool(ds.missing.sel(N=100, J0=2,
                                                                           seed=1))
