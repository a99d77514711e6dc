"""The homogeneous modes (theory.homogeneous.homogeneous_eigenvalues) over parameter grids, as
tables (paper Fig 3; rule homogeneous_modes): tables/homogeneous_modes.csv (J0 curves for
several N) and tables/homogeneous_map.csv (the (J0, I0) map at one N), both written with
tables.write_table at FLOAT_FORMAT.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from stdnet.model.params import ModelParams
from stdnet.theory.homogeneous import homogeneous_eigenvalues
from stdnet.theory.meanfield import fixed_point_branch

log = logging.getLogger("stdnet.stability.scan")

#: float format of the two tables
FLOAT_FORMAT = "%.10g"


def homogeneous_scan(params: ModelParams, N_values, J0_values, I0_values=None) -> pd.DataFrame:
    """Eigenvalues of the 3x3 homogeneous Jacobian over a (N, J0[, I0]) grid (the other
    model constants from params; I0_values None: params.I0 alone).

    One row per grid point: N, J0, I0, the fixed point, and re/im of the three
    eigenvalues sorted by decreasing real part (lam0 is the leading one).
    """
    I0s = [params.I0] if I0_values is None else list(I0_values)
    rows = []
    J0s = sorted(float(j) for j in J0_values)
    for N in N_values:
        for I0 in I0s:
            p0 = params.replace(N=int(N), I0=float(I0), J0=J0s[0])
            for J0, fp in zip(J0s, fixed_point_branch(p0, J0s)):
                ev = homogeneous_eigenvalues(p0.replace(J0=J0), fp)
                row = {"N": int(N), "J0": J0, "I0": float(I0), "nu_E": fp.nu_E,
                       "nu_I": fp.nu_I, "x": fp.x, "h_E": fp.h_E, "h_I": fp.h_I}
                for i, lam in enumerate(ev):
                    row[f"lam{i}_re"] = float(lam.real)
                    row[f"lam{i}_im"] = float(lam.imag)
                rows.append(row)
    return pd.DataFrame(rows)


def homogeneous_modes(params: ModelParams, N_values, J0_range, n_J0: int, I0_range,
                      n_I0: int, map_N: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables of rule homogeneous_modes: (curves, map). curves: homogeneous_scan
    over N_values and n_J0 points of J0_range (J0 > 0 only); map: the same J0 by n_I0
    points of I0_range at N = map_N."""
    J0s = np.linspace(*J0_range, n_J0)
    J0s = J0s[J0s > 0]
    curves = homogeneous_scan(params, N_values, J0s)
    hmap = homogeneous_scan(params, [map_N], J0s, np.linspace(*I0_range, n_I0))
    for N, g in curves.groupby("N"):
        i = g.lam0_re.idxmax()
        log.info("N=%d: max Re(lambda_hom) = %.4f at J0 = %.3f", N, g.lam0_re[i], g.J0[i])
    log.info("(J0, I0) map at N=%d: max Re(lambda_hom) = %.4f", map_N, hmap.lam0_re.max())
    return curves, hmap
