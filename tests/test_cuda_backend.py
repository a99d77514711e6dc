"""The CUDA backend (simulation.backend: cuda) against the CPU kernels.

CI has no GPU: these tests run the CUDA kernels in numba-cuda's simulator on the CPU
(tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1 unless it is set), which executes the
same kernel code thread by thread in Python, about 10^4 times slower than the CPU
kernels. So the networks are tiny (N = 40, c = 0.25: K_E = 8, K_I = 2) and runs short
(at most 100 RK4 steps). With NUMBA_ENABLE_CUDASIM=0 on a machine with a GPU the same
tests run on the device. `test_kernels_compile_for_hopper` compiles every kernel to
sm_90 PTX with NVVM, which catches what the simulator cannot (typing, lowering).

Tolerances: the GPU sums in another order than the CPU (shares of a row, then the
shares in order), so results agree to round-off, not bit for bit: relative 1e-12 after
100 RK4 steps in float64 (the issue's target; measured 1.3e-14 at N = 40). float32 state
agrees to 1e-5 relative after 20 steps (both round each stage to float32).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from stdnet.kernels.cuda.device import cuda_problem
from stdnet.kernels.cuda.layout import (
    layout_bytes,
    n_words,
    pack_rows,
    row_splits,
    tile_rows,
    tile_widths,
    unpack_rows,
    untile,
    untile_words,
)
from stdnet.model.params import ModelParams, RunParams

ROOT = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(cuda_problem() is not None,
                                reason=f"CUDA backend unavailable: {cuda_problem()}")

P = ModelParams(N=40, J0=1.5, c=0.25)


def _run(backend="cpu", **kw):
    d = dict(dt=0.05, t_transient=2.5, t_record=2.5, record_interval=0.5, n_record=3,
             perturbation=0.1, backend=backend)
    d.update(kw)
    return RunParams(**d)


def _simulate(run, seed=3, params=P, chunks=None):
    from stdnet.simulation.simulate import Simulator

    sim = Simulator(params, run, seed)
    for target in (chunks or []) + [run.total_steps]:
        sim.advance_to(target)
    return sim.result()


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(b), 1e-300)))


# ---- layout (no CUDA needed) ----------------------------------------------------------
@pytest.mark.parametrize("n_pool,K", [(100, 7), (65535, 8), (65536, 9), (70000, 50),
                                      (200000, 13)])
def test_packed_tiled_rows_give_back_every_index(n_pool, K):
    rng = np.random.default_rng(n_pool)
    n = 45  # one full tile and a padded one
    rows = np.array([np.sort(rng.choice(n_pool, K, replace=False)) for _ in range(n)])
    rows = rows.astype(np.uint16 if n_pool <= 65536 else np.uint32)
    words, bounds = pack_rows(rows, n_pool)
    assert words.shape == (n, (K + 3) // 4) and words.dtype == np.uint64
    assert bounds.shape == (n, n_pool // 65536 + 2)
    tw, off, tb = tile_rows(words, bounds)
    W = words.shape[1]
    assert tw.shape == (2 * W, 32) and list(off) == [0, W, 2 * W]
    # the (tiles, W, 32) array of the fixed-width layout, word for word
    np.testing.assert_array_equal(tw.reshape(2, W, 32)[1, :, :13], words[32:].T)
    back = unpack_rows(untile_words(tw, off, n), untile(tb, n), K)
    np.testing.assert_array_equal(back, rows)
    # padding entries point at the zero slot n_pool
    full = unpack_rows(words, bounds, 4 * words.shape[1])
    assert (full[:, K:] == n_pool).all()


def _variable_rows(rng, n_pool, lengths):
    """Sorted rows of the given lengths over a pool of n_pool, as (flat, ptr)."""
    rows = [np.sort(rng.choice(n_pool, k, replace=False)) for k in lengths]
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(rows).astype(np.uint16 if n_pool <= 65536 else np.uint32)
    return rows, (flat, ptr)


@pytest.mark.parametrize("n_pool", [300, 140000])
def test_variable_rows_pack_into_tiles_of_their_own_width(n_pool):
    """Rows of 0..40 entries in 4 tiles (the second all empty, the last padded): each tile
    is stored in the words of its longest row, every row gives back its indices and then
    the zero slot up to its tile's width, and layout_bytes is what the arrays take."""
    rng = np.random.default_rng(n_pool)
    lengths = np.concatenate([rng.integers(0, 41, 32), np.zeros(32, np.int64),
                              rng.integers(0, 9, 32), [0, 40, 3]])
    lengths[5] = 0
    rows, (flat, ptr) = _variable_rows(rng, n_pool, lengths)
    n = lengths.size
    widths = tile_widths(lengths)
    assert list(widths) == [n_words(lengths[32 * t:32 * t + 32].max()) for t in range(4)]
    assert widths[1] == 0 and widths[3] == 10
    words, bounds = pack_rows((flat, ptr), n_pool)
    tw, off, tb = tile_rows(words, bounds, widths)
    assert tw.shape == (widths.sum(), 32) and list(np.diff(off)) == list(widths)
    assert tw.nbytes + off.nbytes + tb.nbytes == layout_bytes(n, lengths, n_pool)
    full = unpack_rows(untile_words(tw, off, n), untile(tb, n))
    for i, row in enumerate(rows):
        k, width = len(row), 4 * widths[i // 32]
        np.testing.assert_array_equal(full[i, :k], row)
        assert (full[i, k:width] == n_pool).all(), i  # padding: the zero slot
    # the same rows as one fixed-width array: the fixed layout's words
    fixed = np.array([np.sort(rng.choice(n_pool, 13, replace=False)) for _ in range(n)])
    fixed = fixed.astype(flat.dtype)
    as_flat = pack_rows((fixed.ravel(), np.arange(n + 1) * 13), n_pool)
    for a, b in zip(as_flat, pack_rows(fixed, n_pool)):
        np.testing.assert_array_equal(a, b)


def test_a_row_longer_than_its_width_is_refused():
    with pytest.raises(ValueError, match="widths: row 1 has 5 entries, more than its 1 words"):
        pack_rows((np.arange(7, dtype=np.uint16), np.array([0, 2, 7])), 10, widths=[1, 1])


def test_unsorted_rows_are_refused_with_the_row():
    rows = np.array([[1, 2, 3], [5, 4, 6]], dtype=np.uint16)
    with pytest.raises(ValueError, match="row 1 is not strictly increasing"):
        pack_rows(rows, 10)


def test_row_splits_depend_on_the_network_only():
    for N, W in [(40, 3), (10000, 250), (100000, 2500), (10 ** 6, 2500)]:
        s = row_splits(N, W)
        assert s >= 1 and s <= 64 and s & (s - 1) == 0
        assert s == 1 or W // s >= 32  # every thread streams >= 32 words
    assert row_splits(100000, 2500) == 4 and row_splits(10 ** 6, 2500) == 1


# ---- kernels against numpy and the CPU ------------------------------------------------
@needs_cuda
@pytest.mark.parametrize("n_pool,variable", [(300, False), (140000, False), (300, True),
                                             (140000, True)])
def test_gather_sums_every_share_of_every_row(n_pool, variable):
    """Rows over a pool of 140000 sources cross two block boundaries of the 16-bit
    indices; S = 3 shares of unequal length (one empty for the I rows). Variable rows:
    0..44 E inputs (empty rows among them), and a tile whose I rows are all empty."""
    from numba import cuda

    from stdnet.kernels.cuda import kernels as K

    rng = np.random.default_rng(1)
    N, N_E, KE, KI, S = 70, 40, 22, 2, 3
    if variable:
        deg_E = rng.integers(0, 45, N)
        deg_E[[3, 40, 69]] = 0
        deg_I = rng.integers(0, 5, N)
        deg_I[32:64] = 0
        rows_E, pre_E = _variable_rows(rng, n_pool, deg_E)
        rows_I, pre_I = _variable_rows(rng, 50, deg_I)
        widths = (tile_widths(deg_E), tile_widths(deg_I))
        assert widths[1][1] == 0 and widths[0].min() < widths[0].max()
    else:
        rows_E = [np.sort(rng.choice(n_pool, KE, replace=False)) for _ in range(N)]
        rows_I = [np.sort(rng.choice(50, KI, replace=False)) for _ in range(N)]
        pre_E, pre_I = np.array(rows_E).astype(np.uint32), np.array(rows_I)
        widths = (None, None)
    nu_E = np.append(rng.random(n_pool), 0.0)
    s_E = np.append(rng.random(n_pool), 0.0)
    nu_I = np.append(rng.random(50), 0.0)
    d = {k: cuda.to_device(v) for k, v in
         zip(("wE", "oE", "bE"), tile_rows(*pack_rows(pre_E, n_pool), widths[0]))}
    d.update(zip(("wI", "oI", "bI"),
                 map(cuda.to_device, tile_rows(*pack_rows(pre_I, 50), widths[1]))))
    part = cuda.device_array((2, S, N))
    flag = cuda.to_device(np.array([-1]))
    K.gather[K.blocks(S * 96), K.THREADS](d["wE"], d["oE"], d["bE"], d["wI"], d["oI"],
                                          d["bI"], N, N_E, S, cuda.to_device(nu_E),
                                          cuda.to_device(nu_I), cuda.to_device(s_E), part,
                                          flag)
    got = part.copy_to_host().sum(axis=1)
    exc = [(s_E if i < N_E else nu_E)[r].sum() for i, r in enumerate(rows_E)]
    np.testing.assert_allclose(got[0], [nu_I[r].sum() for r in rows_I], rtol=1e-14)
    np.testing.assert_allclose(got[1], exc, rtol=1e-14)


def _assert_matches_cpu(gpu, cpu):
    """Final state, population series, recorded traces and per-neuron means within the
    GPU's round-off tolerance (relative 1e-12), from a run whose state did move."""
    assert np.ptp(cpu["population"]["nu_E"]) > 1e-3  # the state did move
    assert _rel(gpu["final"]["y"], cpu["final"]["y"]) < 1e-12
    for k in cpu["population"]:
        assert _rel(gpu["population"][k], cpu["population"][k]) < 1e-12, k
    for k in ("h", "nu", "x"):
        assert _rel(gpu["recorded"][k], cpu["recorded"][k]) < 1e-12, k
    for k in ("h_mean", "nu_mean", "x_mean"):
        assert _rel(gpu["neurons"][k], cpu["neurons"][k]) < 1e-12, k


@needs_cuda
def test_100_rk4_steps_match_the_cpu_to_round_off():
    """The issue's criterion: relative 1e-12 after 100 RK4 steps (N = 40, J0 = 1.5, a
    0.1 kick: the rates move); recorded traces, population means, statistics too."""
    cpu, gpu = _simulate(_run("cpu")), _simulate(_run("cuda"))
    assert _run().total_steps == 100
    _assert_matches_cpu(gpu, cpu)
    for k in ("h_var", "nu_var"):
        np.testing.assert_allclose(gpu["neurons"][k], cpu["neurons"][k], rtol=1e-9,
                                   atol=1e-18)
    assert gpu["neurons"]["n_samples"] == cpu["neurons"]["n_samples"] == 6


#: heterogeneous networks (docs/heterogeneity.md): Erdos-Renyi, gamma in-degrees of CV 0.2,
#: both with per-neuron u and tau_D; and CV 1 at N = 100, c = 0.1 (seed 1: 7 E and 29 I rows
#: empty, 2 neurons without any input; within the in-degree limit of model.indegree_cv)
HETEROGENEOUS = {
    "erdos_renyi": ModelParams(N=40, J0=1.5, c=0.25, connectivity="erdos_renyi", u_cv=0.3,
                               tau_D_cv=0.3),
    "indegree_cv": ModelParams(N=40, J0=1.5, c=0.25, connectivity="indegree_cv",
                               indegree_cv=0.2, indegree_rho=0.5, u_cv=0.3, tau_D_cv=0.3),
    "empty_rows": ModelParams(N=100, J0=1.5, c=0.1, connectivity="indegree_cv",
                              indegree_cv=1.0),
}


@needs_cuda
@pytest.mark.parametrize("name", list(HETEROGENEOUS))
def test_heterogeneous_networks_match_the_cpu_to_round_off(name):
    """Variable rows in tiles of their own width and per-neuron u_j, tau_D,j: 50 RK4 steps
    against the CPU kernels, the tolerance of the paper's network (relative 1e-12)."""
    from stdnet.model.network import build_network

    params = HETEROGENEOUS[name]
    net = build_network(params, 1)
    assert not net.fixed_indegree
    assert (net.u_E is not None) == (params.u_cv > 0)
    if name == "empty_rows":
        assert (net.in_degree_E == 0).sum() == 7 and (net.in_degree_I == 0).sum() == 29
    run = dict(t_transient=1.25, t_record=1.25, record_interval=0.25)
    cpu = _simulate(_run("cpu", **run), seed=1, params=params)
    gpu = _simulate(_run("cuda", **run), seed=1, params=params)
    _assert_matches_cpu(gpu, cpu)


def _device_arrays(obj):
    """Every device array an engine holds (attributes, lists, dicts)."""
    if hasattr(obj, "copy_to_host"):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [a for o in obj for a in _device_arrays(o)]
    if isinstance(obj, dict):
        return _device_arrays(list(obj.values()))
    return []


@needs_cuda
@pytest.mark.parametrize("name", ["paper", "indegree_cv", "empty_rows"])
def test_device_bytes_is_what_the_engine_allocates(name):
    """device_bytes, from the realization's in-degrees, against the bytes of every device
    array of a CudaEngine; variable rows take their tiles' widths, less than one width for
    all rows."""
    from stdnet.kernels.cuda.engine import CudaEngine, device_bytes
    from stdnet.model.network import build_network, realization_in_degrees
    from stdnet.simulation.simulate import initial_state

    params = P if name == "paper" else HETEROGENEOUS[name]
    run = _run("cuda")
    net = build_network(params, 1)
    state = SimpleNamespace(y=initial_state(params, run, 1), **{
        k: np.zeros(params.N if k != "x_mean" else params.N_E)
        for k in ("h_mean", "h_m2", "nu_mean", "nu_m2", "x_mean")})
    eng = CudaEngine(params, run, net, state, S=2)
    held = {id(a): a.nbytes for a in _device_arrays(list(vars(eng).values()))}
    degrees = realization_in_degrees(params, 1)
    assert sum(held.values()) == device_bytes(params, "float64", 2, degrees)
    if name == "paper":
        assert device_bytes(params, "float64", 2) == sum(held.values())
        return
    np.testing.assert_array_equal(degrees[0], net.in_degree_E)
    pattern = sum(a.nbytes for a in (eng.wE, eng.oE, eng.bE, eng.wI, eng.oI, eng.bI))
    assert pattern == (layout_bytes(params.N, degrees[0], params.N_E)
                       + layout_bytes(params.N, degrees[1], params.N_I))
    widest = (layout_bytes(params.N, int(degrees[0].max()), params.N_E)
              + layout_bytes(params.N, int(degrees[1].max()), params.N_I))
    # N = 100: 4 tiles, some narrower than the widest row (at N = 40 both tiles hold it)
    assert pattern < widest if name == "empty_rows" else pattern <= widest
    with pytest.raises(ValueError, match="model.connectivity 'indegree_cv' needs the "
                                         "realization's in-degrees"):
        device_bytes(params)


@needs_cuda
@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                    reason="bytes of the simulator (a GPU may contract multiply-adds)")
def test_the_paper_network_keeps_its_bytes():
    """10 RK4 steps of a fixed network (ReLU: no libm in the bytes), S = 1 and 3: the
    sha256 of the state as before variable rows and per-neuron u, tau_D existed."""
    import hashlib

    from stdnet.kernels.cuda.engine import CudaEngine
    from stdnet.model.network import build_network

    params = ModelParams(N=40, J0=1.5, c=0.5, transfer="relu")  # K_E 16: 4 words, 3 shares
    net = build_network(params, 2)
    y = np.concatenate([0.5 + 0.5 * np.cos(np.arange(params.N)),
                        0.6 + 0.3 * np.sin(np.arange(params.N_E))])
    want = {1: "0227fbcd6633d7ddace88f1aeb8558349b30df1b5e5e2aef49199d69af43b3dd",
            3: "52236d92e6709dc2597e78e071947a7ed4d9deb813e24810d9c42f79f0474eef"}
    for S, digest in want.items():
        state = SimpleNamespace(y=y.copy(), **{
            k: np.zeros(params.N if k != "x_mean" else params.N_E)
            for k in ("h_mean", "h_m2", "nu_mean", "nu_m2", "x_mean")})
        eng = CudaEngine(params, _run("cuda", t_transient=0.5, t_record=0.5), net, state,
                         S=S)
        assert eng.advance(state, 10) == -1
        eng.sync(state)
        assert hashlib.sha256(state.y.tobytes()).hexdigest() == digest, S


