"""Long lyapunov jobs survive: killed mid-run, they resume from their checkpoint and write the
same bytes as an uninterrupted run (docs/onset.md, "Checkpoints").

In-process: a run "killed" right after its k-th checkpoint (the checkpoint is complete,
nothing after it survives: what SIGKILL leaves), again and again until it finishes, in
every phase (alignment, averaging, extensions) and in the middle of QR intervals; SIGTERM
(a checkpoint at the current step, exit 143); checkpoints of other settings or of another
starting state, or unreadable ones, are not reused. In a subprocess, through
scripts/lyapunov/lyapunov.py as the rule runs it: real SIGTERM and SIGKILL, once and several
times; the output must equal, dataset by dataset and byte for byte (/meta excluded: wall
times, dates), that of a run that was never interrupted and never checkpointed.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from stdnet.lyapunov import checkpoint as lyapunov_checkpoint
from stdnet.workflow.compare import h5_differences
from stdnet.lyapunov.checkpoint import checkpoint_path_for
from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov
from stdnet.model.params import ModelParams, RunParams
from stdnet.simulation.simulate import simulate, write_simulation

ROOT = Path(__file__).resolve().parents[1]
N, J0, SEED, ZERO_TOL = 400, 1.5, 1, 0.005
# undecided after 40 tau (lambda_max ~ 0.02 +- 0.4): all 3 extensions are used, 170 tau
SETTINGS = LyapunovSettings(n_exponents=4, delta_t=1.0, t_align=10.0, t_average=40.0,
                            max_extensions=3)
CKPT_EVERY = 2.35  # 47 steps: checkpoints fall inside QR intervals (20 steps) too
TIMEOUT = 60
ARRAYS = ("exponents", "half_width", "local", "local_align", "times", "divergence",
          "tau_int", "batch_length", "n_batches", "ci_envelope")


class Killed(BaseException):
    """Stands for SIGKILL right after a checkpoint: nothing after it survives."""


@pytest.fixture(scope="module")
def start():
    """A chaotic N = 400 network 40 tau after a kicked fixed point, as the rule gets it."""
    p = ModelParams(N=N, J0=J0)
    run = RunParams(dt=0.05, t_transient=20.0, t_record=20.0, record_interval=0.5, n_record=3)
    sim = simulate(p, run, SEED, progress_every_s=1e9)
    return p, run, sim


def _uninterrupted(start, settings):
    p, _, sim = start
    res, y = onset_lyapunov(p, sim["network"], sim["final"]["y"], settings, SEED, ZERO_TOL)
    assert res.n_extensions >= 1, "the test needs a run that uses extensions"
    return res, y


@pytest.fixture(scope="module")
def uninterrupted(start):
    return _uninterrupted(start, SETTINGS)


def _run(start, path, settings=SETTINGS, y0=None, every=CKPT_EVERY):
    p, _, sim = start
    y0 = sim["final"]["y"] if y0 is None else y0
    return onset_lyapunov(p, sim["network"], y0, settings, SEED, ZERO_TOL,
                          checkpoint_path=path, checkpoint_interval=every)


def _killed_after(monkeypatch, n_saves: int, action=None):
    """Patch checkpoint writing: after the n_saves-th complete checkpoint, `action`
    (default: raise Killed). Returns the list of (phase, t, sub_step) saved."""
    saved = []
    real_save = lyapunov_checkpoint.write_state

    def save(st, path, fingerprint, n_step, dt, phase):
        real_save(st, path, fingerprint, n_step, dt, phase)
        saved.append((phase, (st.interval * n_step + st.sub_step) * dt, st.sub_step))
        if len(saved) == n_saves:
            (action or _raise_killed)()

    monkeypatch.setattr(lyapunov_checkpoint, "write_state", save)
    return saved


def _raise_killed():
    raise Killed


def _assert_same(res, y, ref):
    ref_res, ref_y = ref
    for name in ARRAYS:
        a, b = np.asarray(getattr(res, name)), np.asarray(getattr(ref_res, name))
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert np.array_equal(y, ref_y)
    for name in ("decision", "n_extensions", "t_average", "converged", "tolerance"):
        assert getattr(res, name) == getattr(ref_res, name), name


@pytest.mark.parametrize("every,first,then,phases", [
    # inside QR intervals, in the alignment, the averaging and every extension
    (CKPT_EVERY, 3, 9, {"align", "average", "extension 1", "extension 2", "extension 3"}),
    # at the ends of the phases (t = 10, 50, 90, 130): killed just before each decision
    (10.0, 1, 4, {"average", "extension 1", "extension 2"}),
], ids=["mid-interval", "phase-ends"])
def test_killed_again_and_again_resumes_to_identical_result(start, uninterrupted, tmp_path,
                                                            monkeypatch, caplog, every, first,
                                                            then, phases):
    """Killed after the first-th checkpoint, then after every then-th, until done: each
    rerun resumes from the last checkpoint; the numbers equal those of one run."""
    path = tmp_path / "lyapunov.checkpoint.h5"
    kills = []
    for attempt in range(100):
        with monkeypatch.context() as mp, caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
            caplog.clear()
            saved = _killed_after(mp, first if attempt == 0 else then)
            try:
                res, y = _run(start, path, every=every)
            except Killed:
                kills.append(saved[-1])
                with h5py.File(path, "r") as f:  # complete and where the run was
                    assert f.attrs["t"] == saved[-1][1] and f.attrs["phase"] == saved[-1][0]
            else:
                kills.append(None)
            if attempt:
                assert "resumed from checkpoint %s at t = %.2f tau" % (
                    path, kills[attempt - 1][1]) in caplog.text
        if kills[-1] is None:
            break
    kills.pop()
    assert phases <= {k[0] for k in kills}, kills
    assert any(k[2] for k in kills) == (every == CKPT_EVERY), kills  # inside an interval
    _assert_same(res, y, uninterrupted)


def test_sigterm_checkpoints_at_the_current_step_and_exits(start, uninterrupted, tmp_path,
                                                           monkeypatch, caplog):
    """SIGTERM right after the 5th periodic checkpoint: one more checkpoint at the end of the
    next advance call (not a periodic one), exit code 143, the previous handler restored;
    the rerun resumes from there to the same numbers."""
    path = tmp_path / "lyapunov.checkpoint.h5"
    before = signal.getsignal(signal.SIGTERM)
    with monkeypatch.context() as mp:
        saved = _killed_after(mp, 5, lambda: os.kill(os.getpid(), signal.SIGTERM))
        with pytest.raises(SystemExit) as e, caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
            _run(start, path)
    assert e.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
    assert len(saved) == 6 and saved[5][1] > saved[4][1]
    assert "SIGTERM: checkpoint written at t = %.2f tau" % saved[5][1] in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
        res, y = _run(start, path)
    assert "resumed from checkpoint %s at t = %.2f tau" % (path, saved[5][1]) in caplog.text
    _assert_same(res, y, uninterrupted)


@pytest.mark.parametrize("change", ["settings", "state"])
def test_checkpoint_of_another_run_is_not_reused(start, uninterrupted, tmp_path, monkeypatch,
                                                 caplog, change):
    """A checkpoint left by other settings (t_align) or from another starting state (a rerun
    simulation) is ignored with a WARNING naming what differs; the run starts from 0."""
    path = tmp_path / "lyapunov.checkpoint.h5"
    other = dict(settings=dataclasses.replace(SETTINGS, t_align=12.0))
    if change == "state":
        other = dict(y0=start[2]["final"]["y"] * (1 + 1e-12))
    with monkeypatch.context() as mp:
        _killed_after(mp, 3)
        with pytest.raises(Killed):
            _run(start, path, **other)
    with caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
        res, y = _run(start, path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    key = "settings.t_align: 12.0 != 10.0" if change == "settings" else "y0_sha256"
    assert any("other parameters or settings" in w and key in w for w in warnings), warnings
    assert "resumed from checkpoint" not in caplog.text
    _assert_same(res, y, uninterrupted)


# ---- the fused (narrow) tangent path: m <= 3, the lambda_max runs of the onset search --------

FUSED = dataclasses.replace(SETTINGS, n_exponents=2)


@pytest.fixture(scope="module")
def uninterrupted_fused(start):
    return _uninterrupted(start, FUSED)


def test_fused_path_killed_again_and_again_resumes_to_identical_result(
        start, uninterrupted_fused, tmp_path, monkeypatch, caplog):
    """The onset search's runs (2 exponents) take the fused step: killed after every 4th
    checkpoint (inside QR intervals, in every phase), they resume to the same bytes."""
    path = tmp_path / "lyapunov.checkpoint.h5"
    phases = set()
    for attempt in range(100):
        with monkeypatch.context() as mp, caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
            caplog.clear()
            saved = _killed_after(mp, 4)
            try:
                res, y = _run(start, path, settings=FUSED)
            except Killed:
                phases.add(saved[-1][0])
                continue
            assert "tangent step: fused path" in caplog.text
            break
    assert {"align", "average", "extension 1"} <= phases, phases
    _assert_same(res, y, uninterrupted_fused)


def test_checkpoint_of_the_block_path_is_not_resumed_by_a_fused_run(
        start, uninterrupted_fused, tmp_path, monkeypatch, caplog):
    """The two paths agree only to round-off, so a checkpoint written by the block path
    (e.g. before the fused path existed) is refused by a fused run, with a WARNING naming
    tangent_path; the run starts from 0 and gives the fused run's bytes."""
    from stdnet.lyapunov import run as lyapunov_run
    from stdnet.lyapunov.tangent import TangentStepper

    path = tmp_path / "lyapunov.checkpoint.h5"
    with monkeypatch.context() as mp:  # the stepper class as stdnet.lyapunov.run holds it
        mp.setattr(lyapunov_run, "TangentStepper",
                   lambda *a, **k: TangentStepper(*a, **k, path="block"))
        _killed_after(mp, 3)
        with pytest.raises(Killed):
            _run(start, path, settings=FUSED)
    with caplog.at_level(logging.INFO, "stdnet.lyapunov.spectrum"):
        res, y = _run(start, path, settings=FUSED)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("other parameters or settings" in w and "tangent_path" in w
               for w in warnings), warnings
    assert "resumed from checkpoint" not in caplog.text
    _assert_same(res, y, uninterrupted_fused)


