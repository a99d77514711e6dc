"""Files the pipeline writes and reads: a full disk, crashes, truncated or foreign files."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from stdnet.files import io, space
from stdnet.files.errors import CheckpointError, InputFileError, OutputError
from stdnet.simulation.simulate import SimState


def _h5(path, **arrays):
    with io.atomic_h5(path) as f:
        io.write_datasets(f, arrays or {"x": np.arange(10.0)})


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has it (pids are not reused this fast)


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_h5_roundtrip_has_marker(tmp_path):
    path = tmp_path / "a" / "b.h5"
    _h5(path, x=np.arange(1000.0))
    assert io.check_h5(path) is None
    with io.open_h5(path) as f:
        assert f.attrs["stdnet_complete"] and f.attrs["stdnet_format_version"] == 2
        assert np.array_equal(f["x"][()], np.arange(1000.0))
        assert io.read_attrs(f) == {}  # the marker is not a result
    assert [p.name for p in path.parent.iterdir()] == ["b.h5"]


@pytest.mark.parametrize("kind", ["h5", "csv"])
def test_disk_full_keeps_previous_file(tmp_path, monkeypatch, kind):
    path = tmp_path / f"out.{kind}"
    path.write_bytes(b"previous")
    # the free space the message reports, as the file system would give it
    monkeypatch.setattr(space.shutil, "disk_usage", lambda p: SimpleNamespace(free=48_000))
    with monkeypatch.context() as mp, pytest.raises(OutputError) as e:
        if kind == "h5":
            mp.setattr(os, "write", _enospc)
            _h5(path)
        else:
            with io.atomic_path(path) as tmp:
                tmp.write_text("partial")
                _enospc()
    assert str(e.value) == (f"cannot write {path}: No space left on device (48 kB free on "
                            f"the file system of {tmp_path}); free space and rerun")
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_other_errors_pass_through(tmp_path):
    """An input missing inside the block is not reported as a write failure."""
    with pytest.raises(FileNotFoundError) as e, io.atomic_path(tmp_path / "o.csv"):
        open(tmp_path / "input.csv")
    assert not isinstance(e.value, OutputError)
    assert list(tmp_path.iterdir()) == []


def test_bad_destination_fails_before_work(tmp_path):
    (tmp_path / "d.h5").mkdir()
    (tmp_path / "file").write_text("")
    for path, what in ((tmp_path / "d.h5", "is a directory"),
                       (tmp_path / "file" / "x.h5", "cannot be created")):
        with pytest.raises(OutputError, match=what) as e, io.atomic_h5(path):
            pytest.fail("the block ran")
        assert str(path) in str(e.value)
        with pytest.raises(OutputError):
            io.check_writable(path)


def test_file_size_limit_in_subprocess(tmp_path):
    """A real write error (RLIMIT_FSIZE: EFBIG) while HDF5 is written: a clean exit 7."""
    path = tmp_path / "big.h5"
    code = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from stdnet.files import io, space
        from stdnet.files.errors import OutputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        try:
            with io.atomic_h5({str(path)!r}) as f:
                f["x"] = np.random.default_rng(0).random(100_000)
        except OutputError as e:
            print(e)
            sys.exit(e.exit_code)
    """)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.returncode == 7, res.stderr[-2000:]
    assert res.stdout.startswith(f"cannot write {path}: File too large"), res.stdout
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    host = io._HOST
    sub = tmp_path / "N~1" / "seed~1"
    sub.mkdir(parents=True)
    stale = [sub / f".simulation.h5.tmp-{host}-{dead}"]
    # without a host the name may be a user's file (".cache.tmp-99999"): only the writer of
    # that very destination removes it
    legacy = sub / f".simulation.h5.tmp-{dead}"
    kept = [sub / f".simulation.h5.tmp-{host}-{alive}", sub / f".simulation.h5.tmp-other-{dead}",
            sub / "simulation.h5", legacy, sub / ".cache.tmp-99999"]
    for p in stale + kept:
        p.write_text("x")
    assert sorted(io.remove_stale_temporaries(tmp_path)) == sorted(stale)
    assert sorted(sub.iterdir()) == sorted(kept)
    # atomic_path cleans up its own destination's leftovers
    stale[0].write_text("x")
    (sub / f".other.h5.tmp-{host}-{dead}").write_text("x")
    (sub / "simulation.h5").unlink()
    _h5(sub / "simulation.h5")
    assert not stale[0].exists() and not legacy.exists()
    assert (sub / f".other.h5.tmp-{host}-{dead}").exists()


def test_claim_output(tmp_path):
    path = tmp_path / "new" / "simulation.h5"
    lock = path.with_name(".simulation.h5.lock")
    with io.claim_output(path):
        assert lock.exists()
        code = (f"from stdnet.files import io\nwith io.claim_output({str(path)!r}):\n    pass")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode != 0
        assert f"another stdnet process (host {io._HOST}, pid {os.getpid()}) is writing " \
               f"{path}" in res.stderr, res.stderr[-2000:]
        with pytest.raises(OutputError, match=f"pid {os.getpid()}"), io.claim_output(path):
            pass
    assert not lock.exists()
    lock.write_text("host h, pid 1\n")  # left by a killed writer: its flock went with it
    with io.claim_output(path):
        assert lock.read_text() == f"host {io._HOST}, pid {os.getpid()}\n"
    assert not lock.exists()


