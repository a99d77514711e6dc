"""Simulation runs: fixed point convergence, determinism, chunking, resume, errors, files."""
import h5py
import numpy as np
import pytest

from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.params import ModelParams, RunParams
from stdnet.simulation.simulate import (DivergenceError, SimState, Simulator, read_simulation, simulate,
                             write_simulation)


def _datasets(path):
    """Every dataset's bytes, except provenance (/meta holds wall time and dates)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()].tobytes()
        f.visititems(visit)
        out["params"] = dict(f["params"].attrs)
    return out


def test_small_coupling_converges_to_the_finite_n_fixed_point():
    p = ModelParams(N=400, J0=0.1)
    run = RunParams(t_transient=300.0, t_record=10.0, perturbation=1e-2)
    res = simulate(p, run, seed=1)
    fp = homogeneous_fixed_point(p)
    assert np.max(np.abs(res["final"]["y"] - fp.state(p))) < 1e-8
    assert res["neurons"]["h_var"].max() < 1e-16


def test_chunked_run_equals_one_run(small_params, short_run):
    one = Simulator(small_params, short_run, 3)
    one.advance_to(short_run.total_steps)
    pieces = Simulator(small_params, short_run, 3)
    for stop in (1, 7, 10, 33, 150, short_run.total_steps):
        pieces.advance_to(stop)
    a, b = one.result(), pieces.result()
    assert a["final"]["y"].tobytes() == b["final"]["y"].tobytes()
    assert a["recorded"]["h"].tobytes() == b["recorded"]["h"].tobytes()
    assert a["neurons"]["nu_var"].tobytes() == b["neurons"]["nu_var"].tobytes()


def test_resume_from_saved_state_equals_uninterrupted(tmp_path, small_params, short_run):
    full = Simulator(small_params, short_run, 2)
    full.advance_to(short_run.total_steps)
    first = Simulator(small_params, short_run, 2)
    first.advance_to(77)
    first.state.save(tmp_path / "ck.h5", first.fingerprint())
    state = SimState.load(tmp_path / "ck.h5", first.fingerprint())
    second = Simulator(small_params, short_run, 2, state=state)
    second.advance_to(short_run.total_steps)
    for key in ("y",):
        assert full.result()["final"][key].tobytes() == second.result()["final"][key].tobytes()
    assert full.state.population.tobytes() == second.state.population.tobytes()
    assert full.state.h_m2.tobytes() == second.state.h_m2.tobytes()


def test_checkpoint_of_another_run_is_refused(tmp_path, small_params, short_run):
    sim = Simulator(small_params, short_run, 2)
    sim.state.save(tmp_path / "ck.h5", sim.fingerprint())
    other = Simulator(small_params.replace(J0=1.0), short_run, 2)
    with pytest.raises(ValueError, match="belongs to another run"):
        SimState.load(tmp_path / "ck.h5", other.fingerprint())


def test_same_seed_same_bytes_other_seed_differs(tmp_path, small_params, short_run):
    paths = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        paths[name] = tmp_path / f"{name}.h5"
        write_simulation(paths[name], simulate(small_params, short_run, seed), small_params,
                         short_run, seed)
    a, b, c = (_datasets(paths[k]) for k in "abc")
    assert a == b
    assert a["final/y"] != c["final/y"]


def test_file_layout_and_read_back(tmp_path, small_params, short_run):
    path = tmp_path / "run.h5"
    res = simulate(small_params, short_run, 1)
    write_simulation(path, res, small_params, short_run, 1)
    sim = read_simulation(path)
    n_t = short_run.total_steps // short_run.steps_per_record + 1
    assert sim["time"].shape == (n_t,)
    assert sim["time"][-1] == pytest.approx(short_run.t_transient + short_run.t_record)
    for key in ("nu_E", "nu_I", "x", "h_E", "h_I"):
        assert sim["population"][key].shape == (n_t,)
    assert sim["recorded"]["h"].shape == (n_t, 2 * short_run.n_record)
    assert sim["neurons"]["h_mean"].shape == (small_params.N,)
    assert sim["neurons"]["n_samples"] == short_run.n_samples + 1
    assert sim["params"]["J0"] == small_params.J0 and sim["params"]["seed"] == 1
    assert sim["meta"]["git_commit"] and "numba" in sim["meta"]
    assert not list(tmp_path.glob(".*tmp*"))
    # population means are the means of the state at each sample
    assert sim["population"]["h_E"][-1] == pytest.approx(
        sim["final"]["y"][: small_params.N_E].mean(), rel=1e-12)


def test_divergence_stops_with_step_time_and_parameters(tmp_path):
    p = ModelParams(N=200, J0=40.0)
    run = RunParams(dt=1.0, t_transient=0.0, t_record=50.0, record_interval=1.0,
                    perturbation=0.5)
    with pytest.raises(DivergenceError, match=r"step \d+, t = [\d.]+, for N=200, J0=40.0"):
        res = simulate(p, run, 1)
        write_simulation(tmp_path / "x.h5", res, p, run, 1)
    assert not list(tmp_path.iterdir())


def test_interrupted_write_leaves_nothing(tmp_path, small_params, short_run):
    res = simulate(small_params, short_run, 1)
    res["population"]["nu_E"] = object()  # makes h5py fail half-way through the write
    with pytest.raises(Exception):
        write_simulation(tmp_path / "run.h5", res, small_params, short_run, 1)
    assert not list(tmp_path.iterdir())


def test_simulation_file_opens_in_xarray_with_named_dimensions(tmp_path):
    """Every group opens with netCDF semantics (no anonymous dimensions: phony_dims=None
    refuses them) and every dataset carries units."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    import h5py

    from stdnet.simulation.simulate import simulate, write_simulation

    m, r = ModelParams(N=200, J0=1.0), RunParams(t_transient=2.0, t_record=3.0)
    path = tmp_path / "sim.h5"
    write_simulation(path, simulate(m, r, 1), m, r, 1)
    pop = xr.open_dataset(path, engine="h5netcdf", group="population", phony_dims=None)
    assert pop["nu_E"].dims == ("time",) and pop["nu_E"].attrs["units"] == "1/tau"
    rec = xr.open_dataset(path, engine="h5netcdf", group="recorded", phony_dims=None)
    assert rec["h"].shape == (11, 8) and rec["x"].shape == (11, 4)
    neu = xr.open_dataset(path, engine="h5netcdf", group="neurons", phony_dims=None)
    assert neu["h_mean"].shape == (200,) and neu["x_mean"].shape == (160,)
    with h5py.File(path, "r") as f:
        missing = []
        f.visititems(lambda name, obj: missing.append(name) if isinstance(obj, h5py.Dataset)
                     and "units" not in obj.attrs and "unit" not in obj.attrs else None)
    assert missing == []


def test_every_progress_line_gives_its_eta_as_h_mm_ss():
    """simulate, lyapunov, record_inputs and the DMF print the ETA the same way."""
    from stdnet.files.progress import format_duration

    assert format_duration(3725.4) == "1:02:05"
    assert format_duration(59.6) == "0:01:00"
    assert format_duration(float("inf")) == "?" and format_duration(-1.0) == "0:00:00"
