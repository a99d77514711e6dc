"""Network ensembles beyond fixed in-degree: how many inputs each neuron gets, and the
STD parameters of each E neuron (docs/heterogeneity.md).

- fixed_indegree (the paper's): every neuron exactly K_E excitatory and K_I inhibitory
  inputs.
- erdos_renyi: every ordered pair (j -> i, j != i) connected independently with
  probability c, so neuron i's in-degree from population b is Binomial(pool, c), pool the
  neurons of b other than i. Its CV falls like 1/sqrt(K).
- indegree_cv: K_ib = round(K_b g_ib), with g_ib gamma-distributed of mean 1 and CV
  `indegree_cv`, the E and I factors of one neuron coupled by a Gaussian copula whose
  parameter r is chosen so that their Pearson correlation is `indegree_rho`
  (`copula_r`). The CV does not fall with K: the case in which balance can break.
  Gamma marginals are skewed, so not every correlation is reachable: `rho_range`.

Given the in-degrees, each neuron's inputs are a uniform subset of its pool (network.py).

Per-presynaptic STD: u_j and tau_D,j of E neuron j lognormal with the model's u and tau_D
as means and CVs `u_cv`, `tau_D_cv`, drawn independently of each other and of the wiring.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, special, stats

#: Gauss-Hermite nodes per dimension of the copula integrals (the correlation is smooth in r)
COPULA_NODES = 64
#: a config whose expected number of neurons with an in-degree above its pool is at least this
#: is refused: such draws are capped at the pool, which would change the distribution
OVERFLOW_EXPECTED_MAX = 0.01


def gamma_of_normal(z: np.ndarray, cv: float) -> np.ndarray:
    """The gamma(mean 1, CV cv) quantile at the standard-normal probability of z, accurate in
    both tails (the upper tail through the survival functions)."""
    shape, scale = 1.0 / cv ** 2, cv ** 2
    lower = stats.gamma.ppf(special.ndtr(np.minimum(z, 0.0)), shape, scale=scale)
    upper = stats.gamma.isf(special.ndtr(-np.maximum(z, 0.0)), shape, scale=scale)
    return np.where(z <= 0, lower, upper)


def copula_pearson(r: float, cv: float) -> float:
    """Pearson correlation of two gamma(mean 1, CV cv) factors whose normal scores have
    correlation r (2-D Gauss-Hermite quadrature, COPULA_NODES per axis)."""
    if cv == 0:
        return 0.0
    x, w = np.polynomial.hermite_e.hermegauss(COPULA_NODES)
    w = w / w.sum()
    z1 = x[:, None]
    z2 = r * x[:, None] + math.sqrt(max(0.0, 1.0 - r * r)) * x[None, :]
    g1 = gamma_of_normal(np.broadcast_to(z1, z2.shape), cv)
    g2 = gamma_of_normal(z2, cv)
    second = float(np.sum(w[:, None] * w[None, :] * g1 * g2))
    return (second - 1.0) / cv ** 2


@functools.lru_cache(maxsize=64)
def rho_range(cv: float) -> tuple[float, float]:
    """The reachable correlations of two gamma(mean 1, CV cv) in-degree factors: from the
    countermonotone pair (r = -1; above -1 since gamma is skewed) to 1."""
    if cv == 0:
        return (-1.0, 1.0)
    return (copula_pearson(-1.0, cv), 1.0)


@functools.lru_cache(maxsize=256)
def copula_r(cv: float, rho: float) -> float:
    """The normal-score correlation r that gives Pearson correlation rho (within rho_range)."""
    if cv == 0 or rho == 0:
        return 0.0
    lo, hi = rho_range(cv)
    if rho >= hi:
        return 1.0
    if rho <= lo:
        return -1.0
    return optimize.brentq(lambda r: copula_pearson(r, cv) - rho, -1.0, 1.0, xtol=1e-13)


def degree_factors(n: int, cv: float, rho: float, gen: np.random.Generator):
    """(g_E, g_I): n pairs of gamma(mean 1, CV cv) factors with correlation rho."""
    z = gen.standard_normal((2, n))
    if cv == 0:
        return np.ones(n), np.ones(n)
    r = copula_r(cv, rho)
    z_I = r * z[0] + math.sqrt(max(0.0, 1.0 - r * r)) * z[1]
    return gamma_of_normal(z[0], cv), gamma_of_normal(z_I, cv)


def pools(N: int, N_E: int) -> tuple[np.ndarray, np.ndarray]:
    """How many E and how many I neurons neuron i can receive from (all but itself)."""
    is_E = np.arange(N) < N_E
    return (np.where(is_E, N_E - 1, N_E), np.where(is_E, N - N_E, N - N_E - 1))


def in_degrees(params, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(K_iE, K_iI) of every neuron of one realization, as int64 arrays of length N."""
    N, N_E = params.N, params.N_E
    pool_E, pool_I = pools(N, N_E)
    if params.connectivity == "fixed_indegree":
        return np.full(N, params.K_E, np.int64), np.full(N, params.K_I, np.int64)
    if params.connectivity == "erdos_renyi":
        return gen.binomial(pool_E, params.c), gen.binomial(pool_I, params.c)
    g_E, g_I = degree_factors(N, params.indegree_cv, params.indegree_rho, gen)
    # draws above the pool are capped; configs where that is expected at all are refused
    # (overflow_expected), so the cap is a guard, not part of the distribution
    K_E = np.minimum(np.rint(params.K_E * g_E), pool_E).astype(np.int64)
    K_I = np.minimum(np.rint(params.K_I * g_I), pool_I).astype(np.int64)
    return K_E, K_I


def overflow_expected(N: int, N_E: int, K_E: int, K_I: int, cv: float) -> float:
    """Expected number of neurons whose gamma in-degree (CV cv) exceeds what its pool holds."""
    if cv == 0:
        return 0.0
    shape, scale = 1.0 / cv ** 2, cv ** 2
    N_I = N - N_E
    out = 0.0
    for n, pool_E, pool_I in ((N_E, N_E - 1, N_I), (N_I, N_E, N_I - 1)):
        out += n * stats.gamma.sf((pool_E + 0.5) / K_E, shape, scale=scale)
        out += n * stats.gamma.sf((pool_I + 0.5) / K_I, shape, scale=scale)
    return float(out)


def lognormal(mean: float, cv: float, n: int, gen: np.random.Generator) -> np.ndarray:
    """n lognormal draws with the given mean and coefficient of variation."""
    s2 = math.log1p(cv * cv)
    return mean * np.exp(math.sqrt(s2) * gen.standard_normal(n) - 0.5 * s2)


def std_parameters(params, gen: np.random.Generator):
    """(u_j, tau_D,j) of the E neurons, each an array of length N_E, or None where its CV is
    0 (the model's scalar then applies to every neuron, as in the paper)."""
    u = lognormal(params.u, params.u_cv, params.N_E, gen) if params.u_cv > 0 else None
    tau = (lognormal(params.tau_D, params.tau_D_cv, params.N_E, gen)
           if params.tau_D_cv > 0 else None)
    return u, tau
