"""The log file of a rule's job, which still receives the job's last words on a full disk.

A job whose disk fills up fails while writing its output, and the traceback that says so
goes to its log, on the same full disk: that write failed too, Python could not flush
stderr at exit, and the job ended with exit status 120 and an empty log. JobLog keeps a
small reserve file next to the log while the job runs and gives it back when a write to
the log fails for want of space, so the message gets in; whatever still cannot be written
goes to the job's own stderr (Snakemake's output) instead of being lost. A write to the
log never raises. A job that starts on a disk without even that much room stops at once
(OutputError naming the log and the free space, on the job's stderr), instead of
failing at its first output, maybe hours later, with nothing in its log.

The reserve is named like the temporaries of stdnet.files.io (`.<log>.tmp-<host>-<pid>`),
so the workflow's start removes one left by a killed job.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import io
import os
from pathlib import Path

from stdnet.files.errors import OutputError
from stdnet.files.io import temporary_name, write_failure

#: room kept for the last lines of a job: a traceback is a few kB
RESERVE_BYTES = 64 * 1024
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class JobLog(io.TextIOBase):
    """A text stream appending to `path` (UTF-8, unbuffered), for sys.stderr and logging.

    fallback: where text goes that the log cannot take (the job's original stderr)."""

    encoding = "utf-8"

    def __init__(self, path, fallback):
        self.path = Path(path)
        self._fallback = fallback
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._reserve = _reserve_space(temporary_name(self.path), self.path)
        except OutputError:
            os.close(self._fd)
            raise
        self._told = False
        atexit.register(self.release_reserve)

    def write(self, text: str) -> int:
        data = memoryview(text.encode("utf-8", "backslashreplace"))
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except OSError as e:
                if e.errno in _NO_SPACE and self.release_reserve():
                    continue  # the reserve's room is the log's now: try again
                self._to_fallback(bytes(data).decode("utf-8", "replace"), e)
                break
        return len(text)

    def release_reserve(self) -> bool:
        """Remove the reserve file; whether there was one to give back."""
        reserve, self._reserve = self._reserve, None
        if reserve is None:
            return False
        with contextlib.suppress(OSError):
            reserve.unlink()
        return True

    def _to_fallback(self, text: str, e: OSError) -> None:
        with contextlib.suppress(Exception):  # nowhere left to report to
            if not self._told:
                self._told = True
                self._fallback.write(f"stdnet: cannot write the log {self.path} "
                                     f"({e.strerror or e}); its lines follow here\n")
            self._fallback.write(text)
            self._fallback.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:  # faulthandler writes there directly
        return self._fd

    def flush(self) -> None:  # every write goes straight to the file
        pass

    def close(self) -> None:
        if not self.closed:
            self.release_reserve()
            with contextlib.suppress(OSError):
                os.close(self._fd)
        super().close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _reserve_space(path: Path, log_path: Path) -> Path:
    """A file of RESERVE_BYTES at `path` (zeros written: real blocks, not a sparse file).
    OutputError naming the log where the disk has not even that much room: the job would
    fail at its first output, and could not say so in its log."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, bytes(RESERVE_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        with contextlib.suppress(OSError):
            path.unlink()
        raise OutputError(write_failure(log_path, e)) from e
    return path
