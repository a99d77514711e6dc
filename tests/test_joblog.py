"""A rule's log on a full disk (stdnet.workflow.joblog): the job's last lines still get in,
what cannot is shown on the job's stderr, and a job that starts on a full disk stops at
once. A full disk is played by os.write failing with ENOSPC on the log while the reserve
file holds the last free blocks, as it does on a real one (removing the reserve frees
them)."""
from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from stdnet.files import space
from stdnet.files.errors import OutputError
from stdnet.files.io import remove_stale_temporaries, temporary_name
from stdnet.workflow.joblog import RESERVE_BYTES, JobLog

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _full_while(monkeypatch, fd: int, condition) -> None:
    """os.write to `fd` fails with ENOSPC while condition() holds."""
    real = os.write

    def write(f, data):
        if f == fd and condition():
            raise ENOSPC
        return real(f, data)

    monkeypatch.setattr(os, "write", write)


def test_last_lines_get_the_reserve(tmp_path, monkeypatch):
    path = tmp_path / "job.log"
    stderr = io.StringIO()
    log = JobLog(path, fallback=stderr)
    reserve = temporary_name(path)
    assert reserve.stat().st_size == RESERVE_BYTES
    log.write("started\n")
    _full_while(monkeypatch, log.fileno(), reserve.exists)
    log.write("OutputError: cannot write out.h5: No space left on device\n")
    monkeypatch.undo()
    assert path.read_text() == ("started\n"
                                "OutputError: cannot write out.h5: No space left on device\n")
    assert not reserve.exists() and stderr.getvalue() == ""
    log.close()


def test_what_the_log_cannot_take_goes_to_stderr(tmp_path, monkeypatch):
    path = tmp_path / "job.log"
    stderr = io.StringIO()
    log = JobLog(path, fallback=stderr)
    _full_while(monkeypatch, log.fileno(), lambda: True)
    assert log.write("Traceback\n") == len("Traceback\n")  # never raises
    log.write("OutputError\n")
    monkeypatch.undo()
    assert stderr.getvalue() == (f"stdnet: cannot write the log {path} (No space left on "
                                 "device); its lines follow here\nTraceback\nOutputError\n")
    assert path.read_text() == "" and not temporary_name(path).exists()
    log.close()


def test_a_job_on_a_full_disk_stops_at_its_start(tmp_path, monkeypatch):
    path = tmp_path / "job.log"
    monkeypatch.setattr(space.shutil, "disk_usage", lambda p: SimpleNamespace(free=0))

    def no_room(fd, data):
        raise ENOSPC

    monkeypatch.setattr(os, "write", no_room)
    with pytest.raises(OutputError) as e:
        JobLog(path, fallback=io.StringIO())
    assert str(e.value) == (f"cannot write {path}: No space left on device (0 bytes free on "
                            f"the file system of {tmp_path}); free space and rerun")
    assert [p.name for p in tmp_path.iterdir()] == ["job.log"]


def test_failed_job_exits_1_with_its_traceback_in_the_log(tmp_path):
    """The whole path of a rule's script: setup(snakemake), a full disk when the job fails,
    the uncaught error (on a real full disk such a job ended with exit status 120 and an
    empty log)."""
    log_path = tmp_path / "job.log"
    script = textwrap.dedent(f"""
        import errno, os, sys
        from pathlib import Path
        from types import SimpleNamespace
        from stdnet.files.errors import OutputError
        from stdnet.files.io import temporary_name
        from stdnet.workflow.runtime import setup

        log = setup(SimpleNamespace(log=[{str(log_path)!r}], threads=1, rule="simulate"))
        log.info("started")
        reserve = temporary_name(Path({str(log_path)!r}))
        real, fd = os.write, sys.stderr.fileno()

        def full(f, data):  # the disk is full until the reserve is given back
            if f == fd and os.path.exists(reserve):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(f, data)

        os.write = full
        raise OutputError("cannot write out.h5: No space left on device")
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1, res.stderr
    text = log_path.read_text()
    assert " INFO: started\nTraceback (most recent call last):\n" in text
    assert text.endswith("stdnet.files.errors.OutputError: cannot write out.h5: No space "
                         "left on device\n")
    assert res.stderr == "" and list(tmp_path.iterdir()) == [log_path]


def test_reserve_of_a_killed_job_is_removed_at_the_next_start(tmp_path):
    log_path = tmp_path / "job.log"
    script = (f"import os; from stdnet.workflow.joblog import JobLog; "
              f"JobLog({str(log_path)!r}, None); os._exit(0)")  # no exit handlers: a kill
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert len(list(tmp_path.iterdir())) == 2
    removed = remove_stale_temporaries(tmp_path)
    assert len(removed) == 1 and removed[0].name.startswith(".job.log.tmp-")
    assert list(tmp_path.iterdir()) == [log_path]
