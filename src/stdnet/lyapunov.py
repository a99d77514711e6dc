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
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

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


def _run_intervals(system, y, Q, n_step: int, delta_t: float, n: int, divergence,
                   progress_every_s: float, n_skip: int = 0, t_offset: float = 0.0):
    """n QR intervals from (y, Q) (both advanced): local exponents (n, m), divergence,
    QR seconds. n_skip leading intervals are left out of the logged running mean."""
    m = Q.shape[1]
    local = np.empty((n, m))
    div = np.empty(n) if divergence is not None else np.zeros(0)
    t0 = last = time.perf_counter()
    t_qr = 0.0
    scratch = np.empty_like(Q)
    for k in range(n):
        system.advance(y, Q, n_step)
        tq = time.perf_counter()
        local[k] = reorthonormalise(Q, scratch) / delta_t
        t_qr += time.perf_counter() - tq
        if divergence is not None:
            div[k] = divergence(y)
        now = time.perf_counter()
        if now - last >= progress_every_s:
            last = now
            rate = (k + 1) / (now - t0)
            log.info("interval %d/%d  t = %.1f/%.1f tau  lambda_1 (running) = %.4f  ETA %.0f s",
                     k + 1, n, t_offset + (k + 1) * delta_t, t_offset + n * delta_t,
                     local[n_skip:k + 1, 0].mean() if k >= n_skip else float("nan"),
                     (n - k - 1) / rate)
    return local, div, t_qr


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
    def from_config(cls, section: dict, simulation: dict, J0: float | None = None
                    ) -> "LyapunovSettings":
        """Settings of one run; at a J0 listed in spectrum_J0, spectrum_exponents exponents."""
        keys = {"n_exponents", "delta_t", "t_align", "t_average", "n_blocks", "confidence",
                "tol_abs", "tol_rel", "ci_method", "max_extensions"}
        extra = {"spectrum_J0", "spectrum_exponents"}
        unknown = set(section) - keys - extra
        if unknown:
            raise ValueError(f"lyapunov: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(keys | extra)}")
        kw = {k: v for k, v in section.items() if k in keys}
        if J0 is not None and any(abs(J0 - j) < 1e-9 for j in section.get("spectrum_J0", [])):
            kw["n_exponents"] = int(section.get("spectrum_exponents", 64))
        return cls(**kw, dt=float(simulation.get("dt", 0.05)),
                   method=simulation.get("method", "rk4"))


def _network_start(params, net, y0, settings: LyapunovSettings, seed: int):
    """Tangent stepper, copy of the state and the seed's basis ("tangent_basis" stream)."""
    from .seeding import rng
    from .tangent import TangentStepper

    m = min(int(settings.n_exponents), params.dim)
    stepper = TangentStepper(params, net, m, settings.dt, settings.method)
    Q = random_basis(params.dim, m, rng(seed, "tangent_basis"))
    y = np.array(y0, dtype=np.float64)
    log.info("N=%d J0=%g seed=%d: %d exponents, delta_t=%g, align %g + average %g tau, CI %s",
             params.N, params.J0, seed, m, settings.delta_t, settings.t_align,
             settings.t_average, settings.ci_method)
    return stepper, y, Q


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


def onset_lyapunov(params, net, y0, settings: LyapunovSettings, seed: int, zero_tol: float,
                   max_extensions: int | None = None):
    """network_lyapunov with the chaos decision; extended while it is undecided.

    Runs t_align + t_average (as network_lyapunov, same seed -> same numbers), applies
    stdnet.regimes.chaos_decision(lambda_max, half width, zero_tol) and, while that
    is "undecided", continues the same run (same state, same basis, local exponents
    appended: continue_spectrum) by another t_average, at most max_extensions times
    (default settings.max_extensions). The result carries the final decision
    ("undecided" if it still is: never a guess) and n_extensions; its t_average is
    the total averaging time. Returns (result, final y).
    """
    from .regimes import UNDECIDED, chaos_decision

    n_max = settings.max_extensions if max_extensions is None else max_extensions
    if not (isinstance(n_max, (int, np.integer)) and not isinstance(n_max, bool) and n_max >= 0):
        raise ValueError(f"max_extensions: invalid value {n_max!r}; allowed: an integer >= 0")
    stepper, y, Q = _network_start(params, net, y0, settings, seed)
    res = lyapunov_spectrum(stepper, y, Q, **_spectrum_kwargs(settings),
                            divergence=stepper.divergence)
    decision = chaos_decision(res.lambda_max, res.half_width[0], zero_tol)
    while decision == UNDECIDED and res.n_extensions < n_max:
        log.info("undecided after %g tau (lambda_max %.4f +- %.3g, zero_tol %g): extension "
                 "%d/%d by %g tau", res.t_average, res.lambda_max, res.half_width[0], zero_tol,
                 res.n_extensions + 1, n_max, settings.t_average)
        res = continue_spectrum(stepper, y, Q, res, settings.t_average,
                                divergence=stepper.divergence)
        decision = chaos_decision(res.lambda_max, res.half_width[0], zero_tol)
    res = dataclasses.replace(res, decision=decision)
    _log_result(res)
    log.info("decision: %s (lambda_max %.4f +- %.3g, zero_tol %g) after %g tau, %d extension(s)",
             decision, res.lambda_max, res.half_width[0], zero_tol, res.t_average,
             res.n_extensions)
    return res, y


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
                   observables: dict | None = None) -> None:
    """Write one run's exponents, CI, local series and observables (atomically).

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


def read_lyapunov(path) -> dict:
    """Everything of a lyapunov.h5 file: groups' attributes as dicts, datasets as arrays."""
    import h5py

    from . import io

    with h5py.File(path, "r") as f:
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
