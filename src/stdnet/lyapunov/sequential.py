"""When a Lyapunov run looks at its chaos decision, and at what confidence level.

An onset probe decides "chaotic" when the lower confidence bound of lambda_max lies above
zero_tol and "not chaotic" when the upper one lies below it; while undecided the run goes
on and looks again. Every look is a new chance to cross a bound by accident: with the
level of one look used at each of K looks, the probability of a wrong decision grows with
K (docs/onset.md, "Sequential decision"). Two rules:

* per-look level (sequential_alpha unset): every look at lyapunov.confidence. Looks at
  t_average, 2 t_average, ... 5 t_average (the width study) at 95 % cross a given bound
  by accident with probability 0.071, not 0.025;
* error-controlled (lyapunov.sequential_alpha = alpha): every look at level 1 - alpha / K
  for K looks, so that at lambda_max = zero_tol exactly the probability that *any* look
  crosses the upper bound is at most alpha / 2, and the same for the lower one (the
  union bound: it needs only that each look's interval holds its own level). Looks can
  then be frequent (lyapunov.look_every) without inflating the error.

Why not a tighter boundary. The running mean of the local exponents is asymptotically a
Brownian motion's (functional central limit theorem), and under that limit a constant
boundary for the K looks (Pocock's) is narrower than Bonferroni's: at the width study's
5 looks 2.42 instead of 2.58 standard errors. `crossing_probability` computes the limit's
crossing probability (it gives the 0.071 above). But our intervals are batch means with
an estimated tau_int and few batches, not known variances: on AR(1) local exponents
(tau_int 9 intervals, mean on zero_tol, 400 series; tests/test_sequential.py) the Pocock
level let 6.0 % of the series cross the upper bound at one of 17 looks, and 4.75 % at 5;
the per-look 95 % rule 14 % and 9.25 %; Bonferroni 2.75 % and 3.25 % (binomial SE 0.8 %).
"""
from __future__ import annotations

import math

import numpy as np

#: Monte Carlo paths of crossing_probability (standard error at a probability of 0.025:
#: 3.5e-4) and their seed
N_PATHS = 200_000
MC_SEED = 20261205

#: lyapunov settings that mean "today's rule" (every look after a t_average, at
#: `confidence`, no periodic-orbit check); left out of checkpoint fingerprints and rule
#: params when they have these values, so runs and checkpoints made before the keys existed stay valid
UNSET = {"look_every": 0.0, "sequential_alpha": None, "cycle_check": 0.0}


def without_unset(settings: dict) -> dict:
    """`settings` (a lyapunov mapping) without the sequential keys at their UNSET values."""
    return {k: v for k, v in settings.items() if not (k in UNSET and v == UNSET[k])}


def look_intervals(n_first: int, n_look: int, n_last: int) -> list[int]:
    """Averaging intervals done at each look: n_first, n_first + n_look, ..., n_last.

    The last look is always at n_last (the budget), even where n_look does not divide
    n_last - n_first. n_look = 0 means one look only when n_first == n_last.
    """
    for key, v in (("n_first", n_first), ("n_look", n_look), ("n_last", n_last)):
        if not (isinstance(v, (int, np.integer)) and v >= 0):
            raise ValueError(f"{key}: invalid value {v!r}; allowed: an integer >= 0")
    if n_first < 1 or n_last < n_first:
        raise ValueError(f"looks: need 1 <= n_first <= n_last, got n_first={n_first}, "
                         f"n_last={n_last}")
    if n_look == 0 and n_last > n_first:
        raise ValueError("n_look: 0 leaves the looks between n_first and n_last undefined; "
                         "allowed: an integer >= 1")
    looks = list(range(n_first, n_last, n_look)) if n_last > n_first else []
    return looks + [n_last]


def _max_z(times: tuple[float, ...]) -> np.ndarray:
    """Per path, the largest z-statistic W(t_k)/sqrt(t_k) over the looks (seeded)."""
    t = np.asarray(times, dtype=float)
    rng = np.random.default_rng(MC_SEED)
    best = np.full(N_PATHS, -np.inf)
    w = np.zeros(N_PATHS)
    prev = 0.0
    for tk in t:  # one look at a time: memory N_PATHS, not N_PATHS x K
        w += rng.standard_normal(N_PATHS) * math.sqrt(tk - prev)
        np.maximum(best, w / math.sqrt(tk), out=best)
        prev = tk
    return best


def _check_times(times) -> tuple[float, ...]:
    t = tuple(float(x) for x in times)
    if not t or any(not (x > 0 and math.isfinite(x)) for x in t) or any(
            b <= a for a, b in zip(t, t[1:])):
        raise ValueError(f"look times: {list(times)!r}; allowed: increasing positive numbers")
    return t


def crossing_probability(times, z: float) -> float:
    """P(any look's z-statistic exceeds z) at the looks `times` (one side, mean on the bound)."""
    return float(np.mean(_max_z(_check_times(times)) > float(z)))


def controlled_level(times, alpha: float) -> float:
    """The confidence level for every look such that each bound is crossed by accident at
    any of the K looks `times` with probability at most alpha / 2: 1 - alpha / K
    (Bonferroni; module docstring). With one look it is 1 - alpha."""
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise ValueError(f"lyapunov.sequential_alpha: invalid value {alpha!r}; allowed: a "
                         "number in (0, 1)")
    return 1.0 - float(alpha) / len(_check_times(times))
