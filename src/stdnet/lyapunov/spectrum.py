"""Lyapunov exponents by repeated QR (Benettin / Shimada-Nagashima), system-agnostic.

The algorithm knows nothing about the network: a *tangent system* is any object
with attributes `dim`, `m`, `dt` and a method `advance(y, Q, n_steps)` that moves
a state y and a (dim, m) tangent block Q forward in place (stdnet.lyapunov.tangent for the
network, oracles.textbook for the linear, Lorenz and Henon test systems), so the
tests validate exactly the code path that the network runs use.

Protocol: Q starts orthonormal; every `delta_t` (steps of the system) Q is
re-orthonormalised by QR (stdnet.lyapunov.qr), and log|R_kk| / delta_t is the local
exponent k of that interval. The first `t_align` only aligns the basis with the most
expanding directions and is discarded; the estimate is the mean of the local
exponents over `t_average`. Its confidence interval (ci_method):

* "batch_means" (default): batches whose length is 10 integrated autocorrelation
  times of that exponent's local series (stdnet.stats.intervals; docs/onset.md). With
  fewer than 5 such batches there is no statistical interval; the half width is
  then the envelope of the local series, max_k |lambda_k(t_k) - mean| (flagged in
  `ci_envelope`): every sub-window mean lies inside it whatever the correlations.
  It decides only runs whose every local exponent lies on one side of the
  threshold, e.g. fixed points, whose local exponents drift slowly and smoothly
  while the basis aligns (tau_int estimates ~n/7 at any n) and would otherwise
  stay undecided at every length;
* "blocks": the spread of `n_blocks` contiguous block means (Student t) whatever
  their length; kept for comparison, not valid when the blocks are shorter than the
  correlations (near the onset of chaos, periods up to ~280 tau).

The run is flagged as not converged when the half width of lambda_max exceeds
max(tol_abs, tol_rel |lambda_max|). A run can be continued (`continue_spectrum`:
same state, same basis, more local exponents appended) with exactly the result of
one longer run. Its whole state (SpectrumState) can be saved and resumed to the same
bytes: `IntervalRunner` takes an optional checkpointer, called between two advance
calls.

The stage's other modules: lyapunov.qr (Householder re-orthonormalisation, starting
basis), lyapunov.run (the network: settings, tangent stepper, extension while the chaos
decision is undecided), lyapunov_checkpoint (checkpoint files, resume, SIGTERM) and
lyapunov.files (the simulation a run starts from, lyapunov.h5, the table).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from stdnet.files.progress import ProgressMeter
from stdnet.lyapunov.qr import reorthonormalise
from stdnet.stats import batch_means_ci, block_ci

# one logger for the whole Lyapunov stage (lyapunov.run and lyapunov_checkpoint use it too)
log = logging.getLogger("stdnet.lyapunov.spectrum")


@dataclass
class LyapunovResult:
    """Exponents (descending as QR delivers them), their CI and the local series."""

    exponents: np.ndarray  # (m,)
    half_width: np.ndarray  # (m,) CI half widths
    local: np.ndarray  # (n_intervals, m) local exponents of the averaging window
    local_align: np.ndarray  # (n_align, m) local exponents of the alignment window
    times: np.ndarray  # (n_intervals,) end time of each interval, from the start of averaging
    delta_t: float
    t_align: float
    t_average: float
    n_blocks: int
    confidence: float
    converged: bool
    tolerance: float
    divergence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # optional trace series
    wall_time_s: float = float("nan")
    qr_time_s: float = float("nan")
    ci_method: str = "batch_means"
    tau_int: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (m,) in intervals
    batch_length: np.ndarray = field(  # (m,) in intervals
        default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_batches: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ci_envelope: np.ndarray = field(  # (m,) True: half width is the local series' envelope
        default_factory=lambda: np.zeros(0, dtype=bool))
    tol_abs: float = 0.005
    tol_rel: float = 0.1
    n_extensions: int = 0  # continuations by continue_spectrum
    decision: str = ""  # chaos decision (onset_lyapunov); "" when not decided
    # the periodic-orbit check (stdnet.lyapunov.attractor, onset_lyapunov): {} when none ran, else
    # found, criterion, period, returns_per_period, distance, n_crossings, t_checked
    cycle: dict = field(default_factory=dict)

    @property
    def lambda_max(self) -> float:
        return float(self.exponents[0])

    def kaplan_yorke(self) -> tuple[float, bool]:
        return kaplan_yorke(self.exponents)


def kaplan_yorke(exponents) -> tuple[float, bool]:
    """Kaplan-Yorke dimension k + sum_{i<=k} l_i / |l_{k+1}| of sorted exponents.

    Returns (D_KY, complete). complete is False when the sum of all given
    exponents is still >= 0: then D_KY >= m and the value m is only a lower bound.
    """
    lam = np.sort(np.asarray(exponents, dtype=float))[::-1]
    csum = np.cumsum(lam)
    if lam.size == 0 or lam[0] < 0:
        return 0.0, True
    nonneg = np.nonzero(csum >= 0)[0]
    k = int(nonneg[-1]) + 1  # number of exponents with a non-negative partial sum
    if k >= lam.size:
        return float(lam.size), False
    return float(k + csum[k - 1] / abs(lam[k])), True


CI_METHODS = ("batch_means", "blocks")


def exponent_ci(local: np.ndarray, *, ci_method: str = "batch_means", n_blocks: int = 10,
                confidence: float = 0.95):
    """Mean, CI half width, tau_int, batch length, number of batches, envelope flag per column.

    local: (n, m) local exponents. tau_int (in intervals) is always estimated, as a
    diagnostic; with ci_method "blocks" the batches are the n_blocks fixed blocks.
    batch_means: where there are too few batches for an interval (half width inf),
    the half width is the envelope max_k |local[k] - mean| instead and the flag is
    set (module docstring); it stays inf where the series is not finite.
    """
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method: invalid value {ci_method!r}; allowed: "
                         f"{', '.join(CI_METHODS)}")
    bm = batch_means_ci(local, confidence)
    m = local.shape[1]
    if ci_method == "batch_means":
        half = bm.half_width.copy()
        envelope = np.isinf(half) & np.all(np.isfinite(local), axis=0)
        if envelope.any():
            half[envelope] = np.abs(local[:, envelope] - bm.mean[envelope]).max(axis=0)
        return bm.mean, half, bm.tau_int, bm.batch_length, bm.n_batches, envelope
    mean, half = block_ci(local, n_blocks, confidence)
    B = min(int(n_blocks), local.shape[0])
    return (mean, half, bm.tau_int, np.full(m, local.shape[0] // max(B, 1), dtype=np.int64),
            np.full(m, B, dtype=np.int64), np.zeros(m, dtype=bool))


def whole_steps(t: float, dt: float, key: str) -> int:
    """t as a whole number of steps dt; ValueError naming `key` otherwise."""
    n = int(round(t / dt))
    if abs(n * dt - t) > 1e-9 * max(1.0, abs(t)):
        raise ValueError(f"{key}: invalid value {t}; allowed: a whole multiple of dt ({dt})")
    return n


@dataclass
class SpectrumState:
    """Everything a run of QR intervals needs to continue bit for bit (a checkpoint's content).

    local and divergence have one row per planned interval; rows < interval are done.
    divergence is empty when the run does not record it. sub_step counts the steps
    already taken into the next interval (a checkpoint may fall inside an interval).
    """

    y: np.ndarray  # (dim,) trajectory state
    Q: np.ndarray  # (dim, m) tangent basis
    local: np.ndarray  # (n_planned, m) local exponents
    divergence: np.ndarray  # (n_planned,) or (0,)
    interval: int = 0  # QR intervals done
    sub_step: int = 0  # steps done into the next interval
    n_extensions: int = 0  # continuations decided so far (onset_lyapunov)
    wall_time_s: float = 0.0  # of every attempt so far (for /meta only)
    qr_time_s: float = 0.0
    records_divergence: bool = True

    @classmethod
    def fresh(cls, y, Q, n_planned: int, record_divergence: bool) -> "SpectrumState":
        """A state at t = 0 that advances y and Q in place (not copied)."""
        return cls(y=y, Q=Q, local=np.empty((n_planned, Q.shape[1])),
                   divergence=np.empty(n_planned if record_divergence else 0),
                   records_divergence=bool(record_divergence))

    def grow(self, n_planned: int) -> None:
        """Make room for n_planned intervals (rows already computed are kept)."""
        extra = n_planned - self.local.shape[0]
        if extra > 0:
            self.local = np.concatenate([self.local, np.empty((extra, self.local.shape[1]))])
            if self.records_divergence:
                self.divergence = np.concatenate([self.divergence, np.empty(extra)])


# a SIGTERM is honoured within about this much wall time when checkpoints are on
MAX_CALL_S = 1.0


class IntervalRunner:
    """Advances a SpectrumState interval by interval: QR, local exponents, progress, checkpoints.

    With checkpoints the steps of one interval may be split over several
    `system.advance` calls (to stop at a checkpoint time, and to see a SIGTERM within
    ~MAX_CALL_S even when one interval takes minutes). Every step is computed alike
    whatever the split, so the numbers do not depend on it. `checkpoints` (e.g.
    stdnet.lyapunov.checkpoint.Checkpointer) has `next_step` and `after_call(st, step)`,
    called between two advance calls, where the state is consistent.
    """

    def __init__(self, system, st: SpectrumState, n_step: int, delta_t: float, divergence=None,
                 *, progress_every_s: float = 10.0, n_skip: int = 0, t_offset: float = 0.0,
                 checkpoints=None):
        self.system, self.st, self.n_step, self.delta_t = system, st, n_step, delta_t
        self.divergence, self.progress_every_s = divergence, progress_every_s
        self.n_skip, self.t_offset, self.checkpoints = n_skip, t_offset, checkpoints
        self._scratch = np.empty_like(st.Q)
        self._pace = 1 if checkpoints is not None else n_step  # steps per call, adapted

    @property
    def step(self) -> int:
        """Steps since the start of the run (what checkpoints are spaced by)."""
        return self.st.interval * self.n_step + self.st.sub_step

    def run_to(self, n_target: int) -> None:
        st = self.st
        # the first call compiles the tangent kernels (numba): the rate counts from its end
        meter = ProgressMeter(log, n_target * self.n_step,
                              tau_per_unit=self.delta_t / self.n_step, t_offset=self.t_offset,
                              every_s=self.progress_every_s)
        while st.interval < n_target:
            t_call = time.perf_counter()
            n = self._call_steps()
            self.system.advance(st.y, st.Q, n)
            st.sub_step += n
            if st.sub_step == self.n_step:
                self._close_interval()
            now = time.perf_counter()
            st.wall_time_s += now - t_call
            if self.checkpoints is not None:
                self._pace = max(1, min(self.n_step, int(MAX_CALL_S * n / max(now - t_call,
                                                                              1e-9))))
                self.checkpoints.after_call(st, self.step)
                st.wall_time_s += time.perf_counter() - now
            meter.update(self.step, self._running_lambda)

    def _call_steps(self) -> int:
        n = min(self.n_step - self.st.sub_step, self._pace)
        if self.checkpoints is not None:
            n = min(n, max(1, self.checkpoints.next_step - self.step))
        return n

    def _close_interval(self) -> None:
        st = self.st
        tq = time.perf_counter()
        st.local[st.interval] = reorthonormalise(st.Q, self._scratch) / self.delta_t
        st.qr_time_s += time.perf_counter() - tq
        if self.divergence is not None:
            st.divergence[st.interval] = self.divergence(st.y)
        st.interval += 1
        st.sub_step = 0

    def _running_lambda(self) -> str:
        """The running mean of the largest local exponent after the alignment."""
        k = self.st.interval
        mean = self.st.local[self.n_skip:k, 0].mean() if k > self.n_skip else float("nan")
        return f"lambda_1 (running) = {mean:.4f}"


def _run_intervals(system, y, Q, n_step: int, delta_t: float, n: int, divergence,
                   progress_every_s: float, n_skip: int = 0, t_offset: float = 0.0):
    """n QR intervals from (y, Q) (both advanced): local exponents (n, m), divergence,
    QR seconds. n_skip leading intervals are left out of the logged running mean."""
    st = SpectrumState.fresh(y, Q, n, divergence is not None)
    IntervalRunner(system, st, n_step, delta_t, divergence, progress_every_s=progress_every_s,
                   n_skip=n_skip, t_offset=t_offset).run_to(n)
    return st.local, st.divergence, st.qr_time_s


def spectrum_result(local_align, avg, div, *, delta_t, t_align, t_average, n_blocks,
                    confidence, tol_abs, tol_rel, ci_method, wall, t_qr,
                    n_extensions=0) -> LyapunovResult:
    """The statistics of the averaging window `avg` (n, m) as a LyapunovResult."""
    mean, half, tau, b, B, env = exponent_ci(avg, ci_method=ci_method, n_blocks=n_blocks,
                                             confidence=confidence)
    tol = max(tol_abs, tol_rel * abs(mean[0]))
    converged = bool(np.isfinite(half[0]) and half[0] <= tol)
    if not converged:
        log.warning("lambda_max = %.4g +- %.2g not converged (tolerance %.2g) after %g tau "
                    "(tau_int %.3g intervals, %d batches%s); increase t_average", mean[0],
                    half[0], tol, t_average, tau[0], B[0],
                    ": envelope of the local exponents" if env[0] else "")
    return LyapunovResult(
        exponents=mean, half_width=half, local=avg, local_align=local_align,
        times=np.arange(1, len(avg) + 1) * delta_t, delta_t=float(delta_t),
        t_align=float(t_align), t_average=float(t_average), n_blocks=int(n_blocks),
        confidence=float(confidence), converged=converged, tolerance=float(tol),
        divergence=div, wall_time_s=wall, qr_time_s=t_qr, ci_method=ci_method, tau_int=tau,
        batch_length=b, n_batches=B, ci_envelope=env, tol_abs=float(tol_abs),
        tol_rel=float(tol_rel), n_extensions=int(n_extensions))


def lyapunov_spectrum(system, y: np.ndarray, Q: np.ndarray, *, delta_t: float,
                      t_align: float, t_average: float, n_blocks: int = 10,
                      confidence: float = 0.95, tol_abs: float = 0.005, tol_rel: float = 0.1,
                      ci_method: str = "batch_means", divergence=None,
                      progress_every_s: float = 10.0) -> LyapunovResult:
    """The first m exponents of `system` from state y and orthonormal basis Q (both advanced).

    delta_t: re-orthonormalisation interval (a multiple of system.dt); t_align: basis
    alignment before averaging (a multiple of delta_t, may be 0); t_average: averaging
    time (a multiple of delta_t, at least 2 intervals); ci_method: "batch_means" or
    "blocks" (n_blocks fixed blocks). `divergence(y)`, if given, is recorded at the
    end of every interval (for the sum-of-exponents check).
    """
    dt = system.dt
    n_step = whole_steps(delta_t, dt, "delta_t")
    if n_step < 1:
        raise ValueError(f"delta_t: invalid value {delta_t}; allowed: a number >= dt ({dt})")
    n_align = whole_steps(t_align, delta_t, "t_align")
    n_avg = whole_steps(t_average, delta_t, "t_average")
    if n_avg < 2:
        raise ValueError(f"t_average: invalid value {t_average}; allowed: at least two "
                         f"intervals of delta_t ({delta_t})")
    if n_blocks < 2:
        raise ValueError(f"n_blocks: invalid value {n_blocks}; allowed: an integer >= 2")
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method: invalid value {ci_method!r}; allowed: "
                         f"{', '.join(CI_METHODS)}")
    t0 = time.perf_counter()
    local, div, t_qr = _run_intervals(system, y, Q, n_step, delta_t, n_align + n_avg,
                                      divergence, progress_every_s, n_skip=n_align)
    wall = time.perf_counter() - t0
    return spectrum_result(local[:n_align], local[n_align:],
                           div[n_align:] if divergence is not None else div, delta_t=delta_t,
                           t_align=t_align, t_average=t_average, n_blocks=n_blocks,
                           confidence=confidence, tol_abs=tol_abs, tol_rel=tol_rel,
                           ci_method=ci_method, wall=wall, t_qr=t_qr)


def continue_spectrum(system, y: np.ndarray, Q: np.ndarray, res: LyapunovResult,
                      t_more: float, *, divergence=None,
                      progress_every_s: float = 10.0) -> LyapunovResult:
    """Continue the run that gave `res` by t_more (a multiple of res.delta_t).

    y and Q must be the state and basis as that run left them (both advanced again):
    the new local exponents are appended, nothing restarts, so the result equals
    that of one run with t_average = res.t_average + t_more, bit for bit (only the
    timings and n_extensions, raised by one, differ). Pass `divergence` again if the
    run recorded it.
    """
    n_step = whole_steps(res.delta_t, system.dt, "delta_t")
    n_more = whole_steps(t_more, res.delta_t, "t_more")
    if n_more < 1:
        raise ValueError(f"t_more: invalid value {t_more}; allowed: at least one interval of "
                         f"delta_t ({res.delta_t})")
    if Q.shape[1] != res.local.shape[1]:
        raise ValueError(f"Q: {Q.shape[1]} columns; allowed: {res.local.shape[1]}, as in the "
                         "run being continued")
    if (divergence is None) != (res.divergence.size == 0):
        raise ValueError("divergence: allowed: given exactly when the run being continued "
                         "recorded it")
    t0 = time.perf_counter()
    local, div, t_qr = _run_intervals(system, y, Q, n_step, res.delta_t, n_more, divergence,
                                      progress_every_s, t_offset=res.t_average)
    wall = time.perf_counter() - t0
    return spectrum_result(res.local_align, np.concatenate([res.local, local]),
                           np.concatenate([res.divergence, div]), delta_t=res.delta_t,
                           t_align=res.t_align, t_average=res.t_average + t_more,
                           n_blocks=res.n_blocks, confidence=res.confidence,
                           tol_abs=res.tol_abs, tol_rel=res.tol_rel, ci_method=res.ci_method,
                           wall=res.wall_time_s + wall, t_qr=res.qr_time_s + t_qr,
                           n_extensions=res.n_extensions + 1)


def two_trajectory_exponent(advance_fn, y: np.ndarray, v: np.ndarray, *, d0: float,
                            n_step: int, dt: float, n_align: int, n_avg: int,
                            n_blocks: int = 10, confidence: float = 0.95):
    """lambda_max from a reference and a perturbed trajectory (Benettin's renormalisation).

    Independent of any tangent code: `advance_fn(y, n_steps)` moves one state in
    place. The partner starts at y + d0 v/|v| and is pulled back to distance d0
    every n_step steps; the log growth per interval / (n_step dt) is the local rate.
    Returns (mean, half width, local rates of the averaging window).
    """
    y = np.array(y, dtype=float)
    v = np.asarray(v, dtype=float)
    z = y + d0 * v / np.linalg.norm(v)
    rates = np.empty(n_align + n_avg)
    for k in range(n_align + n_avg):
        advance_fn(y, n_step)
        advance_fn(z, n_step)
        diff = z - y
        d = np.linalg.norm(diff)
        rates[k] = math.log(d / d0) / (n_step * dt)
        z = y + (d0 / d) * diff
    mean, half = block_ci(rates[n_align:], n_blocks, confidence)
    return float(mean), float(half), rates[n_align:]