@needs_cuda
@pytest.mark.parametrize("method,S", [("rk4", 3), ("euler", 1), ("euler", 2)])
def test_engine_steps_match_advance_for_any_split(method, S):
    """CudaEngine.advance against kernels.cpu.advance, 20 steps, S threads per row."""
    from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
    from stdnet.kernels.cuda.engine import CudaEngine
    from stdnet.model.network import build_network
    from stdnet.simulation.simulate import initial_state

    run = _run("cuda", method=method)
    net = build_network(P, 2)
    y = initial_state(P, run, 2)
    state = SimpleNamespace(y=y.copy(), **{k: np.zeros(P.N if k != "x_mean" else P.N_E)
                                           for k in ("h_mean", "h_m2", "nu_mean", "nu_m2",
                                                     "x_mean")})
    eng = CudaEngine(P, run, net, state, S=S)
    assert eng.advance(state, 20) == -1
    eng.sync(state)
    y_cpu = y.copy()
    advance(y_cpu, 20, METHOD_CODES[method], run.dt, *kernel_args(P, net), make_work(P))
    assert _rel(state.y, y_cpu) < 1e-13


@needs_cuda
def test_same_seed_same_bytes_and_chunks_change_nothing():
    run = _run("cuda", t_transient=1.0, t_record=1.0)
    a = _simulate(run)
    b = _simulate(run, chunks=[3, 7, 11, 13])
    c = _simulate(_run("cuda", t_transient=1.0, t_record=1.0, chunk_steps=5))
    for other in (b, c):
        assert other["final"]["y"].tobytes() == a["final"]["y"].tobytes()
        for k in a["population"]:
            assert other["population"][k].tobytes() == a["population"][k].tobytes()
        assert other["neurons"]["h_var"].tobytes() == a["neurons"]["h_var"].tobytes()