def test_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "simulation.h5"
    _h5(path, x=np.random.default_rng(0).random(10_000))
    with open(path, "r+b") as f:
        f.truncate(1000)
    assert io.check_h5(path) == "unreadable (truncated or not HDF5)"
    with pytest.raises(InputFileError, match="is not a readable HDF5 file") as e, \
            io.open_h5(path):
        pass
    assert str(path) in str(e.value)

    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    assert io.check_h5(foreign) == "no completion marker"
    with pytest.raises(InputFileError, match="no stdnet completion marker"), \
            io.open_h5(foreign):
        pass
    assert io.check_h5(tmp_path / "none.h5") == "missing"
    with pytest.raises(InputFileError, match="does not exist"), io.open_h5(tmp_path / "no.h5"):
        pass


def _point_file(path, **params):
    path.parent.mkdir(parents=True, exist_ok=True)
    with io.atomic_h5(path) as f:
        io.write_attrs(f.create_group("params"), params)
        f["time"] = np.arange(3.0)


def test_file_of_another_point_is_refused_naming_both(tmp_path):
    """A complete file copied into another point's folder: its stored N, J0, seed are
    compared with the folders' (J0 to the 6 decimals of a folder name)."""
    ok = tmp_path / "res/N~100/J0~0.86875/seed~1/simulation.h5"
    _point_file(ok, N=100, J0=0.86875, seed=1)
    assert io.check_h5(ok) is None
    moved = tmp_path / "res/N~100/J0~0.5/seed~1/simulation.h5"
    _point_file(moved, N=100, J0=1.5, seed=1)
    problem = io.check_h5(moved)
    assert problem == "holds another point (N = 100, J0 = 1.5, seed = 1) than its folder " \
                      "names (J0~0.5)"
    with pytest.raises(InputFileError, match=r"J0~0\.5") as e, io.open_h5(moved):
        pass
    assert str(moved) in str(e.value) and "J0 = 1.5" in str(e.value)
    other_seed = tmp_path / "res/stability/N~100/seed~2/jfp.h5"  # no J0 in the path
    _point_file(other_seed, N=100, J0=0.7, seed=3)
    assert "(seed~2)" in io.check_h5(other_seed)
    # the DMF's balanced limit (N~inf) and its /info; files outside point folders
    dmf = tmp_path / "res/dmf/N~inf/J0~1.5_I0~0/dmf.h5"
    dmf.parent.mkdir(parents=True)
    with io.atomic_h5(dmf) as f:
        io.write_attrs(f.create_group("info"), {"N": 0, "J0": 1.5, "I0": 0.0})
    assert io.check_h5(dmf) is None
    with h5py.File(dmf, "r+") as f:
        f["info"].attrs["I0"] = 0.1
    assert "(I0~0)" in io.check_h5(dmf)
    loose = tmp_path / "mydata.h5"
    _point_file(loose, N=5, J0=9.0, seed=7)
    assert io.check_h5(loose) is None


def test_legacy_file_accepted_and_missing_key_named(tmp_path):
    path = tmp_path / "simulation.h5"
    with h5py.File(path, "w") as f:  # as format 1 wrote it: provenance in /meta, no marker
        f.create_group("meta").attrs["format_version"] = 1
        f["time"] = np.arange(3.0)
    assert io.check_h5(path) is None
    with pytest.raises(InputFileError, match=r"has no 'population'") as e, \
            io.open_h5(path) as f:
        assert f["time"].shape == (3,)
        f["population"]
    assert str(path) in str(e.value)


def _state() -> SimState:
    z = np.zeros((2, 2))
    return SimState(y=np.arange(4.0), step=10, sample=2, population=z, rec_h=z, rec_nu=z,
                    rec_x=z, stat_count=3, h_mean=np.zeros(2), h_m2=np.zeros(2),
                    nu_mean=np.zeros(2), nu_m2=np.zeros(2), x_mean=np.zeros(1))


def test_checkpoint_of_another_run(tmp_path):
    path = tmp_path / "ckpt.h5"
    fp = {"seed": 1, "model.J0": 1.5, "run.dt": 0.05}
    _state().save(path, fp)
    assert SimState.load(path, fp).step == 10
    with pytest.raises(CheckpointError) as e:
        SimState.load(path, {**fp, "model.J0": 2.0})
    msg = str(e.value)
    assert str(path) in msg and "model.J0: 1.5 != 2.0" in msg and "seed" not in msg
    assert "delete it to start the run from the beginning" in msg


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "ckpt.h5"
    fp = {"seed": 1}
    _state().save(path, fp)
    with open(path, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(CheckpointError, match="delete it to start the run from the "
                                              "beginning") as e:
        SimState.load(path, fp)
    assert str(path) in str(e.value)


def test_damaged_file_in_a_read_only_folder_is_named(tmp_path, monkeypatch):
    """The start-up recovery cannot move a damaged file (a read-only results folder, shown
    here by a refusing os.replace since root may write anywhere): one clear OutputError."""
    from stdnet.workflow import recovery

    h5 = tmp_path / "N~100/J0~0.5/seed~1/simulation.h5"
    h5.parent.mkdir(parents=True)
    h5.write_bytes(b"not HDF5")

    def refuse(*a):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(recovery.os, "replace", refuse)
    with pytest.raises(OutputError, match=r"simulation.h5: unreadable .* cannot be moved .*"
                                          r"Permission denied.*make .* writable"):
        recovery.set_damaged_aside(tmp_path)
    assert h5.exists()