def test_unreadable_checkpoint_is_ignored(start, uninterrupted, tmp_path, caplog):
    path = tmp_path / "lyapunov.checkpoint.h5"
    path.write_bytes(b"not an HDF5 file")
    with caplog.at_level(logging.WARNING, "stdnet.lyapunov.spectrum"):
        res, y = _run(start, path, every=0.0)  # resumed if valid even with checkpoints off
    assert "cannot be read" in caplog.text
    _assert_same(res, y, uninterrupted)


def test_checkpoint_interval_is_validated():
    with pytest.raises(ValueError, match=r"lyapunov.checkpoint_interval: invalid value -1.0; "
                                         r"allowed: a number >= 0"):
        lyapunov_checkpoint.checkpoint_steps(-1.0, 0.05)
    assert lyapunov_checkpoint.checkpoint_steps(0.0, 0.05) == 0
    assert lyapunov_checkpoint.checkpoint_steps(2.35, 0.05) == 47
    from stdnet.workflow.config import ConfigError, validate_config

    cfg = {"grid": {"N": [200], "J0": [1.0], "seeds": [1]}, "lyapunov": {"checkpoint_interval": -1}}
    with pytest.raises(ConfigError, match="lyapunov.checkpoint_interval"):
        validate_config(cfg, ROOT / "config" / "schema")
    assert checkpoint_path_for("r/N~4/lyapunov.h5") == Path("r/N~4/lyapunov.checkpoint.h5")


