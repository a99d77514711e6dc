"""Stationary theory of a network with quenched heterogeneity: in-degrees that differ
between neurons (stdnet.model.ensembles) and per-neuron STD constants (docs/heterogeneity.md).

Neuron i of population a, with K_iE excitatory and K_iI inhibitory inputs, has in a
stationary state the input

    h_i = I0 + Jc [ g_aE sum_{j in pre_E(i)} s^a_j - g_aI sum_{j in pre_I(i)} nu_j ],
    Jc = J0/sqrt(K),  s^E_j = x_j nu_j,  s^I_j = nu_j,  x_j = 1/(1 + r_j nu_j),  r_j = u_j tau_D,j.

Given its in-degrees, its inputs are a uniform sample of its pools, so over the sample

    m_a(K_i) = I0 + Jc [ g_aE K_iE <s^a>_E - g_aI K_iI <nu>_I ]
    v_a(K_i) = Jc^2 [ g_aE^2 K_iE (N_E - K_iE)/(N_E - 1) Var_E(s^a)
                      + g_aI^2 K_iI (N_I - K_iI)/(N_I - 1) Var_I(nu) ]

and the theory takes h_i given K_i Gaussian, N(m_a(K_i), v_a(K_i)) (a sum of many inputs).
Population a is the mixture of these Gaussians over its in-degree distribution; its rate
moments, with x averaged over the distribution of r (independent of h: r_j belongs to the
sending side of neuron j), are the six numbers <x nu>_E, <nu>_E, <nu>_I, Var_E(x nu),
Var_E(nu), Var_I(nu) that m and v were built from: the self-consistency this module solves.

With fixed in-degree and one r it is the theory of theory.meanfield (the homogeneous point,
and its heterogeneous fixed point beyond the instability). The spread of the mean inputs,
Var_K m_a(K), is what in-degree heterogeneity adds: with K_ib = K_b (1 + delta_ib),

    m_a(K_i) - m_a(K) = G [ g_aE <s^a> delta_iE - gamma g_aI <nu_I> delta_iI ],  G = sqrt(K) J0,

which at balance (g_aE <s^a> = gamma g_aI <nu_I>) is G A_a (delta_iE - delta_iI): its
variance G^2 A_a^2 CV^2 2(1 - rho) grows like K unless the in-degree CV falls like
1/sqrt(K) (Erdos-Renyi) or the E and I in-degrees are perfectly correlated.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special
from scipy.optimize import root

from stdnet.files.errors import FixedPointError
from stdnet.model.ensembles import copula_r, gamma_of_normal, pools
from stdnet.model.params import ModelParams
from stdnet.model.transfer import phi, phi_inverse
from stdnet.theory.meanfield import homogeneous_fixed_point

#: Gauss-Hermite nodes of the input noise, of the in-degree copula (per axis) and of ln r
NOISE_NODES = 48
DEGREE_NODES = 24
EFFICACY_NODES = 16
#: binomial in-degrees with more support points than this are taken on Gauss-Hermite nodes
#: of the normal with their mean and variance (skewness (1 - 2c)/sqrt(K c (1-c)) < 0.03)
BINOMIAL_EXACT_MAX = 64
#: J0 steps of the continuation when the direct solve fails
CONTINUATION_STEPS = 24


@dataclass(frozen=True)
class Degrees:
    """A discrete in-degree distribution of one target population."""

    K_E: np.ndarray
    K_I: np.ndarray
    w: np.ndarray  # weights, summing to 1


def _normal_nodes(n: int):
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def _binomial_nodes(pool: int, c: float, nodes: int = DEGREE_NODES,
                    exact_max: int = BINOMIAL_EXACT_MAX):
    mean, var = pool * c, pool * c * (1 - c)
    if 12 * math.sqrt(var) + 1 <= exact_max:
        k = np.arange(pool + 1)
        pmf = np.exp(special.gammaln(pool + 1) - special.gammaln(k + 1)
                     - special.gammaln(pool - k + 1) + k * math.log(c)
                     + (pool - k) * math.log1p(-c)) if c < 1 else (k == pool).astype(float)
        keep = pmf > 1e-14
        return k[keep].astype(float), pmf[keep] / pmf[keep].sum()
    z, w = _normal_nodes(nodes)
    return mean + math.sqrt(var) * z, w


def ensemble_degrees(params: ModelParams, target: str, nodes: int = DEGREE_NODES,
                     exact_max: int = BINOMIAL_EXACT_MAX) -> Degrees:
    """The in-degree distribution of the model's ensemble for targets in population
    `target` ("E" or "I"), on quadrature nodes (module constants; fewer `nodes` per axis
    and binomials exact only up to `exact_max` support points for a coarser, faster one)."""
    p = params
    i = 0 if target == "E" else p.N - 1  # a neuron of that population
    pool_E, pool_I = (int(a[i]) for a in pools(p.N, p.N_E))
    if p.connectivity == "fixed_indegree":
        one = np.ones(1)
        return Degrees(p.K_E * one, p.K_I * one, one)
    if p.connectivity == "erdos_renyi":
        kE, wE = _binomial_nodes(pool_E, p.c, nodes, exact_max)
        kI, wI = _binomial_nodes(pool_I, p.c, nodes, exact_max)
        return Degrees(np.repeat(kE, kI.size), np.tile(kI, kE.size), np.outer(wE, wI).ravel())
    cv = p.indegree_cv
    if cv == 0:
        one = np.ones(1)
        return Degrees(p.K_E * one, p.K_I * one, one)
    z, w = _normal_nodes(nodes)
    r = copula_r(cv, p.indegree_rho)
    z1 = np.repeat(z, z.size)
    z2 = r * z1 + math.sqrt(max(0.0, 1 - r * r)) * np.tile(z, z.size)
    return Degrees(np.minimum(p.K_E * gamma_of_normal(z1, cv), pool_E),
                   np.minimum(p.K_I * gamma_of_normal(z2, cv), pool_I), np.outer(w, w).ravel())


def realization_degrees(net, target: str) -> Degrees:
    """The in-degrees of one network's neurons of population `target`, as a distribution
    (each distinct (K_iE, K_iI) pair weighted by how many neurons have it)."""
    rows = slice(0, net.N_E) if target == "E" else slice(net.N_E, net.N)
    pairs = np.stack([net.in_degree_E[rows], net.in_degree_I[rows]], axis=1)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    return Degrees(uniq[:, 0].astype(float), uniq[:, 1].astype(float), counts / counts.sum())


def efficacy_nodes(params: ModelParams):
    """Nodes and weights of r = u tau_D over the E neurons: u_j and tau_D,j independent
    lognormals with means u and tau_D, so ln r is normal with variance
    ln(1 + u_cv^2) + ln(1 + tau_D_cv^2) and E[r] = u tau_D."""
    p = params
    s2 = math.log1p(p.u_cv ** 2) + math.log1p(p.tau_D_cv ** 2)
    if s2 == 0:
        return np.array([p.u * p.tau_D]), np.ones(1)
    z, w = _normal_nodes(EFFICACY_NODES)
    return p.u * p.tau_D * np.exp(math.sqrt(s2) * z - 0.5 * s2), w


def realization_efficacies(params: ModelParams, net, n_bins: int = 64):
    """r_j = u_j tau_D,j of one network's E neurons as at most n_bins equal-weight nodes (the
    means of the sorted values' bins: the sample mean is kept exactly)."""
    u, tau = net.u_of(params), net.tau_D_of(params)
    if np.ndim(u) == 0 and np.ndim(tau) == 0:
        return np.array([u * tau]), np.ones(1)
    r = np.sort(np.broadcast_to(u, (net.N_E,)) * np.broadcast_to(tau, (net.N_E,)))
    bins = np.array_split(r, min(n_bins, r.size))
    w = np.array([b.size for b in bins], dtype=float)
    return np.array([b.mean() for b in bins]), w / w.sum()


