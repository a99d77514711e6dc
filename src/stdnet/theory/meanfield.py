"""Homogeneous fixed point of the network (docs/model.md, section 2).

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

from stdnet.files.errors import FixedPointError
from stdnet.model.params import ModelParams
from stdnet.model.transfer import phi, phi_inverse


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
    problem = balanced_limit_problem(p)
    if problem:
        raise ValueError(problem)
    x = p.g_EI * p.g_IE / (p.g_EE * p.g_II)
    nu_E = (1.0 / x - 1.0) / (p.u * p.tau_D)
    nu_I = p.g_IE * nu_E / (p.gamma * p.g_II)
    h_E = _inverse_or_nan(p.transfer, nu_E)
    h_I = _inverse_or_nan(p.transfer, nu_I)
    return FixedPoint(h_E=h_E, h_I=h_I, nu_E=nu_E, nu_I=nu_I, x=x, residual=0.0)


def balanced_limit_problem(params: ModelParams) -> str | None:
    """Why the model has no balanced limit ('<key>: invalid value ...; allowed: ...'),
    or None: the one check of balanced_limit, which the config check runs too."""
    p = params
    if not p.g_EE * p.g_II > p.g_EI * p.g_IE:
        return (f"g_EE: invalid value {p.g_EE!r}; allowed: g_EE*g_II > g_EI*g_IE (the balanced "
                f"limit; got {p.g_EE * p.g_II:g} <= {p.g_EI * p.g_IE:g})")
    if p.u <= 0:
        return (f"u: invalid value {p.u!r}; allowed: a number > 0 (the balanced limit with "
                "depression)")
    return None


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
                            continuation_steps: int = 60,
                            guess: FixedPoint | None = None) -> FixedPoint:
    """The finite-K homogeneous fixed point, followed from G = 0 by continuation.

    With `guess` (a nearby solution, e.g. the previous point of a sweep) the
    solver starts there and falls back to continuation only if that fails.
    Raises RuntimeError when the solver does not converge (never returns an
    unconverged point silently).
    """
    p = params
    if guess is not None:
        try:
            return _solve_from(p, np.array([guess.h_E, guess.h_I]), tol)
        except RuntimeError:
            pass
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
    return _solve_from(p, guess, tol)


def _solve_from(p: ModelParams, guess, tol: float) -> FixedPoint:
    G_target = p.G
    sol = root(_scaled_residual, guess, args=(p, G_target), method="hybr",
               options={"xtol": 1e-15})
    h_E, h_I = sol.x
    res = _unscaled_residual(h_E, h_I, p, G_target)
    scale = 1.0 + abs(h_E) + abs(h_I)
    if not (np.all(np.isfinite(sol.x)) and res <= max(tol, 1e-10) * scale):
        raise FixedPointError(
            f"homogeneous fixed point did not converge for N={p.N}, J0={p.J0}, I0={p.I0}: "
            f"residual {res:.3g} ({sol.message}); check J0, I0 and the transfer function "
            "(`stdnet fixed-point` solves it alone)")
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


# ---- heterogeneous fixed point: self-consistent Gaussian theory (docs/model.md) -------


@dataclass(frozen=True)
class HetFixedPoint:
    """Stationary heterogeneous state: inputs h_i = mu_a + sigma_a z_i, z ~ N(0, 1)."""

    mu_E: float
    mu_I: float
    sigma_E: float
    sigma_I: float
    nu_E: float  # population means of the rates
    nu_I: float
    x: float  # mean efficacy of the E neurons
    xnu_E: float  # mean depressed output <x nu> of the E neurons
    residual: float

    def to_dict(self) -> dict:
        return asdict(self)


#: Gauss-Hermite nodes of the theory's Gaussian averages (default)
GAUSS_NODES = 80


def _gauss_nodes(n: int):
    """Probabilists' Gauss-Hermite nodes and weights normalised to a N(0, 1) average."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def het_moments(params: ModelParams, mu_E, sigma_E, mu_I, sigma_I,
                n_nodes: int = GAUSS_NODES) -> dict:
    """Gaussian averages <nu>, Var(nu), <x nu>, Var(x nu), <x> with x = 1/(1 + u tau_D nu)."""
    p = params
    z, w = _gauss_nodes(n_nodes)
    nuE = phi(p.transfer, mu_E + sigma_E * z)
    nuI = phi(p.transfer, mu_I + sigma_I * z)
    x = 1.0 / (1.0 + p.u * p.tau_D * nuE)
    xnu = x * nuE
    m = {"nu_E": w @ nuE, "nu_I": w @ nuI, "xnu_E": w @ xnu, "x": w @ x}
    m["var_nu_E"] = w @ (nuE - m["nu_E"]) ** 2
    m["var_nu_I"] = w @ (nuI - m["nu_I"]) ** 2
    m["var_xnu_E"] = w @ (xnu - m["xnu_E"]) ** 2
    return m


def sampling_variances(p: ModelParams) -> tuple[float, float]:
    """Row variance factors of a fixed-in-degree sum, (E, I): Jc^2 K (N_pop - K)/(N_pop - 1)
    (the row variance sum of a block whose rows hold K equal weights Jc among N_pop entries;
    also the bulk theory's variance profile, stdnet.theory.bulk)."""
    Jc2 = p.coupling ** 2
    return (Jc2 * p.K_E * (p.N_E - p.K_E) / (p.N_E - 1),
            Jc2 * p.K_I * (p.N_I - p.K_I) / (p.N_I - 1))