@needs_cuda
def test_checkpoint_resume_on_the_gpu_gives_the_same_bytes(tmp_path):
    from stdnet.simulation.simulate import SimState, Simulator, simulate

    run = _run("cuda", t_transient=1.0, t_record=1.0, checkpoint_interval=0.5)
    ref = simulate(P, run, 3)
    ckpt = tmp_path / "ckpt.h5"
    sim = Simulator(P, run, 3)
    sim.advance_to(25, checkpoint_path=ckpt)  # checkpoints at steps 10 and 20
    state = SimState.load(ckpt, sim.fingerprint())
    assert state.step == 20
    resumed = simulate(P, run, 3, checkpoint_path=ckpt)
    assert resumed["final"]["y"].tobytes() == ref["final"]["y"].tobytes()
    assert resumed["neurons"]["nu_var"].tobytes() == ref["neurons"]["nu_var"].tobytes()
    # a GPU checkpoint is not resumed by a CPU run: the sums would differ at round-off
    from stdnet.files.errors import CheckpointError
    from stdnet.simulation.simulate import run_fingerprint

    with pytest.raises(CheckpointError, match="run.backend"):
        SimState.load(ckpt, run_fingerprint(P, _run("cpu", t_transient=1.0, t_record=1.0,
                                                    checkpoint_interval=0.5), 3))


