"""Weighted least-squares fits of a quantity y(x) +- se against size x, with their uncertainty,
lack of fit and model comparison.

Models (weights 1/se^2; the standard errors are treated as known):

* `fit_offset_power`: y = a + b x^p, p fixed (default -1/2). Linear in (a, b), so it works
  whatever the sign of y: a quantity that saturates at a as x -> inf with finite-size
  corrections ~ x^p.
* `fit_power_law`: y = A x^beta, fitted as log|y| = log A + beta log x with the delta-method
  errors se/|y|. It refuses (status "sign_change") when y changes sign, because a log of |y|
  then fits a quantity that crosses zero as if it were a power.
* `fit_free_power`: y = w_inf (constant), y = a x^-beta (power) or y = w_inf + a x^-beta
  (offset) with the exponent beta free, by variable projection: for a fixed beta the model
  is linear in (w_inf, a), so chi^2 is minimised exactly over them; the profile chi^2(beta)
  is scanned on a grid inside the bounds and refined by a bounded scalar minimisation around
  the best grid point (the weighted nonlinear least-squares solution, found without starting
  values). Covariance (J^T J)^-1 with J the Jacobian of the weighted residuals. No
  logarithm of y is taken: zero and negative values are ordinary data.

Uncertainty. chi2 = sum((y - fit)/se)^2 on dof = n - (number of parameters) is the
lack-of-fit statistic (`chi2_sf`: its p-value). The fixed-exponent fits quote normal
intervals from the parameter covariance (X' W X)^-1 scaled by max(1, chi2/dof) (the Birge
ratio: a fit that is worse than its error bars allow widens its own intervals; with dof = 0
the fit is exact, untested and unscaled; coverage of the offset a with correct se, 6 sizes,
4000 replicates: 96.3 %, t quantiles on top of the scaling gave 99.8 %); without standard
errors they are unweighted, their intervals come from the residual scatter with t quantiles
and there is no lack-of-fit test (status "unweighted"). The free-exponent fits give the
covariance unscaled (`standard_errors`); their callers compare models by `akaike` /
`akaike_weights` and likelihood-ratio tests (`chi2_sf` of the chi^2 difference).

Two linear solvers, on purpose: the fixed-exponent fits invert the normal matrix (any design
X); the profile of `fit_free_power` uses the closed-form 2 x 2 solution, vectorised over the
grid of exponents. They are the same least squares; one cannot replace the other without
changing the last digits of the tables fitted with it (correlation_fits.csv,
asynchrony_fits.csv; transition_fit.csv, width_power.csv). For the same reason
np.polyfit(cov=True) is not used (it solves by SVD with scaled columns: other last digits).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats
from scipy.optimize import minimize_scalar

__all__ = ["fit_offset_power", "fit_power_law", "fit_free_power", "changes_sign", "model_value",
           "chi2_sf", "normal_quantile", "standard_errors", "akaike", "akaike_weights",
           "FIT_ERRORS"]

#: what a failed free-exponent fit raises (callers report it instead of a result)
FIT_ERRORS = (FloatingPointError, ValueError, np.linalg.LinAlgError)
_GRID = 160  # grid points of the profile scan over the exponent


# ----------------------------------------------------------------------------- inference
@functools.lru_cache(maxsize=64)
def normal_quantile(level: float) -> float:
    """z such that +- z holds `level` of a standard normal."""
    return float(stats.norm.ppf(0.5 + level / 2))


def chi2_sf(stat: float, dof: int) -> float:
    """P(chi^2_dof > stat): the lack-of-fit p of a chi^2, or a likelihood-ratio test's p;
    NaN for dof <= 0 (an exact fit is not tested)."""
    return float(stats.chi2.sf(stat, dof)) if dof > 0 else math.nan


def standard_errors(var, scale: float = 1.0) -> np.ndarray:
    """sqrt(scale var) where var is a finite number >= 0, else NaN (a singular covariance)."""
    v = np.asarray(var, dtype=float) * scale
    return np.sqrt(np.where(np.isfinite(v) & (v >= 0), v, np.nan))


def akaike(chi2: float, k: int, p: int) -> tuple[float, float]:
    """AIC = chi2 + 2p and AICc (+ 2p(p+1)/(k-p-1), NaN where k - p - 1 <= 0) of a fit of
    p parameters to k points with known standard errors."""
    aic = chi2 + 2 * p
    aicc = chi2 + 2 * p + 2 * p * (p + 1) / (k - p - 1) if k - p - 1 > 0 else math.nan
    return aic, aicc


def akaike_weights(fits):
    """Add delta_aic, weight_aic, delta_aicc, weight_aicc to a table of fits of the same
    data (columns aic, aicc; NaN rows get NaN); returns the table."""
    for crit in ("aic", "aicc"):
        v = fits[crit].to_numpy(float)
        ok = np.isfinite(v)
        delta = np.full(v.size, np.nan)
        wt = np.full(v.size, np.nan)
        if ok.any():
            delta[ok] = v[ok] - v[ok].min()
            e = np.exp(-0.5 * delta[ok])
            wt[ok] = e / e.sum()
        fits["delta_" + crit] = delta
        fits["weight_" + crit] = wt
    return fits


# ----------------------------------------------------------------------------- fixed exponent
def changes_sign(y) -> bool:
    """True when the finite, nonzero values of y do not all have one sign."""
    y = np.asarray(y, dtype=float)
    s = np.sign(y[np.isfinite(y)])
    return bool(np.any(s > 0) and np.any(s < 0)) or bool(np.any(s == 0))


def _prepare(x, y, se):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    se = np.full_like(y, np.nan) if se is None else np.asarray(se, dtype=float)
    if not (x.shape == y.shape == se.shape):
        raise ValueError(f"x, y and se must have one shape; got {x.shape}, {y.shape}, {se.shape}")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    return x[ok], y[ok], se[ok]


def _wls(X: np.ndarray, y: np.ndarray, se: np.ndarray, level: float) -> dict:
    """Weighted (or, without usable se, ordinary) least squares of y on the columns of X."""
    n, k = X.shape
    weighted = bool(np.all(np.isfinite(se)) and np.all(se > 0))
    w = 1.0 / se ** 2 if weighted else np.ones(n)
    A = X.T @ (X * w[:, None])
    cov = np.linalg.inv(A)
    coef = cov @ (X.T @ (w * y))
    resid = y - X @ coef
    chi2 = float(np.sum(w * resid ** 2))
    dof = n - k
    if weighted:
        p = chi2_sf(chi2, dof)
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        q = normal_quantile(level)
        status = "ok"
    else:
        if dof <= 0:
            return {"coef": coef, "half": np.full(k, np.nan), "chi2": math.nan, "dof": dof,
                    "p": math.nan, "status": "unweighted"}
        p, scale = math.nan, chi2 / dof
        q = stats.t.ppf(0.5 + level / 2, dof)
        chi2 = math.nan
        status = "unweighted"
    half = q * standard_errors(np.diag(cov), scale)
    return {"coef": coef, "half": half, "chi2": chi2, "dof": dof, "p": p, "status": status}


def _too_few(model: str, names: tuple[str, ...], n: int) -> dict:
    out = {"model": model, "n_points": n, "chi2": math.nan, "dof": max(n - 2, 0),
           "p_lack_of_fit": math.nan, "status": "too_few"}
    for name in names:
        out.update({name: math.nan, f"{name}_lo": math.nan, f"{name}_hi": math.nan})
    return out


def fit_offset_power(x, y, se=None, power: float = -0.5, level: float = 0.95) -> dict:
    """y = a + b x^power by weighted least squares (any sign of y); see the module doc."""
    model = f"a + b x^{power:g}"
    x, y, se = _prepare(x, y, se)
    if np.unique(x).size < 2:
        return _too_few(model, ("a", "b"), x.size)
    X = np.column_stack([np.ones_like(x), x ** power])
    r = _wls(X, y, se, level)
    (a, b), (ha, hb) = r["coef"], r["half"]
    return {"model": model, "power": power, "a": float(a), "a_lo": float(a - ha),
            "a_hi": float(a + ha), "b": float(b), "b_lo": float(b - hb), "b_hi": float(b + hb),
            "chi2": r["chi2"], "dof": r["dof"], "p_lack_of_fit": r["p"], "n_points": int(x.size),
            "status": r["status"]}


def fit_power_law(x, y, se=None, level: float = 0.95) -> dict:
    """y = A x^beta through log|y|; refuses a y that changes sign (status "sign_change")."""
    model = "A x^beta"
    x, y, se = _prepare(x, y, se)
    if changes_sign(y):
        out = _too_few(model, ("exponent", "prefactor"), x.size)
        out["status"] = "sign_change"
        return out
    if np.unique(x).size < 2:
        return _too_few(model, ("exponent", "prefactor"), x.size)
    sign = float(np.sign(y[0]))
    X = np.column_stack([np.ones_like(x), np.log(x)])
    r = _wls(X, np.log(np.abs(y)), se / np.abs(y), level)
    (la, beta), (ha, hb) = r["coef"], r["half"]
    return {"model": model, "exponent": float(beta), "exponent_lo": float(beta - hb),
            "exponent_hi": float(beta + hb), "prefactor": float(sign * math.exp(la)),
            "prefactor_lo": float(sign * math.exp(la - ha)),
            "prefactor_hi": float(sign * math.exp(la + ha)),
            "chi2": r["chi2"], "dof": r["dof"], "p_lack_of_fit": r["p"], "n_points": int(x.size),
            "status": r["status"]}


def model_value(fit: dict, x) -> np.ndarray:
    """The curve of a fit_offset_power / fit_power_law result at x (nan where it failed)."""
    x = np.asarray(x, dtype=float)
    if fit.get("status") not in ("ok", "unweighted"):
        return np.full_like(x, np.nan)
    if "exponent" in fit:
        return fit["prefactor"] * x ** fit["exponent"]
    return fit["a"] + fit["b"] * x ** fit["power"]


# ----------------------------------------------------------------------------- free exponent
def beta_profile(x, y, W, betas, offset: bool):
    """For each beta: the weighted LS (w_inf, A) of y = w_inf + A x^-beta (or A x^-beta)
    and its chi^2 (closed form, vectorised over betas)."""
    F = x[None, :] ** (-np.asarray(betas, float)[:, None])
    Sy = (W * y).sum()
    Sfy = (W * F * y).sum(axis=1)
    S2 = (W * F * F).sum(axis=1)
    if offset:
        S0 = W.sum()
        S1 = (W * F).sum(axis=1)
        det = S0 * S2 - S1 * S1
        with np.errstate(divide="ignore", invalid="ignore"):
            w0 = (S2 * Sy - S1 * Sfy) / det
            A = (S0 * Sfy - S1 * Sy) / det
    else:
        w0 = np.zeros_like(S2)
        A = Sfy / S2
    resid = y[None, :] - w0[:, None] - A[:, None] * F
    chi2 = (W * resid * resid).sum(axis=1)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    return w0, A, chi2


def fit_free_power(x, y, se, model: str, beta_bounds=(0.05, 4.0), x_ref: float = 1.0) -> dict:
    """y +- se fitted by model "constant" (w_inf), "power" (a x^-beta) or "offset"
    (w_inf + a x^-beta) with beta free in beta_bounds (module docstring).

    x_ref: the size at which the power-law term is also reported, amp_ref = a x_ref^-beta
    (the fit runs in x / x_ref: at the geometric mean of x, amp_ref is far less correlated
    with beta than a). Returns a dict: names (the fitted parameters in order, then
    "amp_ref" where there is a power-law term), theta (their values), var (their
    variances), cov (covariance of the fitted parameters, without amp_ref; NaN when they
    are not separately identified), chi2 and notes (a list of remarks: identifiability,
    beta at a bound). Raises one of FIT_ERRORS when the fit fails.
    """
    W = 1.0 / se ** 2
    x = x / x_ref
    notes = []
    if model == "constant":
        w0 = float((W * y).sum() / W.sum())
        chi2 = float((W * (y - w0) ** 2).sum())
        theta = np.array([w0])
        cov = np.array([[1.0 / W.sum()]])
        names = ("w_inf",)
        var = np.diag(cov)
    else:
        offset = model == "offset"
        lo, hi = beta_bounds
        grid = np.linspace(lo, hi, _GRID)
        _, _, chi2s = beta_profile(x, y, W, grid, offset)
        if not np.isfinite(chi2s).any():
            raise FloatingPointError("no finite chi^2 on the beta grid")
        i = int(np.argmin(chi2s))
        prof = lambda b: float(beta_profile(x, y, W, [b], offset)[2][0])  # noqa: E731
        a_, b_ = grid[max(i - 1, 0)], grid[min(i + 1, _GRID - 1)]
        res = minimize_scalar(prof, bounds=(a_, b_), method="bounded",
                              options={"xatol": 1e-7 * max(1.0, hi)})
        beta = float(res.x) if res.fun <= chi2s[i] else float(grid[i])
        w0, A, c2 = beta_profile(x, y, W, [beta], offset)
        w0, A, chi2 = float(w0[0]), float(A[0]), float(c2[0])
        f = x ** (-beta)
        cols = ([1.0 / se] if offset else []) + [f / se, -A * f * np.log(x) / se]
        J = np.column_stack(cols)
        JTJ = J.T @ J
        if np.linalg.cond(JTJ) > 1e13:
            cov = np.full((len(cols), len(cols)), np.nan)
            notes.append("parameters not separately identified (singular covariance)")
        else:
            cov = np.linalg.inv(JTJ)
        ia = 1 if offset else 0
        var_A = cov[ia, ia]
        # (w_inf, A, beta) -> (w_inf, a = A x_ref^beta, beta)
        a = A * x_ref ** beta
        T = np.eye(len(cols))
        T[ia, ia] = x_ref ** beta
        T[ia, ia + 1] = a * math.log(x_ref)
        cov = T @ cov @ T.T
        theta = np.array(([w0] if offset else []) + [a, beta, A])
        names = (("w_inf",) if offset else ()) + ("a", "beta", "amp_ref")
        var = np.append(np.diag(cov), var_A)
        if min(beta - lo, hi - beta) < 1e-4 * (hi - lo):
            notes.append(f"beta at its bound [{lo:g}, {hi:g}]")
    if not np.isfinite(chi2):
        raise FloatingPointError("non-finite chi^2")
    return {"names": names, "theta": theta, "var": var, "cov": cov, "chi2": chi2,
            "notes": notes}
