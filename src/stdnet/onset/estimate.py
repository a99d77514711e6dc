"""J_ch as the zero crossing of lambda_max(J0), estimated from the onset search's probes.

Why. The bisection (stdnet.onset.search) moves on binary decisions: "chaotic" needs
lambda_max - h > zero_tol, h the 95 % half width. The bracket's midpoint therefore sits
where chaos becomes *provable*, about (zero_tol + h) / slope above the onset, and h is set
by the averaging budget, not by N: a bias that does not shrink with N. Here J_ch is the J0
at which lambda_max crosses 0, estimated from every probe's lambda_max and its standard
error, with no threshold. The bisection itself is unchanged (it only chooses where to
probe), so existing searches can be re-analysed.

Model (a censored hinge). With x = J0 - J_c,

    lambda(J0) = b x          for J0 > J_c  (chaos; b >= 0 the local slope),
    lambda(J0) <= 0           for J0 <= J_c (fixed point: < 0; periodic/torus: = 0).

Probe i (lambda_i, s_i) contributes to chi^2

    above J_c:  ((lambda_i - b x_i) / s_i)^2
    below J_c:  (lambda_i / s_i)^2                    if lambda_i >= 0
                min((lambda_i / s_i)^2, FP_PENALTY)   if lambda_i < 0

i.e. below the onset a probe is either periodic / quasi-periodic (lambda = 0 exactly) or
a fixed point (any lambda < 0, at a fixed cost FP_PENALTY = 4, the chi^2 of a 2-sigma
deviation). Both are consistent, whatever the fixed point's exponent. The plain censored
version (cost max(lambda_i, 0)^2 / s_i^2, penalty 0) gives a probe just above the onset
whose noisy lambda_i came out negative a free parameter if J_c moves above it; the penalty
prices that. On the synthetic searches it changes the bias by < 0.0002 and raises the
coverage by up to 0.02 (8 scenarios x 200 searches). For each trial
J_c, b has a closed form (weighted least squares through the origin in x, clipped at 0);
chi^2 is profiled over b on a grid of J_c (step `grid_step`, 1e-4) from the lowest
fitted probe - window to the highest positive one. The estimate is the argmin.

Interval: profile likelihood, {J_c : chi^2_prof(J_c) - chi^2_min <= q} (its hull). Two
small-sample corrections, both because every s_i is itself estimated from B_i batch
means (nu_i = B_i - 1 degrees of freedom, 4 to 29 here): each s_i is widened by
sqrt(nu_i / (nu_i - 2)), the sd of a t_nu error in units of its scale, and q = t_{(1+level)/2,
nu}^2 with nu the fewest degrees of freedom among the fitted positive probes (chi^2_1 when
none is known). With neither (or with the first alone and q = chi^2_1) the coverage of
the hardest synthetic scenarios was 0.85-0.93; with both it is 0.93-0.99 (docs/onset.md).
Why profile likelihood: J_c is the ratio of two fitted quantities (intercept / slope); near
the onset the slope is poorly known, and the profile gives the asymmetric, Fieller-like
interval that a Wald interval (delta method) misses; it handles the censored side and the
kinks at probes exactly, and costs one pass over the grid (a parametric bootstrap would cost
hundreds of fits per realization). J_ch_se = (hi - lo) / (2 z_{(1+level)/2}), the standard
error of a normal with that interval (the per-realization measurement error of the width
statistics).

Which probes. lambda(J0) is concave further above the onset (0.19 at J0 = 1.5, N = 2000,
against a slope ~1 near the onset), so only a local window is fitted: the anchor is the
lowest probe from which every higher probe is clearly positive (lambda_i > z s_i); fitted
are all probes below it and those up to anchor + `window` (WINDOW = 0.06: the synthetic
study's compromise between the curvature bias of wider windows and the slope noise of
narrower ones, 0.03 - 0.2 tried), extended probe by probe until at least `min_positive`
(2) positive probes are in. Probes with infinite or NaN s (no
interval: fewer than 5 batches and no envelope) carry no magnitude and are left out.

Standard errors from half widths (`se_from_half_width`): batch means give
h = t_{0.975, B-1} s, so s = h / t_{0.975, B-1}; an envelope half width (a bound on every
sub-window mean, used where B < 5) and a half width whose B is unknown (states written
before n_batches was stored) are read as s = h / z_{0.975}, i.e. larger (conservative).

Fallback. Too few usable probes (fewer than `min_positive` positive ones, or no clearly
chaotic probe at all) gives method "insufficient probes"; stdnet.onset.search then reports the
bracket between the last "not chaotic" probe and the lowest demonstrated-chaotic one
(`J_ch_method` says which was used).

Validation (stdnet.onset.synthetic): `synthetic_study` runs the real bisection
(stdnet.onset.search.serial_search) with a synthetic judge that mimics onset_lyapunov (segments of t_average, batch means with
tau_int, extensions while undecided) on lambda(J0) curves with known onset, and reports
bias and coverage per scenario (tools/onset_calibration.py; docs/onset.md).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

CROSSING = "crossing"
INSUFFICIENT = "insufficient probes"
WINDOW = 0.06  # J0 above the anchor that is fitted (curvature vs slope noise, synthetic study)
FP_PENALTY = 4.0  # chi^2 cost of calling a probe below the onset a fixed point (lambda < 0)


@lru_cache(maxsize=None)
def t_quantile(q: float, dof: float) -> float:
    """The q quantile of Student's t with dof degrees of freedom (normal for dof = inf);
    cached: the synthetic study asks for the same few thousands of times."""
    return float(stats.norm.ppf(q) if math.isinf(dof) else stats.t.ppf(q, dof))


def _z(level: float) -> float:
    return t_quantile(0.5 + level / 2, math.inf)


def se_from_half_width(half_width: float, n_batches: int = -1, envelope: bool = False,
                       confidence: float = 0.95) -> float:
    """Standard error of lambda_max from its CI half width (module docstring): h / t_{B-1}
    for batch means with B >= 2 batches, h / z for an envelope or an unknown B; inf when
    h is inf or NaN."""
    h = float(half_width)
    if not math.isfinite(h) or h < 0:
        return math.inf
    q = 0.5 + confidence / 2
    if envelope or n_batches is None or int(n_batches) < 2:
        return h / t_quantile(q, math.inf)
    return h / t_quantile(q, int(n_batches) - 1)


def _nan_result(method: str, note: str, n_used: int = 0) -> dict:
    return {"J_ch": math.nan, "J_ch_se": math.nan, "J_ch_ci_lo": math.nan,
            "J_ch_ci_hi": math.nan, "slope": math.nan, "n_used": n_used, "method": method,
            "note": note}


def _fit_set(J, lam, se, z_clear: float, window: float, min_positive: int):
    """Indices of the probes to fit (module docstring), or (None, why)."""
    ok = np.isfinite(se) & np.isfinite(lam) & (se > 0)
    order = np.argsort(J)
    Jo, lo, so, oko = J[order], lam[order], se[order], ok[order]
    clear = oko & (lo > z_clear * so)
    if not clear[-1]:
        return None, "no clearly positive probe at the top"
    k = len(Jo) - 1
    while k > 0 and (clear[k - 1] or not oko[k - 1]):  # unusable probes do not break it
        k -= 1
    anchor = Jo[k]
    top = anchor + window
    sel = oko & (Jo <= top + 1e-12)
    while (sel & (lo > 0)).sum() < min_positive:
        rest = np.flatnonzero(oko & ~sel & (Jo > top))
        if rest.size == 0:
            return None, (f"{int((sel & (lo > 0)).sum())} positive probe(s) with a usable "
                          f"interval, {min_positive} needed")
        sel[rest[0]] = True
        top = Jo[rest[0]]
    return order[sel], ""


def profile_chi2(Jc, J, lam, w, fp_penalty: float = FP_PENALTY):
    """chi^2 of the censored hinge profiled over the slope, for each trial onset in Jc;
    returns (chi2, slope) arrays. Above the trial onset lambda = b x (b >= 0, weighted
    least squares through the origin in x); a probe below it costs (lam/s)^2 when
    lam > 0 and min((lam/s)^2, fp_penalty) when lam < 0 (module docstring)."""
    X = J[None, :] - Jc[:, None]
    above = X > 0
    Xa = np.where(above, X, 0.0)
    sxx = (w * Xa * Xa).sum(axis=1)
    sxy = (w * Xa * lam).sum(axis=1)
    b = np.where(sxx > 0, np.maximum(sxy / np.where(sxx > 0, sxx, 1.0), 0.0), 0.0)
    below = np.where(lam > 0, w * lam * lam, np.minimum(w * lam * lam, fp_penalty))
    chi2 = np.where(above, w * (lam - b[:, None] * X) ** 2, below[None, :]).sum(axis=1)
    return chi2, b


def crossing_estimate(J0, lam, se, level: float = 0.95, *, dof=None, window: float = WINDOW,
                      fp_penalty: float = FP_PENALTY,
                      z_clear: float | None = None, min_positive: int = 2,
                      grid_step: float = 1e-4) -> dict:
    """J_ch as the zero crossing of lambda_max(J0) (module docstring).

    J0, lam, se: the probes' couplings, lambda_max and standard errors (inf: no interval); dof:
    optional batch-means degrees of freedom per probe (B - 1; NaN or <= 0: unknown, e.g. an
    envelope) for the small-sample corrections of the interval. Returns J_ch, J_ch_se,
    J_ch_ci_lo, J_ch_ci_hi (the `level` profile-likelihood interval), slope, n_used, method
    ("crossing", or "insufficient probes" with NaN estimates) and note (why, or which end of
    the interval is open: it reached the edge of the scanned range).
    """
    J = np.asarray(J0, dtype=float)
    y = np.asarray(lam, dtype=float)
    s = np.asarray(se, dtype=float)
    if not (J.shape == y.shape == s.shape) or J.ndim != 1:
        raise ValueError("crossing_estimate: J0, lam and se must be 1-D arrays of one length")
    if not 0 < level < 1:
        raise ValueError(f"crossing_estimate: level {level!r} must lie in (0, 1)")
    if J.size == 0:
        return _nan_result(INSUFFICIENT, "no probes")
    d = np.full(J.shape, np.nan) if dof is None else np.asarray(dof, dtype=float)
    d = np.where(np.isfinite(d) & (d > 2), d, np.nan)
    z = _z(level)
    idx, why = _fit_set(J, y, s, z if z_clear is None else z_clear, window, min_positive)
    if idx is None:
        return _nan_result(INSUFFICIENT, why)
    return _fit(J[idx], y[idx], s[idx], d[idx], level, window, fp_penalty, grid_step)


def _fit(Jf, yf, sf, df, level, window, fp_penalty, grid_step) -> dict:
    z = _z(level)
    # each s is estimated from B batches: (lam - lam_true) / s is Student t with nu = B - 1,
    # of variance nu / (nu - 2); widen s by its square root
    sf = np.where(np.isfinite(df), sf * np.sqrt(df / np.where(np.isfinite(df), df - 2, 1)), sf)
    positive = yf > 0
    lo_edge, hi_edge = Jf.min() - window, Jf[positive].max()
    grid = lo_edge + grid_step * np.arange(int(math.ceil((hi_edge - lo_edge) / grid_step)) + 1)
    chi2, b = profile_chi2(grid, Jf, yf, 1.0 / sf ** 2, fp_penalty)
    k = int(np.argmin(chi2))
    # threshold t^2 with the fewest degrees of freedom among the fitted positive probes
    nu = float(np.nanmin(df[positive])) if np.isfinite(df[positive]).any() else math.inf
    q = t_quantile(0.5 + level / 2, nu) ** 2  # = chi^2_1(level) when no dof is known
    inside = np.flatnonzero(chi2 - chi2[k] <= q)
    ci_lo, ci_hi = float(grid[inside[0]]), float(grid[inside[-1]])
    notes = []
    if inside[0] == 0:
        notes.append("interval open below (reaches the lowest fitted probe - window)")
    if inside[-1] == grid.size - 1:
        notes.append("interval open above (reaches the highest positive probe)")
    return {"J_ch": round(float(grid[k]), 9), "J_ch_se": (ci_hi - ci_lo) / (2 * z),
            "J_ch_ci_lo": round(ci_lo, 9), "J_ch_ci_hi": round(ci_hi, 9), "slope": float(b[k]),
            "n_used": int(Jf.size), "method": CROSSING, "note": "; ".join(notes)}