@needs_cuda
def test_float32_state_matches_the_cpu_float32_run():
    cpu = _simulate(_run("cpu", precision="float32", t_transient=0.5, t_record=0.5))
    gpu = _simulate(_run("cuda", precision="float32", t_transient=0.5, t_record=0.5))
    assert _rel(gpu["final"]["y"], cpu["final"]["y"]) < 1e-5
    y = gpu["final"]["y"]
    assert (y.astype(np.float32).astype(np.float64) == y).all()  # float32 values


@needs_cuda
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the simulator's numpy
def test_a_diverging_run_stops_at_the_same_step_as_on_the_cpu():
    """dt four times RK4's stability limit: both backends stop at the same step, and the
    GPU keeps the last finite state (the one the failing step started from)."""
    from stdnet.files.errors import DivergenceError
    from stdnet.simulation.simulate import Simulator

    params = ModelParams(N=40, J0=3.0, c=0.25)  # stable dt < 0.48; it blows up at step 12
    settings = dict(dt=2.0, t_transient=20.0, t_record=20.0, record_interval=2.0)
    run = _run("cpu", **settings)
    msgs, states = {}, {}
    for backend in ("cpu", "cuda"):
        sim = Simulator(params, _run(backend, **settings), 1)
        with pytest.raises(DivergenceError) as e:
            sim.advance_to(run.total_steps)
        msgs[backend] = str(e.value).split(" for ")[0]
        sim._engine.sync(sim.state)
        states[backend] = sim.state.y.copy()
    assert msgs["cpu"] == msgs["cuda"] and "diverged" in msgs["cpu"]
    assert np.isfinite(states["cuda"]).all()
    assert _rel(states["cuda"], states["cpu"]) < 1e-6


