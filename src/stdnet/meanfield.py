"""Homogeneous fixed point of the network (shared MODEL.md section 2).

With fixed in-degrees every neuron of a population sees the same input, so the
homogeneous state solves three equations in (h_E, h_I, x) with G = sqrt(K) J0:

    h_E = I0 + G (g_EE x nu_E - gamma g_EI nu_I),  nu_E = phi(h_E)
    h_I = I0 + G (g_IE nu_E  - gamma g_II nu_I),   nu_I = phi(h_I)
    x   = 1 / (1 + u tau_D nu_E)

For large G the brackets are O(1/G); we solve the scaled residual
(h - I0)/G - bracket = 0, which stays well conditioned as K grows, and follow
the branch by continuation in G from G = 0 (where h = I0 exactly).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import root

from .params import ModelParams
from .transfer import dphi, phi, phi_inverse


@dataclass(frozen=True)
class FixedPoint:
    h_E: float
    h_I: float
    nu_E: float
    nu_I: float
    x: float
    residual: float

    def to_dict(self) -> dict:
        return asdict(self)

    def state(self, params: ModelParams) -> np.ndarray:
        """The homogeneous state as a network state vector y = (h, x)."""
        y = np.empty(params.dim)
        y[: params.N_E] = self.h_E
        y[params.N_E: params.N] = self.h_I
        y[params.N:] = self.x
        return y


def balanced_limit(params: ModelParams) -> FixedPoint:
    """The K -> infinity limit: both brackets vanish. Independent of J0 and I0.

    nu_I = g_IE nu_E / (gamma g_II), x = g_EI g_IE / (g_EE g_II),
    nu_E = (1/x - 1) / (u tau_D). Needs g_EE g_II > g_EI g_IE and u > 0.
    """
    p = params
    if not p.g_EE * p.g_II > p.g_EI * p.g_IE:
        raise ValueError(
            "balanced limit needs g_EE*g_II > g_EI*g_IE (got "
            f"{p.g_EE * p.g_II} <= {p.g_EI * p.g_IE})")
    if p.u <= 0:
        raise ValueError("balanced limit with depression needs u > 0")
    x = p.g_EI * p.g_IE / (p.g_EE * p.g_II)
    nu_E = (1.0 / x - 1.0) / (p.u * p.tau_D)
    nu_I = p.g_IE * nu_E / (p.gamma * p.g_II)
    h_E = _inverse_or_nan(p.transfer, nu_E)
    h_I = _inverse_or_nan(p.transfer, nu_I)
    return FixedPoint(h_E=h_E, h_I=h_I, nu_E=nu_E, nu_I=nu_I, x=x, residual=0.0)


def _inverse_or_nan(name, nu):
    try:
        return phi_inverse(name, nu)
    except ValueError:
        return math.nan


def _scaled_residual(v, p: ModelParams, G: float):
    h_E, h_I = v
    nu_E = phi(p.transfer, h_E)
    nu_I = phi(p.transfer, h_I)
    x = 1.0 / (1.0 + p.u * p.tau_D * nu_E)
    gam = p.gamma
    rE = p.g_EE * x * nu_E - gam * p.g_EI * nu_I
    rI = p.g_IE * nu_E - gam * p.g_II * nu_I
    if G == 0.0:
        return np.array([h_E - p.I0, h_I - p.I0])
    return np.array([(h_E - p.I0) / G - rE, (h_I - p.I0) / G - rI])


def _unscaled_residual(h_E, h_I, p, G):
    nu_E = phi(p.transfer, h_E)
    nu_I = phi(p.transfer, h_I)
    x = 1.0 / (1.0 + p.u * p.tau_D * nu_E)
    rE = h_E - p.I0 - G * (p.g_EE * x * nu_E - p.gamma * p.g_EI * nu_I)
    rI = h_I - p.I0 - G * (p.g_IE * nu_E - p.gamma * p.g_II * nu_I)
    return max(abs(rE), abs(rI))


def homogeneous_fixed_point(params: ModelParams, tol: float = 1e-13,
                            continuation_steps: int = 60) -> FixedPoint:
    """The finite-K homogeneous fixed point, followed from G = 0 by continuation.

    Raises RuntimeError when the solver does not converge (never returns an
    unconverged point silently).
    """
    p = params
    G_target = p.G
    guess = np.array([p.I0, p.I0])
    if G_target > 0:
        # geometric continuation: the solution changes fastest at small G
        Gs = np.concatenate([[0.0], np.geomspace(min(1e-2, G_target), G_target,
                                                continuation_steps)])
        for G in Gs:
            sol = root(_scaled_residual, guess, args=(p, G), method="hybr",
                       options={"xtol": 1e-14})
            if not sol.success and G == G_target:
                break
            guess = sol.x
    sol = root(_scaled_residual, guess, args=(p, G_target), method="hybr",
               options={"xtol": 1e-15})
    h_E, h_I = sol.x
    res = _unscaled_residual(h_E, h_I, p, G_target)
    scale = 1.0 + abs(h_E) + abs(h_I)
    if not (np.all(np.isfinite(sol.x)) and res <= max(tol, 1e-10) * scale):
        raise RuntimeError(
            f"homogeneous fixed point did not converge for N={p.N}, J0={p.J0}, I0={p.I0}: "
            f"residual {res:.3g} ({sol.message})")
    nu_E = phi(p.transfer, h_E)
    nu_I = phi(p.transfer, h_I)
    x = 1.0 / (1.0 + p.u * p.tau_D * nu_E)
    return FixedPoint(h_E=float(h_E), h_I=float(h_I), nu_E=float(nu_E), nu_I=float(nu_I),
                      x=float(x), residual=float(res))


def population_vector_field(params: ModelParams, v) -> np.ndarray:
    """d/dt of (h_E, h_I, x) for the homogeneous (population) dynamics."""
    p = params
    h_E, h_I, x = v
    nu_E = phi(p.transfer, h_E)
    nu_I = phi(p.transfer, h_I)
    G, gam = p.G, p.gamma
    return np.array([
        (-h_E + p.I0 + G * (p.g_EE * x * nu_E - gam * p.g_EI * nu_I)) / p.tau_E,
        (-h_I + p.I0 + G * (p.g_IE * nu_E - gam * p.g_II * nu_I)) / p.tau_I,
        (1.0 - x) / p.tau_D - p.u * x * nu_E,
    ])