# ---- the rule's script in a subprocess, killed by real signals ------------------------------

# runs scripts/lyapunov/lyapunov.py as Snakemake does, with a stand-in for the injected `snakemake`
DRIVER = """
import json, runpy, sys, types
c = json.load(open(sys.argv[1]))
ns = types.SimpleNamespace
sm = ns(params=ns(**c["params"]), input=ns(sim=c["sim"]), output=ns(h5=c["out"]),
        wildcards=ns(**c["wildcards"]), log=[c["log"]], threads=1, rule="lyapunov")
runpy.run_path(c["script"], init_globals={"snakemake": sm}, run_name="__main__")
"""
# longer than the in-process runs (up to 310 tau, ~1.5 s) so a signal lands mid-run
SCRIPT_LYAPUNOV = {"n_exponents": 4, "delta_t": 1.0, "t_align": 10.0, "t_average": 100.0,
                   "max_extensions": 2}


@pytest.fixture(scope="module")
def sim_file(start, tmp_path_factory):
    p, run, sim = start
    path = tmp_path_factory.mktemp("sim") / "simulation.h5"
    write_simulation(path, sim, p, run, SEED)
    return path


def _spawn(sim_file, out: Path, every: float, attempt: int):
    p = ModelParams(N=N, J0=J0)
    model = {k: getattr(p, k) for k in ModelParams.constant_names()}  # config section model
    cfg = {"params": {"model": model, "seed": SEED, "zero_tol": ZERO_TOL,
                      "simulation": {"dt": 0.05, "method": "rk4"},
                      "lyapunov": {**SCRIPT_LYAPUNOV, "checkpoint_interval": every}},
           "sim": str(sim_file), "out": str(out), "log": str(out.parent / f"log{attempt}.txt"),
           "wildcards": {"N": str(N), "J0": str(J0), "seed": str(SEED)},
           "script": str(ROOT / "scripts" / "lyapunov" / "lyapunov.py")}
    cfg_path = out.parent / f"config{attempt}.json"
    cfg_path.write_text(json.dumps(cfg))
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(cfg_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, Path(cfg["log"])


def _finish(proc, log_path):
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, f"{out}\n{err}\n{log_path.read_text()[-3000:]}"
    return log_path.read_text()


def _checkpoint_t(path) -> float:
    try:
        with h5py.File(path, "r") as f:
            return float(f.attrs["t"])
    except (OSError, KeyError):
        return -1.0


@pytest.fixture(scope="module")
def script_reference(sim_file, tmp_path_factory):
    """The same run never interrupted, and with checkpoints off."""
    out = tmp_path_factory.mktemp("ref") / "lyapunov.h5"
    _finish(*_spawn(sim_file, out, 0.0, 0))
    assert not checkpoint_path_for(out).exists()
    return out


@pytest.mark.parametrize("signals", [(signal.SIGTERM,), (signal.SIGKILL, signal.SIGTERM)],
                         ids=["SIGTERM", "SIGKILL+SIGTERM"])
def test_killed_script_resumes_to_identical_output(sim_file, script_reference, tmp_path,
                                                   signals):
    out = tmp_path / "lyapunov.h5"
    ckpt = checkpoint_path_for(out)
    t_last = -1.0
    for attempt, sig in enumerate(signals, start=1):
        proc, log_path = _spawn(sim_file, out, 10.0, attempt)
        deadline = time.monotonic() + TIMEOUT
        while _checkpoint_t(ckpt) <= t_last:  # a new checkpoint of this attempt
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"no new checkpoint before attempt {attempt} ended: "
                            f"{proc.communicate()[1][-2000:]}\n{log_path.read_text()[-2000:]}")
            time.sleep(0.01)
        proc.send_signal(sig)
        proc.communicate(timeout=TIMEOUT)
        log_text = log_path.read_text()
        # -sig: died of it; 143: SIGTERM turned into a checkpoint and a clean exit
        assert proc.returncode in (-sig, 128 + sig), (proc.returncode, log_text[-2000:])
        assert not out.exists(), "a killed run left its output"
        t_last = _checkpoint_t(ckpt)
        assert t_last > 0, "no complete checkpoint after the kill"
        if sig == signal.SIGTERM:  # the checkpoint is the one written on SIGTERM
            assert f"SIGTERM: checkpoint written at t = {t_last:.2f} tau" in log_text, (
                t_last, log_text[-2000:])
        leftovers = {q.name for q in tmp_path.iterdir()} - {ckpt.name}
        assert all(n.startswith(("log", "config")) or ".tmp-" in n for n in leftovers), leftovers
    log_text = _finish(*_spawn(sim_file, out, 10.0, len(signals) + 1))
    assert f"resumed from checkpoint {ckpt} at t = {t_last:.2f} tau" in log_text, log_text[-2000:]
    assert "ETA" in log_text or "decision:" in log_text
    assert out.exists() and not ckpt.exists(), "checkpoint not removed after success"
    assert h5_differences(script_reference, out) == []
    with h5py.File(out, "r") as f:
        assert f["summary"].attrs["n_extensions"] >= 1  # the kills did not skip a phase
