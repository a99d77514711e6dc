"""Sompolinsky-Crisanti-Sommers (1988) chaos: the classical potential solution.

An independent oracle for the DMF solver (which samples paths instead). For
tau dh_i/dt = -h_i + sum_j J_ij tanh(h_j), J_ij ~ N(0, g^2/N), the input
autocovariance Delta(t) obeys Newton's equation in a potential
(tau = 1, Phi = log cosh, Phi' = tanh, Dz the standard Gaussian measure):

    Delta'' = -dV/dDelta,
    V(D; D0) = -D^2/2 + g^2 int Dz [ int Dx Phi(sqrt(D0 - D) x + sqrt(D) z) ]^2.

The chaotic solution starts at rest at D0 = Delta(0) and creeps to 0 as t -> inf,
so energy conservation V(D0; D0) = V(0; D0) fixes D0:

    D0^2 / 2 = g^2 ( <Phi(sqrt(D0) z)^2> - <Phi(sqrt(D0) z)>^2 ),

which has a root D0 > 0 only for g > 1 (no chaos below). The decay follows by
quadrature: t(D) = int_D^D0 dD' / sqrt(2 (V(D0) - V(D'))).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()  # probabilists' Hermite: weights of N(0, 1)


def log_cosh(y):
    a = np.abs(y)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def potential(D: float, D0: float, g: float) -> float:
    """V(D; D0) for phi = tanh (2-d Gauss-Hermite quadrature)."""
    a = math.sqrt(max(D0 - D, 0.0))
    b = math.sqrt(max(D, 0.0))
    inner = log_cosh(a * _NODES[None, :] + b * _NODES[:, None]) @ _WEIGHTS  # over x
    return -0.5 * D * D + g * g * float(_WEIGHTS @ inner ** 2)


def _balance(D0: float, g: float) -> float:
    """(V(D0) - V(0)) / D0^2: zero at the chaotic D0."""
    P = log_cosh(math.sqrt(D0) * _NODES)
    var = float(_WEIGHTS @ P ** 2 - (_WEIGHTS @ P) ** 2)
    return (g * g * var - 0.5 * D0 * D0) / (D0 * D0)


@dataclass(frozen=True)
class SCSSolution:
    g: float
    D0: float  # Delta(0), 0 when there is no chaos

    def time_of(self, D: float) -> float:
        """The time t >= 0 at which Delta(t) = D (0 < D <= D0)."""
        if not 0 < D <= self.D0:
            raise ValueError(f"D: {D} outside (0, D0 = {self.D0}]")
        V0 = potential(self.D0, self.D0, self.g)

        # D' = D0 - w^2 removes the 1/sqrt singularity at the turning point D0
        def integrand(w):
            gap = V0 - potential(self.D0 - w * w, self.D0, self.g)
            return 2.0 * w / math.sqrt(2.0 * gap) if gap > 0 else 0.0

        val, _ = quad(integrand, 0.0, math.sqrt(self.D0 - D), limit=200, epsabs=1e-10)
        return val

    def curve(self, fractions=(0.9, 0.75, 0.5, 0.25, 0.1)) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) where Delta falls to the given fractions of D0."""
        vals = self.D0 * np.asarray(fractions, dtype=float)
        return np.array([self.time_of(v) for v in vals]), vals


def solve_scs(g: float) -> SCSSolution:
    """The chaotic SCS solution for gain g (D0 = 0 for g <= 1)."""
    if not (isinstance(g, (int, float)) and g > 0):
        raise ValueError(f"g: invalid value {g!r}; allowed: a number > 0")
    lo, hi = 1e-4, 1e3
    if g <= 1.0 or _balance(lo, g) <= 0:
        return SCSSolution(g=float(g), D0=0.0)
    D0 = brentq(_balance, lo, hi, args=(g,), xtol=1e-13, rtol=1e-13)
    return SCSSolution(g=float(g), D0=float(D0))