def realization(params: ModelParams, net) -> dict:
    """The QuenchedTheory arguments that describe one network: its own in-degrees and STD
    constants instead of the ensemble's (QuenchedTheory(params, **realization(params, net)))."""
    return {"degrees": {a: realization_degrees(net, a) for a in ("E", "I")},
            "efficacies": realization_efficacies(params, net)}


@dataclass(frozen=True)
class QuenchedState:
    """The self-consistent stationary state: population rate moments and input statistics."""

    J0: float
    nu_E: float  # <nu>_E
    nu_I: float
    x_E: float  # <x>_E, the mean efficacy of the E neurons
    xnu_E: float  # <x nu>_E
    var_nu_E: float  # variance over neurons
    var_nu_I: float
    var_xnu_E: float
    mean_h_E: float  # mean input over the neurons of E
    mean_h_I: float
    var_h_E: float  # quenched input variance over neurons: degree part + sampling part
    var_h_I: float
    var_h_degree_E: float  # Var_K m_E(K): the part in-degree heterogeneity contributes
    var_h_degree_I: float
    residual: float

    def to_dict(self) -> dict:
        return asdict(self)


class QuenchedTheory:
    """The theory of one model (N, J0 and the ensemble) with given in-degree distributions
    and nodes of r = u tau_D (default: the ensemble's; `realization` for one network's)."""

    def __init__(self, params: ModelParams, degrees: dict | None = None,
                 efficacies: tuple | None = None, noise_nodes: int = NOISE_NODES):
        self.p = params
        self.deg = degrees or {a: ensemble_degrees(params, a) for a in ("E", "I")}
        self.z, self.wz = _normal_nodes(noise_nodes)
        self.r, self.wr = efficacies if efficacies is not None else efficacy_nodes(params)

    # ---- the map from the six presynaptic moments to the input mixtures ------------------
    def inputs(self, target: str, M) -> tuple[np.ndarray, np.ndarray]:
        """(m_a(K), v_a(K)) on the degree nodes of population `target`, for the moments
        M = (<x nu>_E, <nu>_E, <nu>_I, Var_E(x nu), Var_E(nu), Var_I(nu))."""
        p, d = self.p, self.deg[target]
        xnu, nuE, nuI, vxnu, vnuE, vnuI = M
        Jc = p.coupling
        gE, gI = (p.g_EE, p.g_EI) if target == "E" else (p.g_IE, p.g_II)
        sE, vsE = (xnu, vxnu) if target == "E" else (nuE, vnuE)
        m = p.I0 + Jc * (gE * d.K_E * sE - gI * d.K_I * nuI)
        v = Jc ** 2 * (gE ** 2 * d.K_E * (p.N_E - d.K_E) / (p.N_E - 1) * abs(vsE)
                       + gI ** 2 * d.K_I * (p.N_I - d.K_I) / (p.N_I - 1) * abs(vnuI))
        return m, np.maximum(v, 0.0)

    def _population(self, target: str, M):
        m, v = self.inputs(target, M)
        h = m[:, None] + np.sqrt(v)[:, None] * self.z[None, :]
        W = self.deg[target].w[:, None] * self.wz[None, :]
        return h, W, m, v

    def moments(self, M) -> np.ndarray:
        """The six moments the input mixtures produce (the self-consistent map)."""
        p = self.p
        hE, WE, _, _ = self._population("E", M)
        hI, WI, _, _ = self._population("I", M)
        nuE, nuI = phi(p.transfer, hE), phi(p.transfer, hI)
        x = 1.0 / (1.0 + self.r[None, None, :] * nuE[..., None])
        W3 = WE[..., None] * self.wr[None, None, :]
        xnu = x * nuE[..., None]
        m_xnu, m_nuE, m_nuI = np.sum(W3 * xnu), np.sum(WE * nuE), np.sum(WI * nuI)
        return np.array([m_xnu, m_nuE, m_nuI, np.sum(W3 * xnu ** 2) - m_xnu ** 2,
                         np.sum(WE * nuE ** 2) - m_nuE ** 2, np.sum(WI * nuI ** 2) - m_nuI ** 2])

    def residual(self, M) -> np.ndarray:
        return self.moments(M) - np.asarray(M)

    # ---- solving ------------------------------------------------------------------------
    def _root(self, M0, tol: float):
        sol = root(self.residual, np.asarray(M0, dtype=float), method="hybr",
                   options={"xtol": 1e-14})
        res = float(np.max(np.abs(self.residual(sol.x))))
        ok = np.all(np.isfinite(sol.x)) and res < tol and min(sol.x[:3]) > 0
        return (sol.x if ok else None), res

    def solve(self, guess=None, tol: float = 1e-9) -> QuenchedState:
        """The stationary state. From `guess` (six moments), else from the homogeneous
        fixed point; where that fails, by continuation in J0 from a weak coupling."""
        p = self.p
        if guess is None:
            fp = homogeneous_fixed_point(p)
            guess = (fp.x * fp.nu_E, fp.nu_E, fp.nu_I, 0.0, 0.0, 0.0)
        M, res = self._root(guess, tol)
        if M is None and p.J0 > 0:
            M = self._continue(tol)
            res = float(np.max(np.abs(self.residual(M)))) if M is not None else res
        if M is None:
            raise FixedPointError(
                f"quenched theory: no stationary solution found for N={p.N}, J0={p.J0}, "
                f"connectivity={p.connectivity} (last residual {res:.3g})")
        return self.state(M, res)

    def _continue(self, tol: float):
        """Follow the solution from J0/CONTINUATION_STEPS up to J0."""
        M = None
        for J0 in self.p.J0 * np.arange(1, CONTINUATION_STEPS + 1) / CONTINUATION_STEPS:
            step = QuenchedTheory(self.p.replace(J0=float(J0)), self.deg, (self.r, self.wr),
                                  self.z.size)
            if M is None:
                fp = homogeneous_fixed_point(step.p)
                M = (fp.x * fp.nu_E, fp.nu_E, fp.nu_I, 0.0, 0.0, 0.0)
            M, _ = step._root(M, tol)
            if M is None:
                return None
        return M

    def state(self, M, residual: float) -> QuenchedState:
        p = self.p
        hE, WE, mE, vE = self._population("E", M)
        _, _, mI, vI = self._population("I", M)
        nuE = phi(p.transfer, hE)
        x = 1.0 / (1.0 + self.r[None, None, :] * nuE[..., None])
        x_E = float(np.sum(WE[..., None] * self.wr[None, None, :] * x))
        out = {}
        for a, m, v in (("E", mE, vE), ("I", mI, vI)):
            w = self.deg[a].w
            mean = float(w @ m)
            out[f"mean_h_{a}"] = mean
            out[f"var_h_degree_{a}"] = float(w @ (m - mean) ** 2)
            out[f"var_h_{a}"] = out[f"var_h_degree_{a}"] + float(w @ v)
        return QuenchedState(J0=p.J0, nu_E=float(M[1]), nu_I=float(M[2]), x_E=x_E,
                             xnu_E=float(M[0]), var_nu_E=float(M[4]), var_nu_I=float(M[5]),
                             var_xnu_E=float(M[3]), residual=residual, **out)

    # ---- what the state predicts across neurons ----------------------------------------
    def fraction_below(self, state_moments, target: str, rate: float) -> float:
        """Fraction of the neurons of `target` whose rate is below `rate` (near-silent)."""
        m, v = self.inputs(target, state_moments)
        h = phi_inverse(self.p.transfer, rate)
        sd = np.sqrt(v)
        cdf = np.where(sd > 0, special.ndtr((h - m) / np.where(sd > 0, sd, 1.0)),
                       (m < h).astype(float))
        return float(self.deg[target].w @ cdf)

    def rate_quantiles(self, state_moments, target: str, probs) -> np.ndarray:
        """Rates below which the given fractions of the neurons of `target` lie."""
        m, v = self.inputs(target, state_moments)
        w, sd = self.deg[target].w, np.sqrt(v)
        lo, hi = float(np.min(m - 12 * sd)), float(np.max(m + 12 * sd))
        grid = np.linspace(lo, hi, 4001)
        cdf = (w[:, None] * special.ndtr((grid[None, :] - m[:, None])
                                         / np.maximum(sd, 1e-300)[:, None])).sum(axis=0)
        h = np.interp(np.asarray(probs, dtype=float), cdf, grid)
        return phi(self.p.transfer, h)


def moments_of(state: QuenchedState) -> np.ndarray:
    """The six self-consistent moments of a state (the solver's unknowns)."""
    return np.array([state.xnu_E, state.nu_E, state.nu_I, state.var_xnu_E, state.var_nu_E,
                     state.var_nu_I])