@needs_cuda
def test_output_file_has_the_cpu_layout(tmp_path):
    from stdnet.simulation.simulate import simulate, write_simulation

    layouts = {}
    for backend in ("cpu", "cuda"):
        run = _run(backend, t_transient=0.5, t_record=0.5)
        path = tmp_path / f"{backend}.h5"
        write_simulation(path, simulate(P, run, 3), P, run, 3)
        with h5py.File(path) as f:
            items = {}
            f.visititems(lambda name, obj: items.__setitem__(
                name, (getattr(obj, "shape", None), str(getattr(obj, "dtype", "")),
                       tuple(sorted(obj.attrs)))))
            layouts[backend] = items
            layouts[backend + "_device"] = f["meta"].attrs["device"]
            layouts[backend + "_backend"] = f["params"].attrs["backend"]
    assert layouts["cpu"] == layouts["cuda"]
    assert layouts["cpu_device"] == "cpu" and layouts["cuda_device"] != "cpu"
    assert (layouts["cpu_backend"], layouts["cuda_backend"]) == ("cpu", "cuda")


@needs_cuda
def test_input_recordings_on_the_gpu_match_the_cpu():
    """record_inputs (the correlation stage) reads every neuron's state per sample: from
    the GPU through Simulator.y."""
    from stdnet.correlations.recording import record_inputs
    from stdnet.simulation.simulate import initial_state

    y0 = initial_state(P, _run(), 3)
    out = {b: record_inputs(P, y0, 3, _run(b), t_measure=1.0, sample_interval=0.25,
                            n_sample=4) for b in ("cpu", "cuda")}
    for k in ("E", "I", "h", "W", "pop_nu_E", "presyn_mean", "final_y"):
        assert _rel(out["cuda"][k], out["cpu"][k]) < 1e-12, k


