"""Progress of a long job, one format for all: the simulation, the Lyapunov run, the input
recording and the DMF iteration each log the same line,

    4000/10000 steps  t = 200.0/500.0 tau  1234 steps/s  elapsed 0:01:02  ETA 0:00:05

(done/total in the job's unit, the simulated time where there is one, the rate, the wall
time since the job started and the time left, both H:MM:SS; a job may add its own numbers
after the ETA). What makes the numbers tell the truth:

- warm-up: the first update marks the end of the warm-up (numba compiles the kernels in
  the first integration call, seconds to a minute), and the rate counts from there; until
  a rate is measured the line says '? steps/s  ETA ?';
- smoothing: the rate is an exponential moving average over time of the rates between two
  lines, with time constant `smoothing_s` (the weight of a new interval of length d is
  1 - exp(-d / smoothing_s), whatever the spacing of the lines), so a checkpoint write or a
  neighbour's burst moves the ETA gently and the line spacing does not change the average.

Each line is a log record carrying `progress` (the fraction done), so that a console
handler can draw it as a bar (stdnet.files.terminal); in a log file it is a plain line.
`stdnet status` reads the last one back (parse_eta).
"""
from __future__ import annotations

import logging
import math
import re
import time

#: time constant (seconds of wall time) of the rate's moving average
RATE_SMOOTHING_S = 30.0

#: the ETA of a progress line as written by ProgressMeter: 'ETA 0:01:02', 'ETA <= 0:01:02'
_ETA = re.compile(r"ETA (<= )?(\d+):(\d{2}):(\d{2})")


def format_duration(seconds: float) -> str:
    """H:MM:SS of a duration (the elapsed time and ETA of every progress line), '?' when
    unknown."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(seconds, 0.0)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{sec:02d}"


def format_rate(rate: float) -> str:
    """A rate with the digits that matter: '1234' (>= 100), '0.587', '?' when unknown."""
    if not math.isfinite(rate):
        return "?"
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.3g}"


def parse_eta(line: str) -> float:
    """Seconds left according to a progress line ('... ETA 0:01:02 ...'); NaN where the line
    gives none (or '?')."""
    m = _ETA.search(line)
    if not m:
        return math.nan
    return int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))


class ProgressMeter:
    """Progress lines of one job, at most one every `every_s` seconds (module docstring).

    total: the units of work to do (steps, samples' steps, iterations); unit: their name,
    plural ('steps'); tau_per_unit: simulated time per unit (the line then shows t), with
    t_offset the simulated time at done = 0; eta_bound: the ETA is an upper bound (an
    iteration that may converge early: 'ETA <= ...'); clock: a function returning seconds
    (default time.perf_counter, looked up when the meter is made).
    """

    def __init__(self, logger: logging.Logger, total: float, *, unit: str = "steps",
                 tau_per_unit: float | None = None, t_offset: float = 0.0,
                 every_s: float = 10.0, smoothing_s: float = RATE_SMOOTHING_S,
                 eta_bound: bool = False, clock=None):
        self.log, self.total, self.unit = logger, total, unit
        self.tau_per_unit, self.t_offset = tau_per_unit, t_offset
        self.every_s, self.smoothing_s, self.eta_bound = every_s, smoothing_s, eta_bound
        self.clock = clock or time.perf_counter
        self.started = self.last_line = self.clock()
        self.rate = math.nan  # units per second, smoothed; NaN until measured
        self._mark = None  # (wall, done) where the rate was last measured from

    def update(self, done: float, extra="", force: bool = False) -> str | None:
        """Record that `done` units are done; log a line if one is due (or `force`), with
        `extra` after the ETA (a string, or a function returning one: called only for a
        line). Returns the line logged, or None. The first call ends the warm-up."""
        now = self.clock()
        due = force or now - self.last_line >= self.every_s
        if self._mark is None:  # the warm-up (compilation) ends here: rates count from now
            self._mark = (now, done)
        elif due:
            self._measure(now, done)
        if not due:
            return None
        self.last_line = now
        line = self.line(done, now, extra() if callable(extra) else extra)
        self.log.info("%s", line, extra={"progress": min(done / self.total, 1.0)
                                         if self.total > 0 else 1.0})
        return line

    def _measure(self, now: float, done: float) -> None:
        wall0, done0 = self._mark
        span = now - wall0
        if span <= 0 or done <= done0:
            return
        current = (done - done0) / span
        weight = 1.0 - math.exp(-span / self.smoothing_s)
        self.rate = current if math.isnan(self.rate) else self.rate + weight * (current - self.rate)
        self._mark = (now, done)

    def eta_s(self, done: float) -> float:
        """Seconds left at the smoothed rate (inf while no rate is measured)."""
        if not self.rate > 0:
            return math.inf
        return max(self.total - done, 0.0) / self.rate

    def line(self, done: float, now: float, extra: str = "") -> str:
        parts = [f"{done:.0f}/{self.total:.0f} {self.unit}"]
        if self.tau_per_unit is not None:
            t, t_end = (self.t_offset + x * self.tau_per_unit for x in (done, self.total))
            parts.append(f"t = {t:.1f}/{t_end:.1f} tau")
        parts += [f"{format_rate(self.rate)} {self.unit}/s",
                  f"elapsed {format_duration(now - self.started)}",
                  f"ETA {'<= ' if self.eta_bound else ''}{format_duration(self.eta_s(done))}"]
        return "  ".join(parts + ([extra] if extra else []))
