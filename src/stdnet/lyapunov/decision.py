"""The chaos decision of one Lyapunov run: the one rule for chaos.

`chaos_decision` is recorded in every lyapunov.h5 (stdnet.lyapunov.run) and used by the
regime classification (stdnet.transition.regimes.classify) and the onset search,
from lambda_max and the half width h of its confidence interval (batch means,
stdnet.stats) with the resolution zero_tol (config transition.zero_tol):

    "chaotic"       lambda_max - h > zero_tol   the whole interval lies above zero_tol
    "not chaotic"   lambda_max + h < zero_tol   the whole interval lies below zero_tol:
                                                lambda_max is consistent with 0 (periodic
                                                and quasi-periodic orbits have lambda_max =
                                                0 exactly) or negative (fixed point)
    "undecided"     otherwise: the interval contains zero_tol, or h is inf or NaN

h is the batch-means half width or, with too few batches for one, the envelope
of the local exponents (stdnet.lyapunov.spectrum); an undecided run needs a longer average.

Both sides use the same threshold, so the outcomes exclude each other, and
"undecided" is never turned into a guess. zero_tol is the margin on the chaotic
side rather than 0 because (a) a zero exponent can only be certified to a
resolution (with zero_tol = 0 no periodic orbit could ever be "not chaotic"), and
one threshold for both sides avoids runs that are both; (b) the finite-time
estimate has systematic errors of order 1/t_average that the interval does not
cover (basis alignment when lambda_2 is close to lambda_1, as near the onset, and
the RK4 map instead of the flow); (c) it is the rule the grid stage used before.
The price: chaos with 0 < lambda_max < zero_tol is reported as "not chaotic", so the
onset of *decided* chaos lies where lambda_max first exceeds zero_tol plus the CI half
width; J_ch itself is estimated threshold-free from the probes' lambda_max values
(stdnet.onset.estimate), the decisions only steer the onset search.
"""
from __future__ import annotations

import math

import numpy as np

CHAOTIC, NOT_CHAOTIC, UNDECIDED = "chaotic", "not chaotic", "undecided"
DECISIONS = (CHAOTIC, NOT_CHAOTIC, UNDECIDED)


def chaos_decision(lambda_max: float, half_width: float, zero_tol: float) -> str:
    """"chaotic", "not chaotic" or "undecided" for lambda_max +- half_width (module docstring).

    chaotic: lambda_max - half_width > zero_tol; not chaotic: lambda_max + half_width
    < zero_tol; undecided otherwise, and whenever lambda_max or half_width is NaN or
    the half width is infinite.
    """
    if not (isinstance(zero_tol, (int, float, np.floating, np.integer))
            and math.isfinite(zero_tol) and zero_tol >= 0):
        raise ValueError(f"transition.zero_tol: invalid value {zero_tol!r}; allowed: a number "
                         ">= 0")
    lam, h = float(lambda_max), float(half_width)
    if not (math.isfinite(lam) and math.isfinite(h)) or h < 0:
        return UNDECIDED
    if lam - h > zero_tol:
        return CHAOTIC
    if lam + h < zero_tol:
        return NOT_CHAOTIC
    return UNDECIDED