@needs_cuda
def test_stdnet_simulate_backend_cuda_writes_the_run(tmp_path):
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "simulate", "--N", "40", "--c",
                          "0.25", "--J0", "1.5", "--t_transient", "0.5", "--t_record", "0.5",
                          "--record_interval", "0.25", "--backend", "cuda", "-o",
                          str(tmp_path / "x.h5")], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    with h5py.File(tmp_path / "x.h5") as f:
        assert f["params"].attrs["backend"] == "cuda"
        assert f["population/nu_E"].shape == (5,)


def test_rule_scripts_take_the_backend_from_the_config_not_the_params():
    """Switching the backend must not make Snakemake redo finished runs (params trigger):
    the rules' params.simulation lacks it, the scripts read it from the config."""
    from stdnet.workflow.runtime import run_params

    fake = SimpleNamespace(params=SimpleNamespace(simulation={"dt": 0.025}),
                           config={"simulation": {"dt": 0.025, "backend": "cuda"}})
    assert run_params(fake) == RunParams(dt=0.025, backend="cuda")
    text = "\n".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    assert 'config["simulation"],' not in text and "simulation=simulation_settings()" in text


@needs_cuda
def test_workflow_runs_its_simulations_on_the_gpu(tmp_path):
    """stages [simulate] with backend cuda, end to end (simulator: ~10 s): the rule script
    takes the backend from the config, and the file says which device ran it."""
    (tmp_path / "t.yaml").write_text(
        "results: res\nstages: [simulate]\ngrid: {N: [40], J0: [1.5], seeds: [1]}\n"
        "model: {c: 0.25}\nsimulation: {t_transient: 0.5, t_record: 0.5, "
        "record_interval: 0.25, backend: cuda}\nfigures: {fig1: {N: 40, seed: 1, J0: [1.5]}}\n")
    res = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
                          "-d", str(tmp_path), "--configfile", "t.yaml", "--cores", "1"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    with h5py.File(tmp_path / "res" / "N~40" / "J0~1.5" / "seed~1" / "simulation.h5") as f:
        assert f["params"].attrs["backend"] == "cuda"
        assert f["meta"].attrs["device"] != "cpu"
    assert (tmp_path / "res" / "tables" / "runs.csv").exists()


def test_cost_model_gives_cuda_jobs_one_gpu_and_one_thread():
    import copy

    from stdnet.workflow.config import load_config_files, schema_dir
    from stdnet.workflow.costmodel import EXPECTED_STARTUP_S, GPU_SYN_RATE, CostModel

    cfg = load_config_files([ROOT / "config" / "params.yaml"], schema_dir())
    gpu_cfg = copy.deepcopy(cfg)
    gpu_cfg["simulation"]["backend"] = "cuda"
    cpu, gpu = CostModel(cfg), CostModel(gpu_cfg)
    N = max(cfg["grid"]["N"])
    for rule in ("simulate",):
        assert (cpu.gpus(rule, N=N, J0=1.0), gpu.gpus(rule, N=N, J0=1.0)) == (0, 1)
        assert gpu.threads(rule, N=N, J0=1.0) == 1
        job = gpu.job(rule, N=N, J0=1.0)
        p = gpu.params(N)
        work = p.N * (p.K_E + p.K_I) * gpu.sim.total_steps / GPU_SYN_RATE
        assert job.seconds - EXPECTED_STARTUP_S == pytest.approx(work, rel=1e-9)
    assert gpu.gpus("lyapunov", N=N, J0=1.0) == 0


# ---- where no GPU can run it ------------------------------------------------------------
def _no_gpu_env():
    return {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}


def _real_cuda_problem():
    code = "from stdnet.kernels.cuda.device import cuda_problem; print(cuda_problem() or '')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_no_gpu_env(), timeout=120)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def no_gpu():
    problem = _real_cuda_problem()
    if not problem:
        pytest.skip("this machine has a GPU")
    return problem


def test_simulate_with_cuda_and_no_gpu_names_the_option(no_gpu, tmp_path):
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "simulate", "--N", "40", "--J0", "1",
                          "--backend", "cuda", "-o", str(tmp_path / "x.h5")],
                         capture_output=True, text=True, env=_no_gpu_env(), timeout=120)
    assert res.returncode == 2, res.stderr
    assert "--backend: invalid value 'cuda' on this machine" in res.stderr
    assert "allowed here: cpu" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "x.h5").exists()


