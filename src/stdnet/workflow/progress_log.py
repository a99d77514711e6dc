"""What a job's log says about its progress: its last progress line and when it was written.

The workflow's jobs log through stdnet.workflow.runtime.setup, one record a line,
'2026-12-06 09:25:43,496 stdnet.lyapunov.spectrum INFO: <message>'; a progress line
(stdnet.files.progress.ProgressMeter) has an ETA, the simulation's last line says
'finished ...'.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

#: what marks a line of a job's log as progress
PROGRESS_MARKERS = ("ETA", "finished")


@dataclass(frozen=True)
class ProgressRecord:
    """The last progress line of a log: the message (without time and logger) and when it
    was written (seconds since the epoch; the log's modification time where the line
    carries no readable time stamp)."""

    line: str
    written: float


def record_time(line: str) -> float | None:
    """Seconds since the epoch of a log line's leading local time stamp
    ('2026-12-06 09:25:43,496 ...'), None where it has none."""
    try:
        stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    except ValueError:
        return None
    return stamp.timestamp()


def last_progress_record(log_path) -> ProgressRecord | None:
    """The last progress line of the log at `log_path`; None where there is no log or no
    progress line in it."""
    if log_path is None or not Path(log_path).exists():
        return None
    text = Path(log_path).read_text(errors="replace")
    lines = [ln for ln in text.splitlines() if any(m in ln for m in PROGRESS_MARKERS)]
    if not lines:
        return None
    written = record_time(lines[-1])
    if written is None:
        written = Path(log_path).stat().st_mtime
    return ProgressRecord(lines[-1].split(": ", 1)[-1].strip(), written)
