"""Lyapunov exponents by repeated QR (Benettin / Shimada-Nagashima), system-agnostic.

The algorithm knows nothing about the network: a *tangent system* is any object
with attributes `dim`, `m`, `dt` and a method `advance(y, Q, n_steps)` that moves
a state y and a (dim, m) tangent block Q forward in place (stdnet.tangent for the
network, stdnet.textbook for the linear, Lorenz and Henon test systems), so the
tests validate exactly the code path that the network runs use.

Protocol: Q starts orthonormal; every `delta_t` (steps of the system) Q is
re-orthonormalised by QR, and log|R_kk| / delta_t is the local exponent k of that
interval. The first `t_align` only aligns the basis with the most expanding
directions and is discarded; the estimate is the mean of the local exponents over
`t_average`. Its confidence interval (ci_method):

* "batch_means" (default): batches whose length is 10 integrated autocorrelation
  times of that exponent's local series (stdnet.batchmeans; docs/onset.md). With
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
one longer run; `onset_lyapunov` does so while the chaos decision
(stdnet.regimes.chaos_decision) is undecided.

`onset_lyapunov` can checkpoint: its whole state (SpectrumState: trajectory, basis,
local exponents, counters) is saved atomically every checkpoint_interval of simulated
time and on SIGTERM, and a rerun with the same fingerprint resumes to the same bytes
(docs/onset.md, "Checkpoints").
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

log = logging.getLogger("stdnet.lyapunov")


@njit(cache=True, inline="always")
def _reflect(Q, j, V, k, vnorm2):
    """Column j of Q <- H_k Q[:, j], H_k = I - 2 v v^T / |v|^2 with v = V[k:, k]."""
    n = Q.shape[0]
    dot = 0.0
    for i in range(k, n):
        dot += V[i, k] * Q[i, j]
    f = 2.0 * dot / vnorm2
    for i in range(k, n):
        Q[i, j] -= f * V[i, k]


@njit(cache=True)
def _householder_qr(Q, V, logr):
    """Q (n, m) <- its orthonormal QR factor with diag(R) > 0; logr <- log|R_kk|.

    Householder reflections (stable even for nearly parallel columns), single
    threaded and deterministic; V (n, m) is scratch for the reflectors. Cost
    about 4 n m^2 flops, negligible next to the tangent steps between two calls.
    """
    n, m = Q.shape
    for k in range(m):
        norm2 = 0.0
        for i in range(k, n):
            norm2 += Q[i, k] * Q[i, k]
        norm = math.sqrt(norm2)
        alpha = -norm if Q[k, k] >= 0.0 else norm  # R_kk; sign avoids cancellation
        for i in range(k):
            V[i, k] = 0.0
        for i in range(k, n):
            V[i, k] = Q[i, k]
        V[k, k] -= alpha
        vnorm2 = norm2 - Q[k, k] * Q[k, k] + V[k, k] * V[k, k]
        logr[k] = math.log(norm) if norm > 0.0 else -np.inf
        if vnorm2 > 0.0:
            for j in range(k + 1, m):
                _reflect(Q, j, V, k, vnorm2)
        V[k, k] = V[k, k] if vnorm2 > 0.0 else 0.0
        Q[k, k] = alpha  # remember the sign of R_kk
    signs = np.empty(m)
    for k in range(m):
        signs[k] = -1.0 if Q[k, k] < 0.0 else 1.0
    # Q = H_0 H_1 ... H_{m-1} I[:, :m], applied from the last reflector back
    for i in range(n):
        for j in range(m):
            Q[i, j] = 1.0 if i == j else 0.0
    for k in range(m - 1, -1, -1):
        vnorm2 = 0.0
        for i in range(k, n):
            vnorm2 += V[i, k] * V[i, k]
        if vnorm2 == 0.0:
            continue
        for j in range(k, m):
            _reflect(Q, j, V, k, vnorm2)
    # flip columns so that diag(R) > 0: orientations stay continuous between calls
    for i in range(n):
        for j in range(m):
            Q[i, j] *= signs[j]


def reorthonormalise(Q: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """Replace Q (C-contiguous float64 (n, m), n >= m) by its orthonormal QR factor.

    The signs are chosen so that diag(R) > 0. Returns log|R_kk|: the log growth of
    column k since the last call, after removing its components along columns < k.
    """
    if scratch is None or scratch.shape != Q.shape:
        scratch = np.empty_like(Q)
    logr = np.empty(Q.shape[1])
    _householder_qr(Q, scratch, logr)
    return logr


def random_basis(dim: int, m: int, gen: np.random.Generator) -> np.ndarray:
    """m random orthonormal columns (C-contiguous (dim, m)).

    Drawn column by column, so the first k columns (and hence lambda_1..lambda_k)
    do not depend on how many exponents are asked for.
    """
    Q = np.ascontiguousarray(gen.standard_normal((m, dim)).T)
    reorthonormalise(Q)
    return Q


def block_ci(series: np.ndarray, n_blocks: int, confidence: float = 0.95):
    """Mean of `series` (n, ...) along axis 0 and a CI half width from block means.

    Blocks are contiguous, equal-sized (a remainder at the start is left out of
    the CI only); the half width is t_{(1+c)/2, B-1} sd(block means) / sqrt(B).
    Needs at least 2 blocks of at least one sample; otherwise the half width is inf.
    """
    from scipy import stats

    series = np.asarray(series, dtype=float)
    mean = series.mean(axis=0)
    n = series.shape[0]
    B = min(int(n_blocks), n)
    if B < 2:
        return mean, np.full(np.shape(mean), np.inf)
    size = n // B
    blocks = series[n - B * size:].reshape(B, size, *series.shape[1:]).mean(axis=1)
    sd = blocks.std(axis=0, ddof=1)
    half = stats.t.ppf(0.5 + confidence / 2, B - 1) * sd / math.sqrt(B)
    return mean, half


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

    @property
    def lambda_max(self) -> float:
        return float(self.exponents[0])

    def running_mean(self) -> np.ndarray:
        """Running estimate of every exponent vs time (n_intervals, m)."""
        return np.cumsum(self.local, axis=0) / np.arange(1, len(self.local) + 1)[:, None]

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
    from .batchmeans import batch_means_ci

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


def _steps(t: float, dt: float, key: str) -> int:
    n = int(round(t / dt))
    if abs(n * dt - t) > 1e-9 * max(1.0, abs(t)):
        raise ValueError(f"{key}: invalid value {t}; allowed: a whole multiple of dt ({dt})")
    return n


CHECKPOINT_FORMAT = 1  # raise when the checkpoint layout changes: old ones are then ignored


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

    def save(self, path, fingerprint: dict, n_step: int, dt: float, phase: str) -> None:
        """Write the state to `path` atomically (temporary file, then os.replace)."""
        from . import io

        k = self.interval
        with io.atomic_h5(path) as f:
            io.write_attrs(f, {"format": CHECKPOINT_FORMAT, "interval": k,
                               "sub_step": self.sub_step, "n_extensions": self.n_extensions,
                               "phase": phase, "t": (k * n_step + self.sub_step) * dt,
                               "wall_time_s": self.wall_time_s, "qr_time_s": self.qr_time_s,
                               "records_divergence": self.records_divergence})
            io.write_attrs(f.create_group("fingerprint"), fingerprint)
            io.write_datasets(f, {"y": self.y, "Q": self.Q, "local": self.local[:k],
                                  "divergence": self.divergence[:k]}, compress=False)

    @classmethod
    def load(cls, path) -> tuple["SpectrumState", dict]:
        """The state saved at `path` and the fingerprint it was saved with; CheckpointError
        when it cannot be read (whether its fingerprint fits is the caller's to judge)."""
        from . import io
        from .errors import CheckpointError, InputFileError

        try:
            with io.open_h5(path, kind="checkpoint",
                            hint="the run that finds it starts again from t = 0") as f:
                a = io.read_attrs(f)
                st = cls(y=f["y"][()], Q=np.ascontiguousarray(f["Q"][()]),
                         local=f["local"][()], divergence=f["divergence"][()],
                         interval=int(a["interval"]), sub_step=int(a["sub_step"]),
                         n_extensions=int(a["n_extensions"]),
                         wall_time_s=float(a["wall_time_s"]), qr_time_s=float(a["qr_time_s"]),
                         records_divergence=bool(a["records_divergence"]))
                return st, io.read_attrs(f["fingerprint"])
        except InputFileError as e:
            raise CheckpointError(str(e)) from e


# a SIGTERM is honoured within about this much wall time when checkpoints are on
MAX_CALL_S = 1.0


class _IntervalRunner:
    """Advances a SpectrumState interval by interval: QR, local exponents, progress, checkpoints.

    With checkpoints the steps of one interval may be split over several
    `system.advance` calls (to stop at a checkpoint time, and to see a SIGTERM within
    ~MAX_CALL_S even when one interval takes minutes). Every step is computed alike
    whatever the split, so the numbers do not depend on it.
    """

    def __init__(self, system, st: SpectrumState, n_step: int, delta_t: float, divergence=None,
                 *, progress_every_s: float = 10.0, n_skip: int = 0, t_offset: float = 0.0,
                 checkpoints: "_Checkpointer | None" = None):
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
        start, start_step = time.perf_counter(), self.step
        last = start
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
            if now - last >= self.progress_every_s:
                last = now
                self._report(n_target, (self.step - start_step) / max(now - start, 1e-9))

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

    def _report(self, n_target: int, steps_per_s: float) -> None:
        st, k = self.st, self.st.interval
        left_s = (n_target * self.n_step - self.step) / max(steps_per_s, 1e-9)
        log.info("interval %d/%d  t = %.1f/%.1f tau  lambda_1 (running) = %.4f  ETA %.0f s",
                 k, n_target, self.t_offset + self.step / self.n_step * self.delta_t,
                 self.t_offset + n_target * self.delta_t,
                 st.local[self.n_skip:k, 0].mean() if k > self.n_skip else float("nan"), left_s)


def _run_intervals(system, y, Q, n_step: int, delta_t: float, n: int, divergence,
                   progress_every_s: float, n_skip: int = 0, t_offset: float = 0.0):
    """n QR intervals from (y, Q) (both advanced): local exponents (n, m), divergence,
    QR seconds. n_skip leading intervals are left out of the logged running mean."""
    st = SpectrumState.fresh(y, Q, n, divergence is not None)
    _IntervalRunner(system, st, n_step, delta_t, divergence, progress_every_s=progress_every_s,
                    n_skip=n_skip, t_offset=t_offset).run_to(n)
    return st.local, st.divergence, st.qr_time_s


def _result(local_align, avg, div, *, delta_t, t_align, t_average, n_blocks, confidence,
            tol_abs, tol_rel, ci_method, wall, t_qr, n_extensions=0) -> LyapunovResult:
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
        tol_rel=float(tol_rel),
        n_extensions=int(n_extensions))


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
    n_step = _steps(delta_t, dt, "delta_t")
    if n_step < 1:
        raise ValueError(f"delta_t: invalid value {delta_t}; allowed: a number >= dt ({dt})")
    n_align = _steps(t_align, delta_t, "t_align")
    n_avg = _steps(t_average, delta_t, "t_average")
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
    return _result(local[:n_align], local[n_align:],
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
    n_step = _steps(res.delta_t, system.dt, "delta_t")
    n_more = _steps(t_more, res.delta_t, "t_more")
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
    return _result(res.local_align, np.concatenate([res.local, local]),
                   np.concatenate([res.divergence, div]), delta_t=res.delta_t,
                   t_align=res.t_align, t_average=res.t_average + t_more,
                   n_blocks=res.n_blocks, confidence=res.confidence, tol_abs=res.tol_abs,
                   tol_rel=res.tol_rel, ci_method=res.ci_method,
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


# ---- the network: one run from a simulation's final state --------------------------------

@dataclass(frozen=True)
class LyapunovSettings:
    """How the exponents of one network run are measured (config section `lyapunov`)."""

    n_exponents: int = 8
    delta_t: float = 1.0
    t_align: float = 20.0
    t_average: float = 200.0
    n_blocks: int = 10
    confidence: float = 0.95
    tol_abs: float = 0.005
    tol_rel: float = 0.1
    ci_method: str = "batch_means"
    max_extensions: int = 2
    dt: float = 0.05
    method: str = "rk4"

    def __post_init__(self):
        if not (isinstance(self.n_exponents, int) and self.n_exponents >= 1):
            raise ValueError(f"lyapunov.n_exponents: invalid value {self.n_exponents!r}; "
                             "allowed: an integer >= 1")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"lyapunov.ci_method: invalid value {self.ci_method!r}; allowed: "
                             f"{', '.join(CI_METHODS)}")
        if not (isinstance(self.max_extensions, int) and not isinstance(self.max_extensions, bool)
                and self.max_extensions >= 0):
            raise ValueError(f"lyapunov.max_extensions: invalid value {self.max_extensions!r}; "
                             "allowed: an integer >= 0")
        if not (isinstance(self.n_blocks, int) and self.n_blocks >= 2):
            raise ValueError(f"lyapunov.n_blocks: invalid value {self.n_blocks!r}; "
                             "allowed: an integer >= 2")
        for key, t, unit, name in (("delta_t", self.delta_t, self.dt, "simulation.dt"),
                                   ("t_align", self.t_align, self.delta_t, "lyapunov.delta_t"),
                                   ("t_average", self.t_average, self.delta_t,
                                    "lyapunov.delta_t")):
            r = t / unit
            if not (r >= 0 and abs(r - round(r)) < 1e-9 * max(1.0, r)):
                raise ValueError(f"lyapunov.{key}: invalid value {t}; allowed: a whole multiple "
                                 f"of {name} ({unit})")
        if self.t_average < 2 * self.delta_t:
            raise ValueError(f"lyapunov.t_average: invalid value {self.t_average}; allowed: at "
                             f"least 2 delta_t ({2 * self.delta_t})")

    @classmethod
    def from_config(cls, section: dict, simulation: dict, J0: float | None = None,
                    N: int | None = None) -> "LyapunovSettings":
        """Settings of one run; at a J0 listed in spectrum_J0 (and N <= spectrum_N_max
        when that is > 0), spectrum_exponents exponents."""
        keys = {"n_exponents", "delta_t", "t_align", "t_average", "n_blocks", "confidence",
                "tol_abs", "tol_rel", "ci_method", "max_extensions"}
        extra = {"spectrum_J0", "spectrum_exponents", "spectrum_N_max",
                 "checkpoint_interval"}  # not settings
        unknown = set(section) - keys - extra
        if unknown:
            raise ValueError(f"lyapunov: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(keys | extra)}")
        kw = {k: v for k, v in section.items() if k in keys}
        if spectrum_run(section, J0, N):
            kw["n_exponents"] = int(section.get("spectrum_exponents", 64))
        return cls(**kw, dt=float(simulation.get("dt", 0.05)),
                   method=simulation.get("method", "rk4"))


def spectrum_run(section: dict, J0: float | None, N: int | None) -> bool:
    """Does the run at (N, J0) compute the long spectrum (lyapunov.spectrum_J0, up to
    lyapunov.spectrum_N_max; 0 = every N)?"""
    if J0 is None or not any(abs(float(J0) - float(j)) < 1e-9
                             for j in section.get("spectrum_J0", [])):
        return False
    n_max = int(section.get("spectrum_N_max", 0))
    return not (n_max > 0 and N is not None and int(N) > n_max)


def _stepper(params, net, settings: LyapunovSettings, seed: int):
    """The tangent stepper of one run (m capped at the phase-space dimension), logged."""
    from .tangent import TangentStepper

    m = min(int(settings.n_exponents), params.dim)
    log.info("N=%d J0=%g seed=%d: %d exponents, delta_t=%g, align %g + average %g tau, CI %s",
             params.N, params.J0, seed, m, settings.delta_t, settings.t_align,
             settings.t_average, settings.ci_method)
    return TangentStepper(params, net, m, settings.dt, settings.method)


def _network_start(params, net, y0, settings: LyapunovSettings, seed: int):
    """Tangent stepper, copy of the state and the seed's basis ("tangent_basis" stream)."""
    from .seeding import rng

    stepper = _stepper(params, net, settings, seed)
    Q = random_basis(params.dim, stepper.m, rng(seed, "tangent_basis"))
    return stepper, np.array(y0, dtype=np.float64), Q


def _spectrum_kwargs(settings: LyapunovSettings) -> dict:
    return dict(delta_t=settings.delta_t, t_align=settings.t_align,
                t_average=settings.t_average, n_blocks=settings.n_blocks,
                confidence=settings.confidence, tol_abs=settings.tol_abs,
                tol_rel=settings.tol_rel, ci_method=settings.ci_method)


def _log_result(res: LyapunovResult) -> None:
    log.info("lambda_max = %.4f +- %.4f%s (converged: %s; tau_int %.3g tau, %d batches of %d), "
             "%g tau averaged, wall %.1f s, QR %.2f%%", res.lambda_max, res.half_width[0],
             " (envelope)" if res.ci_envelope[0] else "", res.converged,
             res.tau_int[0] * res.delta_t, res.n_batches[0], res.batch_length[0],
             res.t_average, res.wall_time_s,
             100 * res.qr_time_s / max(res.wall_time_s, 1e-12))


def network_lyapunov(params, net, y0, settings: LyapunovSettings, seed: int):
    """Exponents of one network from state y0 (not modified); returns (result, final y).

    The tangent basis is drawn from the seed's own "tangent_basis" stream; the
    first settings.t_align only aligns it (no second trajectory transient: y0 is
    the simulation's final state).
    """
    stepper, y, Q = _network_start(params, net, y0, settings, seed)
    res = lyapunov_spectrum(stepper, y, Q, **_spectrum_kwargs(settings),
                            divergence=stepper.divergence)
    _log_result(res)
    return res, y


# ---- checkpoints of a network run -------------------------------------------------------

def checkpoint_path_for(output) -> Path:
    """The checkpoint next to an output: <run>/lyapunov.h5 -> <run>/lyapunov.checkpoint.h5
    (the name stdnet.accounting looks for, as for simulation.checkpoint.h5)."""
    out = Path(output)
    return out.with_name(f"{out.stem}.checkpoint.h5")


def checkpoint_steps(interval, dt: float) -> int:
    """Steps between checkpoints for lyapunov.checkpoint_interval (tau); 0: no checkpoints."""
    ok = (isinstance(interval, (int, float, np.floating, np.integer))
          and not isinstance(interval, bool) and math.isfinite(interval) and interval >= 0)
    if not ok:
        raise ValueError(f"lyapunov.checkpoint_interval: invalid value {interval!r}; allowed: "
                         "a number >= 0 (simulated time in tau; 0: no checkpoints)")
    return max(1, int(round(interval / dt))) if interval > 0 else 0


def checkpoint_fingerprint(params, settings: LyapunovSettings, seed: int, zero_tol: float,
                           max_extensions: int, y0) -> dict:
    """What a checkpoint must match to be resumed: everything that decides the output's
    bytes, the starting state by its hash. How often checkpoints are taken does not."""
    y0 = np.ascontiguousarray(y0, dtype=np.float64)
    d = {"format": CHECKPOINT_FORMAT, "seed": int(seed), "zero_tol": float(zero_tol),
         "max_extensions": int(max_extensions),
         "y0_sha256": hashlib.sha256(y0.tobytes()).hexdigest()}
    d.update({f"model.{k}": v for k, v in params.to_dict().items()})
    d.update({f"settings.{k}": v for k, v in dataclasses.asdict(settings).items()})
    return d


def _fingerprint_diff(stored: dict, expected: dict) -> list[str]:
    """'key: checkpoint value != this run's value' for every key that differs."""
    want = {k: "None" if v is None else (v.item() if isinstance(v, np.generic) else v)
            for k, v in expected.items()}
    absent = "(absent)"
    keys = sorted(set(stored) | set(want))
    return [f"{k}: {stored.get(k, absent)!r} != {want.get(k, absent)!r}" for k in keys
            if stored.get(k, absent) != want.get(k, absent)]


def _resume(path, fingerprint: dict) -> SpectrumState | None:
    """The checkpoint at `path` if it was written by this very run (same fingerprint).

    A checkpoint of other parameters or settings, or one that cannot be read, is
    ignored with a WARNING saying why: this run starts from t = 0 and overwrites it
    at its first checkpoint. It can never be valid for this run, so failing the job
    would only need a person to delete it by hand.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        st, stored = SpectrumState.load(path)
    except (OSError, KeyError, ValueError, TypeError) as e:
        log.warning("checkpoint %s cannot be read (%s: %s); ignoring it, starting from t = 0",
                    path, type(e).__name__, e)
        return None
    diff = _fingerprint_diff(stored, fingerprint)
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        log.warning("checkpoint %s was written with other parameters or settings, not "
                    "resumed; starting from t = 0 (checkpoint != this run: %s)", path, shown)
        return None
    return st


def _phase(st: SpectrumState, n_align: int) -> str:
    if st.n_extensions:
        return f"extension {st.n_extensions}"
    return "align" if st.interval < n_align else "average"


class _Checkpointer:
    """Saves a run's state every `every` steps, and once more when a SIGTERM came."""

    def __init__(self, path, every: int, fingerprint: dict, n_step: int, dt: float,
                 n_align: int):
        self.path, self.every, self.fingerprint = Path(path), int(every), fingerprint
        self.n_step, self.dt, self.n_align = n_step, dt, n_align
        self.next_step = self.every
        self.terminated = False  # set by the SIGTERM handler (_checkpoint_on_sigterm)
        self._logged = False

    def start(self, step: int) -> None:
        self.next_step = (step // self.every + 1) * self.every

    def after_call(self, st: SpectrumState, step: int) -> None:
        """Called between two advance calls, where the state is consistent."""
        self.exit_if_terminated(st)
        if step >= self.next_step:
            self.save(st)
            self.next_step = (step // self.every + 1) * self.every

    def exit_if_terminated(self, st: SpectrumState) -> None:
        if self.terminated:
            self.terminated = False  # handled: nothing to deliver again on the way out
            self.save(st)
            log.warning("SIGTERM: checkpoint written at t = %.2f tau (%s); exiting, a rerun "
                        "resumes from it", self._t(st), _phase(st, self.n_align))
            raise SystemExit(128 + signal.SIGTERM)

    def save(self, st: SpectrumState) -> None:
        t0 = time.perf_counter()
        st.save(self.path, self.fingerprint, self.n_step, self.dt, _phase(st, self.n_align))
        took = time.perf_counter() - t0
        # the first one says where and what it costs; the rest only at debug level
        log.log(logging.DEBUG if self._logged else logging.INFO,
                "checkpoint at t = %.2f tau: %s (%.2f MB, %.3f s)", self._t(st), self.path,
                self.path.stat().st_size / 1e6, took)
        self._logged = True

    def _t(self, st: SpectrumState) -> float:
        return (st.interval * self.n_step + st.sub_step) * self.dt


@contextlib.contextmanager
def _checkpoint_on_sigterm(ckpt: _Checkpointer | None):
    """While the run goes on, SIGTERM only sets a flag; the run then checkpoints at the end
    of the current advance call (state consistent) and exits with 128 + SIGTERM, as
    stdnet.runtime.exit_cleanly_on_sigterm does. Outside, the previous handler is back; a
    SIGTERM still pending then (an error on the way out) is passed on to it."""
    if ckpt is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        ckpt.terminated = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if ckpt.terminated:
            signal.raise_signal(signal.SIGTERM)


def _interval_counts(settings: LyapunovSettings) -> tuple[int, int, int]:
    """Steps per QR interval, alignment intervals, averaging intervals per t_average."""
    n_step = _steps(settings.delta_t, settings.dt, "delta_t")
    return (n_step, _steps(settings.t_align, settings.delta_t, "t_align"),
            _steps(settings.t_average, settings.delta_t, "t_average"))


def _state_result(st: SpectrumState, settings: LyapunovSettings, n_align: int,
                  n_target: int) -> LyapunovResult:
    """The statistics of the first n_target intervals of a run (as continue_spectrum gives)."""
    t_average = settings.t_average
    for _ in range(st.n_extensions):  # summed as continue_spectrum does: the same float
        t_average += settings.t_average
    return _result(st.local[:n_align], st.local[n_align:n_target],
                   st.divergence[n_align:n_target], delta_t=settings.delta_t,
                   t_align=settings.t_align, t_average=t_average, n_blocks=settings.n_blocks,
                   confidence=settings.confidence, tol_abs=settings.tol_abs,
                   tol_rel=settings.tol_rel, ci_method=settings.ci_method,
                   wall=st.wall_time_s, t_qr=st.qr_time_s, n_extensions=st.n_extensions)


def _run_until_decided(runner: _IntervalRunner, settings: LyapunovSettings, n_align: int,
                       n_avg: int, n_max: int, zero_tol: float):
    """Alignment + averaging, then one more t_average at a time while undecided."""
    from .regimes import UNDECIDED, chaos_decision

    st = runner.st
    while True:
        n_target = n_align + n_avg * (1 + st.n_extensions)
        st.grow(n_target)
        runner.run_to(n_target)
        res = _state_result(st, settings, n_align, n_target)
        decision = chaos_decision(res.lambda_max, res.half_width[0], zero_tol)
        if decision != UNDECIDED or st.n_extensions >= n_max:
            return res, decision
        log.info("undecided after %g tau (lambda_max %.4f +- %.3g, zero_tol %g): extension "
                 "%d/%d by %g tau", res.t_average, res.lambda_max, res.half_width[0], zero_tol,
                 st.n_extensions + 1, n_max, settings.t_average)
        st.n_extensions += 1  # a checkpoint from here on resumes into the extension


def onset_lyapunov(params, net, y0, settings: LyapunovSettings, seed: int, zero_tol: float,
                   max_extensions: int | None = None, *, checkpoint_path=None,
                   checkpoint_interval: float = 0.0, progress_every_s: float = 10.0):
    """network_lyapunov with the chaos decision; extended while it is undecided.

    Runs t_align + t_average (as network_lyapunov, same seed -> same numbers), applies
    stdnet.regimes.chaos_decision(lambda_max, half width, zero_tol) and, while that
    is "undecided", continues the same run (same state, same basis, local exponents
    appended: as continue_spectrum) by another t_average, at most max_extensions times
    (default settings.max_extensions). The result carries the final decision
    ("undecided" if it still is: never a guess) and n_extensions; its t_average is
    the total averaging time. Returns (result, final y).

    checkpoint_path: a checkpoint there from this same run (checkpoint_fingerprint) is
    resumed, one from other settings is ignored with a WARNING (_resume). With
    checkpoint_interval > 0 (simulated tau) the whole state is saved there atomically at
    that spacing, and on SIGTERM before exiting; the result is the same bytes however
    often the run was stopped and resumed. The caller removes the file once the output
    is written (write_lyapunov does).
    """
    n_max = settings.max_extensions if max_extensions is None else max_extensions
    if not (isinstance(n_max, (int, np.integer)) and not isinstance(n_max, bool) and n_max >= 0):
        raise ValueError(f"max_extensions: invalid value {n_max!r}; allowed: an integer >= 0")
    every = checkpoint_steps(checkpoint_interval, settings.dt)
    n_step, n_align, n_avg = _interval_counts(settings)
    stepper = _stepper(params, net, settings, seed)
    fingerprint = checkpoint_fingerprint(params, settings, seed, zero_tol, n_max, y0)
    st = _resume(checkpoint_path, fingerprint) if checkpoint_path is not None else None
    if st is None:
        from .seeding import rng

        Q = random_basis(params.dim, stepper.m, rng(seed, "tangent_basis"))
        st = SpectrumState.fresh(np.array(y0, dtype=np.float64), Q, n_align + n_avg, True)
    else:
        log.info("resumed from checkpoint %s at t = %.2f tau (interval %d, %s; %.1f s of "
                 "earlier attempts)", checkpoint_path, (st.interval * n_step + st.sub_step)
                 * settings.dt, st.interval, _phase(st, n_align), st.wall_time_s)
    ckpt = (_Checkpointer(checkpoint_path, every, fingerprint, n_step, settings.dt, n_align)
            if checkpoint_path is not None and every else None)
    runner = _IntervalRunner(stepper, st, n_step, settings.delta_t, stepper.divergence,
                             progress_every_s=progress_every_s, n_skip=n_align,
                             checkpoints=ckpt)
    with _checkpoint_on_sigterm(ckpt):
        if ckpt is not None:
            ckpt.start(runner.step)
        res, decision = _run_until_decided(runner, settings, n_align, n_avg, n_max, zero_tol)
        if ckpt is not None:
            ckpt.exit_if_terminated(st)
    res = dataclasses.replace(res, decision=decision)
    _log_result(res)
    log.info("decision: %s (lambda_max %.4f +- %.3g, zero_tol %g) after %g tau, %d extension(s)",
             decision, res.lambda_max, res.half_width[0], zero_tol, res.t_average,
             res.n_extensions)
    return res, st.y


def state_observables(sim: dict, params) -> dict:
    """Spatial and temporal spreads of the inputs h from a simulation (read_simulation dict).

    spatial_sd: the larger over E and I of the across-neuron sd of the time-mean h;
    temporal_sd: rms over neurons of the temporal sd of h (recording window).
    """
    h_mean = np.asarray(sim["neurons"]["h_mean"], dtype=float)
    h_var = np.asarray(sim["neurons"]["h_var"], dtype=float)
    N_E = params.N_E
    spatial = max(float(h_mean[:N_E].std()), float(h_mean[N_E:].std()))
    temporal = float(np.sqrt(np.mean(np.clip(h_var, 0.0, None))))
    final_h = np.asarray(sim["final"]["y"][:params.N], dtype=float)
    spatial_final = max(float(final_h[:N_E].std()), float(final_h[N_E:].std()))
    return {"spatial_sd": spatial, "temporal_sd": temporal, "spatial_sd_final": spatial_final}


def write_lyapunov(path, res: LyapunovResult, params, settings: LyapunovSettings, seed: int,
                   observables: dict | None = None, checkpoint_path=None) -> None:
    """Write one run's exponents, CI, local series and observables (atomically).

    The run's checkpoint, if given, is removed only once the output is complete, so a
    job killed at any moment leaves the checkpoint or the finished file.

    summary holds lambda_max with its CI diagnostics (ci_method, tau_int and
    batch_length in tau, n_batches, ci_envelope), t_average_total, n_extensions and,
    when onset_lyapunov made one, the chaos decision.
    """
    from . import io

    ky, ky_complete = res.kaplan_yorke()
    with io.atomic_h5(path) as f:
        io.write_attrs(f.create_group("params"), {**params.to_dict(), "seed": int(seed),
                                                  "N_E": params.N_E, "K_E": params.K_E,
                                                  "K_I": params.K_I})
        io.write_attrs(f.create_group("settings"), dataclasses.asdict(settings))
        meta = io.provenance()
        meta.update(wall_time_s=res.wall_time_s, qr_time_s=res.qr_time_s)
        io.write_attrs(f.create_group("meta"), meta)
        summary = {
            "lambda_max": res.lambda_max, "lambda_max_ci": float(res.half_width[0]),
            "converged": res.converged, "tolerance": res.tolerance,
            "ci_method": res.ci_method,
            "tau_int": float(res.tau_int[0] * res.delta_t) if res.tau_int.size else np.nan,
            "batch_length": (float(res.batch_length[0] * res.delta_t)
                             if res.batch_length.size else np.nan),
            "n_batches": int(res.n_batches[0]) if res.n_batches.size else -1,
            "ci_envelope": bool(res.ci_envelope[0]) if res.ci_envelope.size else False,
            "t_average_total": res.t_average,
            "n_extensions": int(res.n_extensions),
            "kaplan_yorke": ky, "kaplan_yorke_complete": ky_complete,
            "sum_exponents": float(res.exponents.sum()),
            "mean_divergence": float(res.divergence.mean()) if res.divergence.size else np.nan,
            "m": int(res.exponents.size),
        }
        if res.decision:  # absent when no decision was made (readers apply the rule)
            summary["decision"] = res.decision
        io.write_attrs(f.create_group("summary"), summary)
        io.write_attrs(f.create_group("observables"), observables or {})
        io.write_datasets(f, {"exponents": res.exponents, "half_width": res.half_width,
                              "local": res.local, "local_align": res.local_align,
                              "times": res.times, "divergence": res.divergence,
                              "tau_int": res.tau_int * res.delta_t,
                              "batch_length": res.batch_length * res.delta_t,
                              "n_batches": res.n_batches, "ci_envelope": res.ci_envelope})
        f["times"].attrs["unit"] = "tau"
        f["tau_int"].attrs["unit"] = "tau"
        f["batch_length"].attrs["unit"] = "tau"
        f["local"].attrs["description"] = "local exponents log|R_kk|/delta_t per QR interval"
    if checkpoint_path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(checkpoint_path)


def read_lyapunov(path) -> dict:
    """Everything of a lyapunov.h5 file: groups' attributes as dicts, datasets as arrays."""
    import h5py

    from . import io

    with io.open_h5(path, kind="Lyapunov result") as f:
        out = {k: v[()] for k, v in f.items() if isinstance(v, h5py.Dataset)}
        for g in ("params", "settings", "meta", "summary", "observables"):
            out[g] = io.read_attrs(f[g])
    return out


def lyapunov_table(paths):
    """One row per lyapunov.h5: N, J0, seed, lambda_k, ci_k, summary and observables.

    Among the summary columns: decision (chaos decision, "" if none was recorded),
    t_average_total (averaging time after extensions), n_extensions, ci_method, and
    for lambda_max tau_int and batch_length (tau), n_batches and ci_envelope (whether
    ci_max is the envelope of the local exponents; -1 / NaN / "" / False for files
    written before these were recorded).
    """
    import pandas as pd

    rows = []
    for path in paths:
        d = read_lyapunov(path)
        row = {"N": int(d["params"]["N"]), "J0": float(d["params"]["J0"]),
               "seed": int(d["params"]["seed"])}
        s = d["summary"]
        row.update(lambda_max=s["lambda_max"], ci_max=s["lambda_max_ci"],
                   converged=bool(s["converged"]), m=int(s["m"]),
                   kaplan_yorke=s["kaplan_yorke"],
                   kaplan_yorke_complete=bool(s["kaplan_yorke_complete"]),
                   sum_exponents=s["sum_exponents"], mean_divergence=s["mean_divergence"],
                   t_average=float(d["settings"]["t_average"]),
                   t_average_total=float(s.get("t_average_total", d["settings"]["t_average"])),
                   n_extensions=int(s.get("n_extensions", 0)),
                   decision=str(s.get("decision", "")),
                   ci_method=str(s.get("ci_method", "blocks")),
                   tau_int=float(s.get("tau_int", np.nan)),
                   batch_length=float(s.get("batch_length", np.nan)),
                   n_batches=int(s.get("n_batches", -1)),
                   ci_envelope=bool(s.get("ci_envelope", False)),
                   wall_time_s=float(d["meta"].get("wall_time_s", np.nan)),
                   qr_time_s=float(d["meta"].get("qr_time_s", np.nan)))
        row.update({k: float(v) for k, v in d["observables"].items()})
        for k, (lam, ci) in enumerate(zip(d["exponents"], d["half_width"]), start=1):
            row[f"lambda_{k}"] = float(lam)
            row[f"ci_{k}"] = float(ci)
        row["path"] = str(path)
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["N", "J0", "seed"]).reset_index(drop=True)
