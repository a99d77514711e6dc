"""Intervals and tests of the free-exponent fits (stats.fits.fit_free_power) calibrated for
standard errors that are themselves estimated from a few realizations.

The per-N means ybar_i come with standard errors se_i = s_i / sqrt(n_i) whose variances s_i^2
are estimated from n_i realizations (nu_i = n_i - 1 degrees of freedom). Treating them as
known (chi^2 references, Wald intervals with 1.96) makes every test too liberal and every
interval too narrow: with n = 10, E[1/s^2] = 1.29 / sigma^2, so the weights are too large on
average, and they are noisy, which adds variance to the weighted estimates.

Method (docs/width.md, section 2):

* **Profile likelihood** for the nonlinear parameters: the interval of w_inf is
  {w : P(w) - chi2_min <= c_w}, P(w) = min over (a, beta in bounds) of chi^2 with w_inf = w
  (`profile_w_inf`, exact inner minimisation over a, grid + parabola over beta); the
  interval of beta is {beta : chi^2(beta) - chi2_min <= c_beta} (w_inf, a profiled in
  closed form). Profiling follows the curved (w_inf, beta) valley that makes Wald
  intervals miss on one side, and an interval that reaches a beta bound says so.
* **Thresholds c** (and the reference distributions of lack-of-fit and likelihood-ratio
  statistics) from a *linearised parametric bootstrap that redraws the variances*
  (`linear_calibration`): in the model linearised at the fit (design X: the derivatives of
  the curve with respect to its parameters), draw M data sets ybar* = X theta + se z and
  s*^2 = se^2 chi^2_nu / nu per N, refit by weighted least squares with the *redrawn* weights
  1/s*^2, and record chi^2* (lack of fit) and, for each parameter j,
  (theta*_j - theta_j)^2 / [(X' W* X)^-1]_jj, the linear model's profile Delta chi^2. Their
  `level` quantiles are the thresholds; the fraction of chi^2* above the observed chi^2 is
  the lack-of-fit p. With nu = inf this reproduces the chi^2 references exactly.
  The draws are vectorised (batched p x p solves), so M = 2000 costs a few milliseconds, and
  a fixed seed makes every number reproducible.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.optimize import brentq

from stdnet.stats.fits import beta_profile

__all__ = ["linear_calibration", "draw_variances", "profile_w_inf", "WProfile", "profile_beta",
           "profile_interval", "offset_design", "constant_vs_offset_null", "N_CAL",
           "BETA_GRID"]

N_CAL = 2000  # draws of the linearised parametric bootstrap
BETA_GRID = 161  # grid points of the inner minimisation over beta in the w_inf profile


def draw_variances(rng, se, nu, M: int) -> np.ndarray:
    """M x K redrawn variances se^2 chi^2_nu / nu (se^2 itself where nu is inf)."""
    se = np.asarray(se, float)
    nu = np.asarray(nu, float)
    out = np.empty((M, se.size))
    for i in range(se.size):
        if np.isfinite(nu[i]) and nu[i] > 0:
            out[:, i] = se[i] ** 2 * rng.chisquare(nu[i], M) / nu[i]
        else:
            out[:, i] = se[i] ** 2
    return out


def linear_calibration(X, se, nu, level: float = 0.95, M: int = N_CAL, seed: int = 0) -> dict:
    """Reference distributions of the weighted least-squares fit of the linear model X with
    estimated variances (module docstring).

    X: K x p design (the curve's derivatives at the fit); se: the K standard errors; nu: their
    degrees of freedom (inf = known). Returns dict: chi2 (M draws of the minimum chi^2),
    delta (M x p: each parameter's Delta chi^2 at its true value), threshold (p: the `level`
    quantile of each delta column), ok (False when X' W X is singular in the draws: the
    thresholds then fall back to the chi^2_1 quantile).
    """
    X = np.asarray(X, float)
    K, p = X.shape
    rng = np.random.default_rng(seed)
    se = np.asarray(se, float)
    e = se[None, :] * rng.standard_normal((M, K))
    W = 1.0 / draw_variances(rng, se, nu, M)
    A = np.einsum("ki,mk,kj->mij", X, W, X)
    b = np.einsum("ki,mk->mi", X, W * e)
    out = {"ok": True}
    try:
        Ainv = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out["ok"] = False
        chi1 = float(stats.chi2.ppf(level, 1))
        return {"ok": False, "chi2": np.full(M, np.nan), "delta": np.full((M, p), np.nan),
                "threshold": np.full(p, chi1)}
    theta = np.einsum("mij,mj->mi", Ainv, b)
    r = e - theta @ X.T
    chi2 = (W * r * r).sum(axis=1)
    diag = np.einsum("mii->mi", Ainv)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = theta ** 2 / diag
    good = np.isfinite(delta).all(axis=1) & np.isfinite(chi2)
    if good.mean() < 0.99:
        out["ok"] = False
    thr = np.quantile(delta[good], level, axis=0) if good.any() else \
        np.full(p, float(stats.chi2.ppf(level, 1)))
    out.update({"chi2": chi2, "delta": delta, "threshold": np.asarray(thr, float)})
    return out


def offset_design(x, w_inf: bool, A: float, beta: float) -> np.ndarray:
    """Derivatives of w_inf + A x^-beta (or A x^-beta) with respect to (w_inf,) A, beta."""
    f = x ** (-beta)
    cols = ([np.ones_like(x)] if w_inf else []) + [f, -A * f * np.log(x)]
    return np.column_stack(cols)


# ----------------------------------------------------------------------------- profiles
class WProfile:
    """P(w) of `profile_w_inf` for one data set, with the beta grid's powers computed once."""

    def __init__(self, x, y, W, beta_bounds, grid: int = BETA_GRID):
        betas = np.linspace(beta_bounds[0], beta_bounds[1], grid)
        self.F = x[None, :] ** (-betas[:, None])  # G x K
        self.WF = W[None, :] * self.F
        self.S2 = (self.WF * self.F).sum(axis=1)
        self.y, self.W = y, W

    def __call__(self, w: float) -> float:
        r = self.y - w
        Sfr = self.WF @ r
        chi2 = float((self.W * r * r).sum()) - Sfr ** 2 / self.S2
        i = int(np.argmin(chi2))
        f1 = chi2[i]
        if 0 < i < chi2.size - 1:
            f0, f2 = chi2[i - 1], chi2[i + 1]
            den = f0 - 2 * f1 + f2
            if den > 0:
                f1 = min(f1, f1 - (f2 - f0) ** 2 / (8 * den))
        return max(float(f1), 0.0)


def profile_w_inf(x, y, W, w_values, beta_bounds, grid: int = BETA_GRID) -> np.ndarray:
    """P(w) = min over beta in bounds and a of sum W (y - w - a x^-beta)^2, for each w (the
    minimum over a grid of beta refined by a parabola through its neighbours)."""
    P = WProfile(np.asarray(x, float), np.asarray(y, float), np.asarray(W, float),
                  beta_bounds, grid)
    return np.array([P(float(w)) for w in np.atleast_1d(np.asarray(w_values, float))])


def profile_beta(x, y, W, betas, offset: bool) -> np.ndarray:
    """chi^2 of w_inf + a x^-beta (or a x^-beta) at each fixed beta (w_inf, a profiled)."""
    return beta_profile(x, y, W, np.atleast_1d(np.asarray(betas, float)), offset)[2]


def profile_interval(fun, est: float, level_value: float, lo_lim: float, hi_lim: float,
                     step: float) -> tuple[float, float, bool, bool]:
    """The interval {t in [lo_lim, hi_lim] : fun(t) <= level_value} around est, by stepping
    outwards (steps growing by 1.6x from `step`) and brentq on the bracket found.

    Returns (lo, hi, lo_open, hi_open): an end that reaches its limit without crossing is the
    limit itself (-inf / inf for infinite limits) and flagged open.
    """
    g = lambda t: float(fun(t)) - level_value  # noqa: E731
    ends = []
    for sign, lim in ((-1, lo_lim), (1, hi_lim)):
        inner, h = est, step
        found = None
        for _ in range(60):
            t = est + sign * h
            if (sign < 0 and t <= lim) or (sign > 0 and t >= lim):
                t = lim
                if np.isfinite(t) and g(t) > 0:
                    found = (inner, t)
                break
            if g(t) > 0:
                found = (inner, t)
                break
            inner, h = t, h * 1.6
        if found is None:
            ends.append((lim if np.isfinite(lim) else sign * math.inf, True))
        else:
            a, b = found
            ga = g(a)
            if ga > 0:  # est itself above the level (grid error): the interval is est
                ends.append((a, False))
            else:
                ends.append((brentq(g, min(a, b), max(a, b), xtol=1e-5 * step), False))
    return ends[0][0], ends[1][0], ends[0][1], ends[1][1]


def constant_vs_offset_null(se, nu, x, beta_bounds, M: int = N_CAL, seed: int = 0,
                            grid: int = 81) -> np.ndarray:
    """M draws of chi^2_constant - chi^2_offset (beta free on a grid) under the constant
    model with redrawn variances: the reference of the likelihood-ratio test of a = 0, in
    which beta is not identified (so no chi^2_2 reference applies)."""
    rng = np.random.default_rng(seed + 7919)
    se = np.asarray(se, float)
    K = se.size
    e = se[None, :] * rng.standard_normal((M, K))
    W = 1.0 / draw_variances(rng, se, nu, M)
    betas = np.linspace(beta_bounds[0], beta_bounds[1], grid)
    F = x[None, :] ** (-betas[:, None])  # G x K
    S0 = W.sum(axis=1)  # M
    Sy = (W * e).sum(axis=1)
    Syy = (W * e * e).sum(axis=1)
    chi_c = Syy - Sy ** 2 / S0
    S1 = W @ F.T  # M x G
    S2 = W @ (F * F).T
    Sfy = (W * e) @ F.T
    det = S0[:, None] * S2 - S1 ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        # chi2 of the 2-column fit = Syy - [Sy Sfy] inv([[S0 S1][S1 S2]]) [Sy Sfy]'
        q = (S2 * Sy[:, None] ** 2 - 2 * S1 * Sy[:, None] * Sfy + S0[:, None] * Sfy ** 2) / det
    chi_o = Syy[:, None] - q
    chi_o = np.where(np.isfinite(chi_o), chi_o, np.inf).min(axis=1)
    return np.maximum(chi_c - chi_o, 0.0)
