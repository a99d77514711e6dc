"""Long jobs survive: `stdnet simulate` killed mid-run resumes from its checkpoint and
writes the same bytes as an uninterrupted run.

The run is killed (SIGTERM, as SLURM does at a job's time limit, and SIGKILL) as soon
as its first checkpoint exists, i.e. after 1 of 8 checkpoint intervals. After the
kill the output must not exist (nothing half-written looks finished) and the
checkpoint must be a complete file; the rerun must say it resumed and its output must
equal, dataset by dataset and byte for byte (/meta excluded: wall time, date), the
output of a run that was never interrupted.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from stdnet.workflow.compare import Mismatch, compare_results, h5_differences

# N=600, 8000 RK4 steps: ~2 s, long enough to be killed after its first checkpoint
ARGS = ["--N", "600", "--J0", "1.5", "--seed", "3", "--dt", "0.05", "--t_transient", "200",
        "--t_record", "200", "--record_interval", "0.5", "--checkpoint_interval", "50",
        "--progress-every", "0.5"]
TOTAL_STEPS = 8000
CKPT_STEPS = 1000  # checkpoint_interval / dt
TIMEOUT = 60


def _stdnet(out, *extra):
    return [sys.executable, "-m", "stdnet.cli", "simulate", *ARGS, "-o", str(out), *extra]


def _env():
    return {**os.environ, "NUMBA_NUM_THREADS": "1"}


def _run_to_end(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=_env())
    assert res.returncode == 0, f"{cmd} failed:\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same run (same parameters, also checkpoint_interval) never interrupted."""
    out = tmp_path_factory.mktemp("ref") / "simulation.h5"
    _run_to_end(_stdnet(out))
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_simulation_resumes_to_identical_output(reference, tmp_path, sig):
    out, ckpt = tmp_path / "simulation.h5", tmp_path / "simulation.checkpoint.h5"
    cmd = _stdnet(out, "--checkpoint", str(ckpt))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    deadline = time.monotonic() + TIMEOUT
    while not ckpt.exists():  # atomic: the name appears only when the file is complete
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no checkpoint before the run ended or {TIMEOUT} s: "
                        f"{proc.communicate()[1][-2000:]}")
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT)
    # -sig: died of the signal; 128+sig: a handler turned it into a clean exit
    assert proc.returncode in (-sig, 128 + sig), f"not killed by {sig!r}: {proc.returncode}\n{err}"

    # nothing half-written looks finished: no output, a complete checkpoint mid-run
    assert not out.exists(), "a killed run left its output file"
    with h5py.File(ckpt, "r") as f:
        step = int(f.attrs["step"])
        assert np.all(np.isfinite(f["y"][()]))
    assert 0 < step < TOTAL_STEPS and step % CKPT_STEPS == 0, step
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in (ckpt.name,)]
    # temporaries and the writer's lock files (the kernel released the lock with the process)
    assert all(name.startswith(".") and (".tmp-" in name or name.endswith(".lock"))
               for name in leftovers), leftovers

    res = _run_to_end(cmd)
    assert f"resuming from checkpoint {ckpt} at step" in res.stderr, res.stderr[-2000:]
    resumed_at = int(res.stderr.split("at step ")[1].split()[0])
    assert resumed_at >= step
    assert out.exists() and not ckpt.exists(), "checkpoint not removed after success"
    assert h5_differences(reference, out) == []


def test_compare_detects_one_changed_value(reference, tmp_path):
    """The comparison used above can fail: one changed element is found."""
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "run").mkdir(parents=True)
        shutil.copy(reference, d / "run" / "simulation.h5")
    assert "are equal" in compare_results(a, b)
    with h5py.File(b / "run" / "simulation.h5", "r+") as f:
        x = f["final/y"][()]
        x[7] = np.nextafter(x[7], np.inf)  # one ulp
        f["final/y"][...] = x
    with pytest.raises(Mismatch, match="final/y: bytes differ"):
        compare_results(a, b)