def test_config_with_cuda_and_no_gpu_names_the_key(no_gpu, tmp_path):
    cfg = tmp_path / "gpu.yaml"
    cfg.write_text("grid: {N: [200], J0: [1.0], seeds: [1]}\nsimulation: {backend: cuda}\n")
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "check", str(cfg)],
                         capture_output=True, text=True, env=_no_gpu_env(), timeout=120)
    assert res.returncode == 2, res.stderr
    assert "simulation.backend: invalid value 'cuda' on this machine" in res.stderr
    # meant for a cluster: the GPU is on the nodes, not here
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "check", "--no-memory",
                          str(cfg)], capture_output=True, text=True, env=_no_gpu_env(),
                         timeout=120)
    assert res.returncode == 0, res.stderr


def test_bench_with_cuda_and_no_gpu_names_the_option(no_gpu):
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "bench", "--backend", "cuda",
                          "--N", "40"], capture_output=True, text=True, env=_no_gpu_env(),
                         timeout=120)
    assert res.returncode == 2, res.stderr
    assert "--backend: invalid value 'cuda'" in res.stderr


def _snakemake(work, *args, backend="cuda"):
    (work / "t.yaml").write_text(
        "results: res\ngrid: {N: [100], J0: [0.5], seeds: [1]}\n"
        f"simulation: {{t_transient: 2.0, t_record: 2.0, backend: {backend}}}\n"
        "figures: {fig1: {N: 100, seed: 1, J0: [0.5]}}\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
           "--configfile", "t.yaml", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=work,
                         env=_no_gpu_env())
    return res.returncode, res.stdout + res.stderr


def _job_resources(text: str, rule_name: str) -> list[str]:
    blocks = text.split(f"rule {rule_name}:")[1:]
    return [b.split("resources:")[1].splitlines()[0] for b in blocks]


def test_workflow_asks_for_a_gpu_per_cuda_job_and_refuses_to_start_without_one(no_gpu,
                                                                               tmp_path):
    """The dry run shows gpu=1 on the integrating jobs (the SLURM executor turns it into
    --gpus=1) and on no other; a local run on a machine without a GPU stops at the start
    with the key, before any job."""
    code, text = _snakemake(tmp_path, "-n")
    assert code == 0, text[-3000:]
    assert all("gpu=1" in r for r in _job_resources(text, "simulate")), text[-3000:]
    assert not any("gpu=1" in r for r in _job_resources(text, "lyapunov"))
    code, text = _snakemake(tmp_path, "-n", backend="cpu")
    assert all("gpu=0" in r for r in _job_resources(text, "simulate"))
    code, text = _snakemake(tmp_path, "--cores", "1")
    assert code == 2, text[-3000:]
    assert "simulation.backend: invalid value 'cuda' on this machine" in text
    assert "Traceback" not in text and not (tmp_path / "res").exists()


def test_a_gpu_too_small_for_the_largest_simulation_is_named(monkeypatch):
    """The start-of-run check (preflight.gpu_memory_problems) against a GPU with 1 GiB free:
    the default config's simulations (N <= 2000) fit; N = 100000 at c = 0.1 (2.0 GB of
    pattern) does not."""
    import copy

    import stdnet.kernels.cuda.device as cuda_device
    from stdnet.workflow.config import load_config_files, schema_dir
    from stdnet.workflow.preflight import gpu_memory_problems

    monkeypatch.setattr(cuda_device, "cuda_problem", lambda: None)
    monkeypatch.setattr(cuda_device, "describe", lambda: {"name": "test", "free": 2 ** 30})
    cfg = load_config_files([ROOT / "config" / "params.yaml"], schema_dir())
    assert gpu_memory_problems(cfg) == []  # backend cpu: nothing to check
    cfg = copy.deepcopy(cfg)
    cfg["simulation"]["backend"] = "cuda"
    assert gpu_memory_problems(cfg) == []
    cfg["grid"]["N"] = [1000, 100000]
    (msg,) = gpu_memory_problems(cfg)
    assert msg.startswith("N = 100000: a simulate job needs 1.8") and "1 GiB free" in msg
    assert gpu_memory_problems(cfg, executor="slurm") == []  # the GPUs are on the nodes