def _het_residual(v, p: ModelParams, n_nodes: int):
    mu_E, mu_I, ls_E, ls_I = v
    s_E, s_I = math.exp(ls_E), math.exp(ls_I)
    m = het_moments(p, mu_E, s_E, mu_I, s_I, n_nodes)
    vE, vI = sampling_variances(p)
    G, gam = p.G, p.gamma
    var_E = vE * p.g_EE ** 2 * m["var_xnu_E"] + vI * p.g_EI ** 2 * m["var_nu_I"]
    var_I = vE * p.g_IE ** 2 * m["var_nu_E"] + vI * p.g_II ** 2 * m["var_nu_I"]
    tiny = 1e-300
    return np.array([
        (mu_E - p.I0) / G - (p.g_EE * m["xnu_E"] - gam * p.g_EI * m["nu_I"]),
        (mu_I - p.I0) / G - (p.g_IE * m["nu_E"] - gam * p.g_II * m["nu_I"]),
        2.0 * ls_E - math.log(max(var_E, tiny)),
        2.0 * ls_I - math.log(max(var_I, tiny)),
    ])


def heterogeneous_fixed_point(params: ModelParams, guess: HetFixedPoint | None = None,
                              n_nodes: int = GAUSS_NODES, tol: float = 1e-10,
                              sigma_min: float = 1e-4) -> HetFixedPoint:
    """Solve the self-consistent Gaussian theory of a stationary heterogeneous state.

    Means (balance, scaled by G as for the homogeneous point):
        mu_a = I0 + G [g_aE <s^a>_E - gamma g_aI <nu>_I],  s^E = x nu, s^I = nu
    Variances (quenched sampling of K_b of N_b inputs, fixed in-degree):
        sigma_a^2 = sum_b Jc^2 K_b (N_b - K_b)/(N_b - 1) g_ab^2 Var_b(s^a)
    The sigma's are solved in log form, so the trivial (homogeneous) solution
    sigma = 0 is not reachable; raises RuntimeError if no nontrivial solution
    (sigma > sigma_min) is found.
    """
    p = params
    if p.J0 <= 0:
        raise ValueError("J0: the heterogeneous fixed point needs J0 > 0")
    if guess is None:
        fp = homogeneous_fixed_point(p)
        starts = [(fp.h_E, fp.h_I, s, s) for s in (1.0, 0.5, 2.0, 0.2)]
    else:
        starts = [(guess.mu_E, guess.mu_I, guess.sigma_E, guess.sigma_I)]
    last = None
    for mu_E, mu_I, s_E, s_I in starts:
        v0 = np.array([mu_E, mu_I, math.log(s_E), math.log(s_I)])
        sol = root(_het_residual, v0, args=(p, n_nodes), method="hybr",
                   options={"xtol": 1e-13})
        res = float(np.max(np.abs(_het_residual(sol.x, p, n_nodes))))
        last = (sol, res)
        s_E, s_I = np.exp(sol.x[2:])
        if np.all(np.isfinite(sol.x)) and res < tol and min(s_E, s_I) > sigma_min:
            m = het_moments(p, sol.x[0], s_E, sol.x[1], s_I, n_nodes)
            return HetFixedPoint(mu_E=float(sol.x[0]), mu_I=float(sol.x[1]),
                                 sigma_E=float(s_E), sigma_I=float(s_I),
                                 nu_E=float(m["nu_E"]), nu_I=float(m["nu_I"]),
                                 x=float(m["x"]), xnu_E=float(m["xnu_E"]), residual=res)
    raise FixedPointError(
        f"heterogeneous fixed point: no nontrivial solution for N={p.N}, J0={p.J0} "
        f"(last residual {last[1]:.3g}, sigma = {np.exp(last[0].x[2:])}); below the "
        "bifurcation only the homogeneous state (sigma = 0) exists")


def heterogeneous_branch(params: ModelParams, J0_values, n_nodes: int = GAUSS_NODES
                         ) -> list:
    """The theory's branch over J0 values, followed by continuation from the largest J0
    down; entries are None where no nontrivial solution exists (J0 = 0 among them: without
    coupling every neuron sits at the homogeneous state)."""
    out: dict = {}
    guess = None
    for J0 in sorted(J0_values, reverse=True):
        if J0 <= 0:
            out[float(J0)] = None
            continue
        try:
            hp = heterogeneous_fixed_point(params.replace(J0=float(J0)), guess, n_nodes)
            guess = hp
        except RuntimeError:
            hp = None
        out[float(J0)] = hp
    return [out[float(J)] for J in J0_values]


def fixed_point_branch(params: ModelParams, values, key: str = "J0") -> list[FixedPoint]:
    """Homogeneous fixed points along a sweep of one parameter (`key`: J0 or I0, values in
    sweep order), by continuation: each point starts from the previous one (one root call
    instead of a full continuation from G = 0; homogeneous_fixed_point(guess=...)), falling
    back to the full continuation where that fails."""
    out = []
    guess = None
    for v in values:
        p = params.replace(**{key: float(v)})
        guess = homogeneous_fixed_point(p, guess=guess if p.G > 0 else None)
        out.append(guess)
    return out
