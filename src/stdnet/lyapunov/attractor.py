"""Is the attractor a periodic orbit? Poincaré returns located exactly, certified by recurrence.

Why. Near the onset of chaos many runs sit on a stable periodic orbit with a long period
(20 - 170 τ at N = 1000-2000). Its λ_max is 0 exactly (the direction of the flow), but the
local exponents oscillate with the period, so the batch-means interval of the QR estimate
shrinks slowly and the chaos decision stays "undecided" for up to the whole budget (five
t_average). The orbit itself is much cheaper to recognise: the trajectory comes back to
the same point.

Method. The section is an upward crossing of s(y) = <h>_E (the mean E input) through a
level c, the mean of s over the first `settle` of the check. A crossing between two steps
is located by the secant method on the step size: from the state before the crossing one
step of size theta dt (theta in (0, 1)), so the return point P_j is a state of the
integrator itself, to |s(P_j) - c| < 1e-12, not an interpolation (a linear interpolation
between steps of dt = 0.25 misplaces it by ~1e-2 of the orbit, the size of a chaotic
near-return). For each candidate number of crossings per period p = 1 .. P_MAX the return
distances d_j = |P_j - P_{j-p}| / <|P|> are followed, and the orbit is certified when
for one p

- `exact`: the last two d_j are below EXACT (1e-6; the measured floor of a converged orbit
  is 1e-8 - 4e-7, set by the secant tolerance and the integrator's step-to-step errors), or
- `contracting`: the last N_CONTRACT (4) d_j decrease strictly and the last is below
  CLOSE (1e-4): the trajectory approaches a stable orbit geometrically (Floquet multiplier
  < 1), as every measured slowly converging orbit did (ratios 0.6 - 0.94 per return);

and in both cases the distances are also below AMPLITUDE_FRACTION (1e-3) of the motion's
own size (the rms distance of the trajectory from its mean over the check): returns that
are close only because the whole motion is tiny (weak chaos just past a fixed point) do not
count.

Chaotic runs near the onset (λ_max 0.01 - 0.03) never came closer than 2e-2 in 400 τ,
and their d_j fluctuate; a chaotic trajectory would have to approach an unstable orbit
along its stable manifold to within 1e-4 (and keep shrinking for 4 returns) to pass.
A torus (two zero exponents) whose returns come close for some p could pass as well; it
is "not chaotic" too, which is all the decision uses. A spiral into a fixed point is not
certified (its returns shrink with the state, so the relative distances do not; or the
section's level is left behind): the QR estimate decides those runs as before.

The check integrates the trajectory alone (no tangent vectors), from a copy of the state.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from stdnet.kernels import etd4 as expint
from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work

P_MAX = 8  # crossings per period tried
EXACT = 1e-6  # relative return distance of a converged orbit
CLOSE = 1e-4  # a contracting sequence must end below this
N_CONTRACT = 4  # strictly decreasing return distances needed
AMPLITUDE_FRACTION = 1e-3  # a return distance must also be below this share of the motion's size
SECANT_TOL = 1e-12  # |s(P) - c| at a located crossing
SECANT_ITER = 40
MAX_GAP = 100.0  # τ without a crossing after which the check gives up
KEEP = P_MAX + N_CONTRACT + 1  # returns kept (certify uses the last p + N_CONTRACT)
SETTLE = 20.0  # τ at the start of a check that set the section's level


@dataclass(frozen=True)
class CycleCheck:
    """The outcome of check_cycle: found, and if so how (period in τ, p crossings)."""

    found: bool
    criterion: str  # "exact", "contracting" or "" (not found)
    period: float  # τ, NaN when not found
    returns_per_period: int  # p, 0 when not found
    distance: float  # the last relative return distance of the best p (NaN: < p+1 returns)
    n_crossings: int
    t_checked: float  # τ integrated


def certify(points, times, p_max: int = P_MAX, amplitude: float = math.inf
            ) -> CycleCheck | None:
    """The certified orbit among the returns so far (points: (n, dim), times: (n,)), or None
    (its n_crossings counts these returns, t_checked is NaN: check_cycle fills both in).

    amplitude: the trajectory's own size (rms distance from its mean over the check); a
    return distance must also be below AMPLITUDE_FRACTION of it, so that a motion of tiny
    amplitude (weak chaos just past a fixed point, whose returns are all close relative to
    |P|) is not taken for an orbit."""
    n = len(points)
    if n < 3:
        return None
    scale, distances = _return_distances(points, p_max)
    ceiling = AMPLITUDE_FRACTION * amplitude / scale  # the same bound, relative to |P|
    for p, d in distances:
        period = float(times[-1] - times[-1 - p])
        if len(d) >= 2 and max(d[-1], d[-2]) < min(EXACT, ceiling):
            return CycleCheck(True, "exact", period, p, float(d[-1]), n, math.nan)
        tail = d[-N_CONTRACT:]
        if (len(tail) == N_CONTRACT and tail[-1] < min(CLOSE, ceiling)
                and bool(np.all(np.diff(tail) < 0))):
            return CycleCheck(True, "contracting", period, p, float(d[-1]), n, math.nan)
    return None


def _welford(z, mean, m2, count: int) -> int:
    """Add state z to the running mean / sum of squared deviations (in place)."""
    count += 1
    delta = z - mean
    mean += delta / count
    m2 += delta * (z - mean)
    return count


def _return_distances(points, p_max: int):
    """(<|P|>, [(p, d_p)]): for p = 1 .. min(p_max, n - 1) the distances d_j = |P_j - P_{j-p}|
    / <|P|> of every return that has one."""
    P = np.asarray(points)
    scale = float(np.mean(np.linalg.norm(P, axis=1))) or 1.0
    return scale, [(p, np.linalg.norm(P[p:] - P[:-p], axis=1) / scale)
                   for p in range(1, min(p_max, len(P) - 1) + 1)]


def _best_distance(points, p_max: int = P_MAX) -> float:
    """The smallest last return distance over p (for the record of an unfound check)."""
    if len(points) < 2:
        return math.nan
    return min(float(d[-1]) for _, d in _return_distances(points, p_max)[1])


def _locate(step, before, s_before, s_after, level, dt, observable):
    """The crossing inside the step from `before`: (state, theta) by the secant method on
    the step size theta dt, bracketed (regula falsi with the Illinois halving)."""
    a, fa, b, fb = 0.0, s_before - level, 1.0, s_after - level
    z = before.copy()
    theta = 1.0
    side = 0
    for _ in range(SECANT_ITER):
        theta = (a * fb - b * fa) / (fb - fa)
        z[:] = before
        step(z, theta * dt)
        fz = observable(z) - level
        if abs(fz) < SECANT_TOL:
            break
        if fz < 0:
            a, fa = theta, fz
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            b, fb = theta, fz
            if side == 1:
                fa *= 0.5
            side = 1
    return z, theta


def check_cycle(step, y, dt: float, t_max: float, observable, settle: float = SETTLE,
                p_max: int = P_MAX, max_gap: float = MAX_GAP) -> CycleCheck:
    """Integrate a copy of y with step(z, h) (advance z in place by one step of size h <= dt;
    False when the step went non-finite) for at most t_max τ, and stop as soon as the
    returns to the section certify a periodic orbit (module docstring), or when the
    section has not been crossed for max_gap τ (a state that barely moves: no orbit of a
    period the check could certify in time).

    observable(y) -> float defines the section (crossed upward through the mean of its
    values over the first `settle` τ).
    """
    if not (t_max > settle >= 0 and dt > 0):
        raise ValueError(f"check_cycle: need t_max > settle >= 0 and dt > 0, got t_max={t_max}, "
                         f"settle={settle}, dt={dt}")
    z = np.array(y, dtype=np.float64)
    n_settle = max(1, int(round(settle / dt)))
    n_max = int(round(t_max / dt))
    total = 0.0
    mean, m2, count = np.zeros_like(z), np.zeros_like(z), 0  # Welford: the motion's size
    for _ in range(n_settle):
        if step(z, dt) is False:
            return CycleCheck(False, "", math.nan, 0, math.nan, 0, n_settle * dt)
        total += observable(z)
        count = _welford(z, mean, m2, count)
    level = total / n_settle
    points, times = [], []
    n_crossings = 0
    before = z.copy()
    s_prev = observable(z)
    n_gap = int(round(max_gap / dt))
    last = n_settle
    for k in range(n_settle, n_max):
        if k - last > n_gap:
            return CycleCheck(False, "", math.nan, 0, _best_distance(points, p_max),
                              n_crossings, k * dt)
        before[:] = z
        if step(z, dt) is False:
            break
        s_now = observable(z)
        count = _welford(z, mean, m2, count)
        if s_prev < level <= s_now:
            point, theta = _locate(step, before, s_prev, s_now, level, dt, observable)
            points.append(point)
            last = k
            times.append((k + theta) * dt)
            if len(points) > KEEP:  # certify looks at the last KEEP returns only
                del points[0], times[0]
            n_crossings += 1
            found = certify(points, times, p_max, math.sqrt(float(m2.sum()) / count))
            if found is not None:
                return dataclasses.replace(found, n_crossings=n_crossings,
                                           t_checked=(k + 1) * dt)
        s_prev = s_now
    return CycleCheck(False, "", math.nan, 0, _best_distance(points, p_max), n_crossings,
                      n_max * dt)


def network_stepper(params, net, method: str):
    """step(z, h) for check_cycle: one trajectory step of the simulation's integrator
    (stdnet.kernels.cpu RK4 / Euler, or stdnet.kernels.etd4 ETD4) of any size h; False when the
    state went non-finite."""
    args = kernel_args(params, net)
    if method == expint.METHOD:
        work, code, kernel = expint.make_work(params), expint.METHOD_CODE, expint.advance
    else:
        work, code, kernel = make_work(params), METHOD_CODES[method], advance

    def step(z, h):
        return kernel(z, 1, code, float(h), *args, work) < 0
    return step


def mean_excitatory_input(params):
    """The section's observable: the mean input h of the E population."""
    n_e = params.N_E
    return lambda y: float(np.mean(y[:n_e]))
