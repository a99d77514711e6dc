"""Random-matrix theory of the bulk of the Jacobian spectrum at the homogeneous fixed point.

Eliminating the efficacy perturbations (dx_j = -u x phi'_E dh_j / (lambda + a),
a = 1/tau_D + u nu_E) turns the eigenproblem into one for the inputs alone,

    (1 + tau_alpha lambda) dh_i = sum_j W_ij(lambda) dh_j,

where E->E weights carry the frequency-dependent gain
Gamma(lambda) = x (lambda + 1/tau_D) / (lambda + a) in place of x (Gamma(0) = x^2,
Gamma(inf) = x). W splits into its mean (which gives the 3x3 homogeneous modes, the
outliers) and a zero-mean random part. For fixed in-degree the entries of a row of
block (alpha, beta) have variance w^2 c_b (1 - c_b) with c_b = K_beta/N_beta; the
circular law with a variance profile puts the bulk of D^{-1} W inside the disc of
radius sqrt(rho(V(lambda))), V_ab = (row variance sum of block ab)/|1 + tau_a lambda|^2.
So lambda lies in (or on the edge of) the bulk where rho(V(lambda)) >= 1 (= 1).
Near lambda = -a, |Gamma| diverges: this is the dense cluster of depression modes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar

from stdnet.model.params import ModelParams
from stdnet.model.transfer import dphi
from stdnet.theory.meanfield import (
    FixedPoint,
    fixed_point_branch,
    homogeneous_fixed_point,
    sampling_variances,
)

if TYPE_CHECKING:
    import pandas as pd

#: how far right of the predicted bulk edge the shift-invert targets are put (targets_right_of
#: _edge): the rightmost eigenvalues are then among those nearest to the targets
EDGE_MARGIN = 0.02
#: J0 points of the bulk-edge curves (bulk_edge_curves)
EDGE_CURVE_POINTS = 17


def gain(params: ModelParams, fp: FixedPoint, lam):
    """Gamma(lambda): the effective E->E gain of a depressed synapse at frequency lambda."""
    lam = np.asarray(lam, dtype=complex)
    a = 1.0 / params.tau_D + params.u * fp.nu_E
    return fp.x * (lam + 1.0 / params.tau_D) / (lam + a)


def _profile(params: ModelParams, fp: FixedPoint):
    """Constants of V(lambda): the four block row-variance sums at lambda = 0 with Gamma = 1."""
    p = params
    dE = dphi(p.transfer, fp.h_E)
    dI = dphi(p.transfer, fp.h_I)
    vE, vI = sampling_variances(p)  # row variance sums of the fixed-in-degree blocks
    return (vE * p.g_EE ** 2 * dE ** 2, vI * p.g_EI ** 2 * dI ** 2,
            vE * p.g_IE ** 2 * dE ** 2, vI * p.g_II ** 2 * dI ** 2)


def variance_matrix(params: ModelParams, fp: FixedPoint, lam) -> np.ndarray:
    """The 2x2 variance profile V(lambda) (rows: receiving population E, I)."""
    EE, EI, IE, II = _profile(params, fp)
    lam = complex(lam)
    G2 = abs(complex(gain(params, fp, lam))) ** 2
    dE2 = abs(1.0 + params.tau_E * lam) ** 2
    dI2 = abs(1.0 + params.tau_I * lam) ** 2
    return np.array([[EE * G2 / dE2, EI / dE2], [IE / dI2, II / dI2]])


def bulk_indicator(params: ModelParams, fp: FixedPoint, lam, _profile_cache=None):
    """rho(V(lambda)): > 1 inside the bulk, = 1 on its edge, < 1 outside (vectorised)."""
    EE, EI, IE, II = _profile_cache or _profile(params, fp)
    lam = np.asarray(lam, dtype=complex)
    G2 = np.abs(gain(params, fp, lam)) ** 2
    dE2 = np.abs(1.0 + params.tau_E * lam) ** 2
    dI2 = np.abs(1.0 + params.tau_I * lam) ** 2
    a, b, c, d = EE * G2 / dE2, EI / dE2, IE / dI2, II / dI2
    # largest eigenvalue of a nonnegative 2x2 matrix, in closed form
    tr, det = a + d, a * d - b * c
    out = 0.5 * tr + np.sqrt(np.maximum(0.25 * tr * tr - det, 0.0))
    return out if out.ndim else float(out)


def edge_curve(params: ModelParams, fp: FixedPoint, omegas, re_max: float = 3.0,
               n_grid: int = 600) -> np.ndarray:
    """For each omega, the largest Re(lambda) with rho(V(Re + i omega)) = 1 to the right of
    the depression pole (-inf where the bulk does not reach that frequency)."""
    omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
    prof = _profile(params, fp)
    a = 1.0 / params.tau_D + params.u * fp.nu_E
    grid = np.linspace(re_max, -a + 1e-9, n_grid)
    vals = bulk_indicator(params, fp, grid[None, :] + 1j * omegas[:, None], prof) - 1.0
    out = np.full(omegas.size, -np.inf)
    for k, w in enumerate(omegas):
        inside = np.nonzero(vals[k] > 0)[0]
        if inside.size == 0:
            continue
        i = inside[0]
        if i == 0:
            out[k] = re_max
            continue
        f = lambda r: bulk_indicator(params, fp, r + 1j * w, prof) - 1.0  # noqa: E731
        out[k] = brentq(f, grid[i], grid[i - 1], xtol=1e-12)
    return out


def edge_at_frequency(params: ModelParams, fp: FixedPoint, omega: float) -> float:
    """The largest Re(lambda) on the bulk edge at frequency omega (see edge_curve)."""
    return float(edge_curve(params, fp, [omega])[0])


def bulk_edge(params: ModelParams, fp: FixedPoint | None = None,
              omegas=None) -> tuple[float, float]:
    """The rightmost point of the predicted bulk: (Re lambda_edge, |omega| there).

    Scans omega >= 0 (the spectrum is symmetric), then refines around the maximum.
    """
    if fp is None:
        fp = homogeneous_fixed_point(params)
    if omegas is None:
        omegas = np.concatenate([np.linspace(0, 0.2, 41), np.linspace(0.22, 2.0, 40)])
    edges = edge_curve(params, fp, omegas)
    i = int(np.argmax(edges))
    if 0 < i < len(omegas) - 1:

        res = minimize_scalar(lambda w: -edge_at_frequency(params, fp, w),
                              bounds=(omegas[i - 1], omegas[i + 1]), method="bounded",
                              options={"xatol": 1e-6})
        if -res.fun >= edges[i]:
            return float(-res.fun), float(res.x)
    return float(edges[i]), float(omegas[i])


def targets_right_of_edge(targets, edge: float, margin: float = EDGE_MARGIN) -> tuple:
    """Shift-invert targets moved right to Re = edge + margin where they lie left of it
    (their imaginary parts kept): shift-invert finds the eigenvalues nearest its targets, so
    a far-right unstable eigenvalue is not missed for the depression cluster."""
    shift = edge + margin
    return tuple(complex(max(complex(t).real, shift), complex(t).imag) for t in targets)


def bulk_jfp(params: ModelParams, N: int, J0_range=(0.3, 2.0), xtol: float = 1e-5
             ) -> tuple[float, float]:
    """The J0 where the predicted bulk edge of size-N networks (params.replace(N=N))
    reaches Re lambda = 0, and its frequency.

    Returns (nan, nan) when the edge does not cross zero inside J0_range.
    """
    def params_at(J0):
        return params.replace(N=int(N), J0=float(J0))

    f = lambda J0: bulk_edge(params_at(J0))[0]  # noqa: E731
    lo, hi = J0_range
    if not (f(lo) < 0 < f(hi)):
        return float("nan"), float("nan")
    J = brentq(f, lo, hi, xtol=xtol)
    return float(J), bulk_edge(params_at(J))[1]


def bulk_edge_curves(params: ModelParams, N_values, J0_range, n_J0: int = EDGE_CURVE_POINTS
                     ) -> pd.DataFrame:
    """The predicted bulk edge at n_J0 points of J0_range for each N: DataFrame N, J0,
    edge_re, edge_im (bulk_edge: the rightmost point of the bulk and its frequency, at the
    homogeneous fixed point followed by continuation in J0)."""
    rows = []
    J0s = np.linspace(*J0_range, n_J0)
    for N in N_values:
        base = params.replace(N=int(N), J0=float(J0s[0]))
        for J0, fp in zip(J0s, fixed_point_branch(base, J0s)):
            edge, w = bulk_edge(base.replace(J0=float(J0)), fp)
            rows.append({"N": N, "J0": J0, "edge_re": edge, "edge_im": w})
    return pd.DataFrame(rows)