def test_the_gpu_memory_check_takes_the_widest_realization_of_variable_rows(monkeypatch):
    """model.connectivity indegree_cv (CV 0.2) at N = 10^5, c = 0.1: the pattern is that of
    the grid's realizations (device_bytes from their in-degrees, the largest), which a GPU
    with 2 GiB free does not hold, though it holds the paper's network (1.8 GiB)."""
    import copy

    import stdnet.kernels.cuda.device as cuda_device
    from stdnet.kernels.cuda.engine import device_bytes
    from stdnet.model.network import realization_in_degrees
    from stdnet.workflow.config import load_config_files, schema_dir
    from stdnet.workflow.preflight import gpu_memory_problems

    monkeypatch.setattr(cuda_device, "cuda_problem", lambda: None)
    monkeypatch.setattr(cuda_device, "describe", lambda: {"name": "test", "free": 2 * 2 ** 30})
    cfg = copy.deepcopy(load_config_files([ROOT / "config" / "params.yaml"], schema_dir()))
    cfg["simulation"]["backend"] = "cuda"
    cfg["grid"]["N"], cfg["grid"]["seeds"] = [1000, 100000], [1, 2]
    assert gpu_memory_problems(cfg) == []  # the paper's network fits
    cfg["model"].update(connectivity="indegree_cv", indegree_cv=0.2)
    p = ModelParams.from_config(cfg["model"], N=100000, J0=1.0)
    need = [device_bytes(p, cfg["simulation"]["precision"],
                         degrees=realization_in_degrees(p, s)) for s in (1, 2)]
    assert min(need) > 1.4 * device_bytes(ModelParams(N=100000, J0=1.0, c=p.c))
    (msg,) = gpu_memory_problems(cfg)
    assert msg.startswith(f"N = 100000: a simulate job needs {max(need) / 2 ** 30:.3g} GiB"), msg


def test_unknown_backend_is_refused_with_the_allowed_values(tmp_path):
    with pytest.raises(ValueError, match="backend: invalid value 'gpu'; allowed: cpu, cuda"):
        RunParams(backend="gpu")
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("simulation: {backend: gpu}\n")
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "check", str(cfg)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "simulation.backend" in res.stderr, res.stderr


# ---- compiled for a real GPU ----------------------------------------------------------------
_COMPILE = r"""
from numba import cuda
from numba.core import types as T
from stdnet.kernels.cuda import kernels as K
f64, i64 = T.float64, T.int64
for st in (T.float64, T.float32):
    v = st[::1]
    w, b, fl, part = T.uint64[:, ::1], T.int32[:, :, ::1], T.int64[::1], f64[:, :, ::1]
    off = T.int64[::1]
    stats = (f64[::1],) * 5
    sigs = {
        "gather": (w, off, b, w, off, b, i64, i64, i64, v, v, v, part, fl),
        "update": (v, v, v, v, i64, f64, part, i64, i64, i64, i64) + (f64,) * 7
                  + (f64[::1], f64[::1]) + (v, v, v, fl, i64),
        "rates": (v, i64, i64, i64, v, v, v),
        "record": (v, i64, i64, i64, i64) + stats + (f64[:, ::1],),
        "stream_read": (f64[::1], f64[::1]),
    }
    for name, sig in sigs.items():
        ptx, _ = cuda.compile_ptx(getattr(K, name).py_func, sig, cc=(9, 0))
        assert ".target sm_90" in ptx, name
        print(name, st, len(ptx))
"""


def test_kernels_compile_for_hopper():
    """Every kernel, float64 and float32, through NVVM to sm_90 PTX (the H100/H200),
    without a GPU: the check that the simulator, which runs them as Python, cannot make."""
    res = subprocess.run([sys.executable, "-c", _COMPILE], capture_output=True, text=True,
                         env=_no_gpu_env(), timeout=600, cwd=ROOT)
    if res.returncode and ("nvrtc" in res.stderr.lower() or "nvvm" in res.stderr.lower()) \
            and "NvvmError" not in res.stderr:
        pytest.skip(f"no CUDA compiler libraries here: {res.stderr.strip().splitlines()[-1]}")
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("\n") == 10


# ---- the benchmark ----------------------------------------------------------------------
@needs_cuda
def test_bench_backend_cuda_prints_times_ratios_and_goals():
    res = subprocess.run([sys.executable, "-m", "stdnet.cli", "bench", "--backend", "cuda",
                          "--N", "40", "--c", "0.25", "--big", "none", "--quick",
                          "--J0", "6", "--dt", "0.5",  # beyond RK4's limit 0.25: halved
                          "--splits", "2", "3",
                          "--threads", "1", "--bandwidth-mib", "1", "--goal", "ms@40=1e6",
                          "--goal", "bound=1e9"], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "bandwidth probe:" in out and "GPU ms" in out and "x cpu1" in out
    row = next(line for line in out.splitlines() if line.split()[:1] == ["40"])
    assert len(row.split()) == 11  # N c K dt pattern S ms Gsyn/s %bound cpu1-ms x-cpu1
    assert row.split()[3] == "0.125"
    assert "default S=1*: " in out and "S=2: " in out and "S=3: " in out
    assert "(goal <= 1e+06 ms)  met" in out and "NOT met" in out
