"""The console of the `stdnet` command: progress lines drawn as a bar on a terminal, plain
lines everywhere else (a pipe, a file, a job's log).

A progress line is a log record with a `progress` attribute, the fraction done
(stdnet.files.progress.ProgressMeter). On a terminal the handler redraws one line in place
(a carriage return, no newline): the bar, the percentage and the same text as the plain
line, cut to the terminal's width; any other record first ends that line, so messages
appear below the last state of the bar. Self-written rather than tqdm's: the rate and the
ETA must be the meter's (counted after the warm-up, smoothed, H:MM:SS, the same numbers as
in the logs), so a library would only draw the brackets, and stdnet needs no dependency for
that.
"""
from __future__ import annotations

import logging
import os
import shutil

#: characters between the bar's brackets
BAR_WIDTH = 24
#: seconds between two redraws of the bar (a plain line comes every --progress-every)
BAR_EVERY_S = 0.5


def is_terminal(stream) -> bool:
    """Whether `stream` is an interactive terminal that can redraw a line (not TERM=dumb)."""
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """'[#########...............]  38%' for fraction 0.38 (clipped to 0..1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}%"


def _columns(stream) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    # a terminal of unknown size (an unsized pty says 0): COLUMNS, else 80
    return columns if columns > 0 else shutil.get_terminal_size().columns


class ConsoleHandler(logging.StreamHandler):
    """Log records to `stream`; progress records as a bar redrawn in place when `bar`."""

    def __init__(self, stream, bar: bool):
        super().__init__(stream)
        self.bar = bar
        self._line_open = False  # a bar is drawn and its line not yet ended

    def emit(self, record: logging.LogRecord) -> None:
        fraction = getattr(record, "progress", None)
        if not self.bar or fraction is None:
            self.end_line()
            super().emit(record)
            return
        try:
            width = max(_columns(self.stream) - 1, 20)  # the last column would wrap
            text = f"{progress_bar(fraction)}  {record.getMessage()}"
            self.stream.write("\r" + text[:width].ljust(width))
            self.stream.flush()
            self._line_open = True
        except Exception:  # noqa: BLE001 - logging's contract: report, never raise
            self.handleError(record)

    def end_line(self) -> None:
        """End the bar's line (the next output starts on a line of its own)."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False


def console_handler(stream) -> ConsoleHandler:
    """The handler of the `stdnet` command's log on `stream`: a bar on a terminal."""
    return ConsoleHandler(stream, bar=is_terminal(stream))
