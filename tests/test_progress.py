"""Progress lines: one format for every job, rates after the warm-up and smoothed, a bar on a
terminal and plain lines elsewhere (stdnet.files.progress, stdnet.files.terminal)."""
import io
import logging
import math
import os
import pty
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from stdnet.correlations.recording import record_inputs
from stdnet.dmf.solver import DMFSettings, network_problem, solve_dmf
from stdnet.files import progress
from stdnet.files.progress import ProgressMeter, format_rate, parse_eta
from stdnet.files.terminal import ConsoleHandler, console_handler, is_terminal, progress_bar
from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov
from stdnet.lyapunov.spectrum import IntervalRunner, SpectrumState
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.simulation.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
HMS = r"\d+:\d{2}:\d{2}"
#: the one format: done/total unit, [t = a/b tau], rate unit/s, elapsed, ETA, [extra]
LINE = re.compile(rf"^\d+/\d+ (steps|iterations)(  t = [\d.]+/[\d.]+ tau)?  "
                  rf"(\?|[\d.]+) \1/s  elapsed {HMS}  ETA (<= )?(\?|{HMS})(  .+)?$")


class Clock:
    """A settable clock for the meter."""

    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def lines():
    logger = logging.getLogger("test.progress")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler.records
    logger.removeHandler(handler)


# ---- the meter --------------------------------------------------------------------------
def test_rate_and_eta_start_after_the_warm_up(lines):
    logger, records = lines
    clock = Clock()
    meter = ProgressMeter(logger, 10000, tau_per_unit=0.05, every_s=10.0, clock=clock)
    clock.t = 20.0  # the first call: 100 steps and 20 s of compilation
    assert meter.update(100) == ("100/10000 steps  t = 5.0/500.0 tau  ? steps/s  "
                                 "elapsed 0:00:20  ETA ?")
    clock.t = 25.0
    assert meter.update(600) is None  # not due: one line every 10 s
    clock.t = 30.0  # 1000 steps in the 10 s after the warm-up: 100 steps/s, not 1100/30
    assert meter.update(1100) == ("1100/10000 steps  t = 55.0/500.0 tau  100 steps/s  "
                                  "elapsed 0:00:30  ETA 0:01:29")
    assert records[-1].progress == pytest.approx(0.11)


def test_rate_is_an_exponential_average_over_time(lines):
    logger, _ = lines
    clock = Clock()
    meter = ProgressMeter(logger, 1e6, every_s=10.0, smoothing_s=30.0, clock=clock)
    meter.update(0)
    clock.t = 10.0
    meter.update(1000)  # 100/s
    clock.t = 20.0
    meter.update(3000)  # 200/s over the last 10 s
    w = 1 - math.exp(-10 / 30)
    assert meter.rate == pytest.approx(100 + w * (200 - 100), rel=1e-12)
    assert meter.eta_s(3000) == pytest.approx((1e6 - 3000) / meter.rate, rel=1e-12)
    clock.t = 80.0
    meter.update(3000 + 60 * 50)  # 50/s for 60 s: weight of a 60 s interval
    w60 = 1 - math.exp(-60 / 30)
    assert meter.rate == pytest.approx(100 + w * 100 + w60 * (50 - 100 - w * 100), rel=1e-12)


def test_a_constant_rate_is_kept_exactly_whatever_the_line_spacing(lines):
    logger, _ = lines
    clock = Clock()
    meter = ProgressMeter(logger, 1e6, every_s=0.5, clock=clock)
    meter.update(0)
    for t in (0.5, 1.25, 7.0, 7.5, 40.0):
        clock.t = t
        meter.update(250 * t)
        assert meter.rate == pytest.approx(250.0, rel=1e-12)


def test_iterations_without_simulated_time_and_an_eta_bound(lines):
    logger, _ = lines
    clock = Clock()
    meter = ProgressMeter(logger, 40, unit="iterations", eta_bound=True, clock=clock)
    assert meter.update(1, "residual 2.13", force=True) == (
        "1/40 iterations  ? iterations/s  elapsed 0:00:00  ETA <= ?  residual 2.13")
    clock.t = 4.0
    line = meter.update(3, lambda: "residual 0.5", force=True)
    assert line == ("3/40 iterations  0.5 iterations/s  elapsed 0:00:04  ETA <= 0:01:14  "
                    "residual 0.5")
    assert LINE.match(line) and parse_eta(line) == 74.0


def test_parse_eta_and_format_rate():
    assert parse_eta("x  ETA 1:02:05  lambda_1 (running) = 0.1") == 3725
    assert parse_eta("ETA <= 0:00:15") == 15
    assert math.isnan(parse_eta("ETA ?")) and math.isnan(parse_eta("finished 20 steps"))
    assert (format_rate(1234.4), format_rate(0.5874), format_rate(math.nan)) == (
        "1234", "0.587", "?")


def test_lyapunov_rate_leaves_out_the_compiling_first_call(monkeypatch, lines):
    """IntervalRunner: the first advance call takes 60 s (compilation), then 8 steps/s."""
    logger, records = lines
    clock = Clock()
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(perf_counter=clock))
    monkeypatch.setattr("stdnet.lyapunov.spectrum.log", logger)

    class System:
        calls = 0

        def advance(self, y, Q, n):
            clock.t += 60.0 if self.calls == 0 else n / 8.0
            self.calls += 1

    y, Q = np.zeros(3), np.linalg.qr(np.random.default_rng(1).normal(size=(3, 2)))[0]
    st = SpectrumState.fresh(y, Q, 40, False)
    IntervalRunner(System(), st, 8, 1.0, progress_every_s=2.0, n_skip=0).run_to(40)
    text = [r.getMessage() for r in records]
    assert text[0].startswith("8/320 steps  t = 1.0/40.0 tau  ? steps/s  elapsed 0:01:00  ETA ?")
    assert text[1].startswith("24/320 steps  t = 3.0/40.0 tau  8 steps/s  elapsed 0:01:02  "
                              "ETA 0:00:37  lambda_1 (running) = ")
    assert all(LINE.match(t) for t in text)


# ---- every job prints the one format ---------------------------------------------------
def test_every_job_prints_the_same_line(caplog):
    p = ModelParams(N=200, J0=1.5)
    with caplog.at_level(logging.INFO):
        sim = simulate(p, RunParams(t_transient=2.0, t_record=2.0), 1, progress_every_s=0.0)
        y0 = sim["final"]["y"]
        record_inputs(p, y0, 1, RunParams(dt=0.05), t_measure=2.0, sample_interval=0.5,
                      n_sample=5, progress_every_s=0.0)
        onset_lyapunov(p, build_network(p, 1), y0, LyapunovSettings(
            n_exponents=1, delta_t=1.0, t_align=0.0, t_average=4.0, n_blocks=2), 1,
            zero_tol=0.005, max_extensions=0, progress_every_s=0.0)
        solve_dmf(network_problem(ModelParams(N=1000, J0=1.5)),
                  DMFSettings(n_paths=60, t_path=60.0, t_burn=20.0, dt=0.25, max_lag=15.0,
                              max_iter=2, seed=1), progress_every_s=0.0)
    progress_lines = {}
    for r in caplog.records:
        if hasattr(r, "progress"):
            progress_lines.setdefault(r.name, []).append(r.getMessage())
    assert set(progress_lines) == {"stdnet.simulation.simulate", "stdnet.correlations.recording",
                                   "stdnet.lyapunov.spectrum", "stdnet.dmf.solver"}
    for name, found in progress_lines.items():
        assert all(LINE.match(t) for t in found), (name, found)
        assert "steps/s" in found[-1] or name == "stdnet.dmf.solver"
    assert "ETA <= " in progress_lines["stdnet.dmf.solver"][0]


# ---- the console: a bar on a terminal, plain lines elsewhere ----------------------------
class TTY(io.StringIO):
    def isatty(self):
        return True


def _log_to(handler, fraction_messages):
    logger = logging.getLogger("test.console")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for fraction, message in fraction_messages:
            logger.info(message, extra={} if fraction is None else {"progress": fraction})
        handler.end_line()
    finally:
        logger.removeHandler(handler)


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    handler = console_handler(out)
    assert not handler.bar and not is_terminal(out)
    _log_to(handler, [(0.25, "1/4 steps"), (0.5, "2/4 steps"), (None, "finished")])
    assert out.getvalue() == "1/4 steps\n2/4 steps\nfinished\n"


def test_a_bar_redrawn_in_place_on_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("TERM", "xterm")
    out = TTY()
    handler = console_handler(out)
    assert handler.bar
    _log_to(handler, [(0.25, "1/4 steps"), (0.5, "2/4 steps"), (None, "finished")])
    first = f"{progress_bar(0.25)}  1/4 steps".ljust(59)
    second = f"{progress_bar(0.5)}  2/4 steps".ljust(59)
    assert out.getvalue() == f"\r{first}\r{second}\nfinished\n"
    assert progress_bar(0.5) == "[############............]  50%"


def test_dumb_terminal_gets_plain_lines(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert not console_handler(TTY()).bar
    assert isinstance(console_handler(io.StringIO()), ConsoleHandler)


def test_stdnet_simulate_draws_a_bar_on_a_pty_and_plain_lines_in_a_pipe(tmp_path):
    """The command itself: the same run on a pseudo-terminal and into a pipe."""
    args = [sys.executable, "-m", "stdnet.cli", "simulate", "--N", "200", "--J0", "1.5",
            "--t-transient", "2", "--t-record", "20", "--progress-every", "0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200", "TERM": "xterm",
           "NUMBA_NUM_THREADS": "1"}
    piped = subprocess.run(args + ["-o", str(tmp_path / "a.h5")], env=env, capture_output=True,
                           text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    plain = [ln for ln in piped.stderr.splitlines() if "steps/s" in ln]
    assert plain and "\r" not in piped.stderr and "[#" not in piped.stderr
    assert all(LINE.match(ln.split(": ", 1)[1]) for ln in plain)

    leader, follower = pty.openpty()
    proc = subprocess.Popen(args + ["-o", str(tmp_path / "b.h5")], env=env, stderr=follower,
                            stdout=subprocess.DEVNULL)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0
    text = shown.decode().replace("\r\n", "\n")  # the terminal's newlines
    assert re.search(r"\r\[[#.]{24}\] +\d+%  \d+/\d+ steps  t = ", text), text
    last = text.splitlines()[-1]  # below the bar, on a line of its own
    assert "finished" in last and "\r" not in last and "[#" not in last
