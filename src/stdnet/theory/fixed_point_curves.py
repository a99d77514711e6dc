"""Theory curves of the homogeneous fixed point for paper Fig 2 (rule fixed_point_theory),
as one long table, tables/fixed_point_theory.csv (tables.write_table, exact floats).

One row per fixed point: curve, N, J0, I0 and the FixedPoint fields (h_E, h_I, nu_E, nu_I,
x, residual). Curves:
- "N": vs N (N_POINTS sizes, log-spaced over N_range) at J0_cut and the model's I0, each
  solved on its own;
- "heat": the (I0, J0) grid (resolution x resolution) at N = heat_N, continuation in J0;
- "I0": vs I0 at J0_cut for the sizes of n_list(N_range), continuation in I0;
- "J0": vs J0 at I0_cut for the same sizes, continuation in J0;
- "limit": the N -> infinity balanced limit (one row, N empty).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stdnet.model.params import ModelParams
from stdnet.theory.meanfield import balanced_limit, fixed_point_branch, homogeneous_fixed_point

#: sizes of the curve vs N
N_POINTS = 60
#: points per axis of the (I0, J0) grid and of the I0 / J0 cuts
RESOLUTION = 41


def n_list(N_range) -> list[int]:
    """The four sizes of the I0 and J0 cuts: log-spaced over N_range."""
    lo, hi = np.log10(N_range[0]), np.log10(N_range[1])
    return [int(round(10 ** e)) for e in np.linspace(lo, hi, 4)]


def n_curve(N_range) -> list[int]:
    """The sizes of the curve vs N: N_POINTS log-spaced over N_range (distinct integers)."""
    return [int(n) for n in np.unique(np.geomspace(N_range[0], N_range[1], N_POINTS).astype(int))]


def theory_sizes(N_range) -> list[int]:
    """Every N the table solves at besides heat_N (the config check builds the model at
    each: a small N may leave a population without inputs)."""
    return sorted(set(n_curve(N_range)) | set(n_list(N_range)))


def _rows(curve: str, params: ModelParams, key: str, values, fps) -> list[dict]:
    return [{"curve": curve, "N": params.N, "J0": params.J0, "I0": params.I0, key: v,
             **fp.to_dict()} for v, fp in zip(values, fps)]


def fixed_point_theory(base: ModelParams, *, N_range, J0_cut: float, I0_cut: float, I0_range,
                       J0_range, heat_N: int, resolution: int = RESOLUTION) -> pd.DataFrame:
    """The table of the module docstring (base: the model constants; its N and J0 unused)."""
    rows = []
    for n in n_curve(N_range):
        p = base.replace(N=n, J0=J0_cut)
        rows += _rows("N", p, "N", [p.N], [homogeneous_fixed_point(p)])
    I0s = np.linspace(*I0_range, resolution)
    J0s = np.linspace(*J0_range, resolution)
    for I0 in I0s:
        p = base.replace(N=int(heat_N), I0=float(I0))
        rows += _rows("heat", p, "J0", J0s, fixed_point_branch(p, J0s))
    for n in n_list(N_range):
        p = base.replace(N=n, J0=J0_cut)
        rows += _rows("I0", p, "I0", I0s, fixed_point_branch(p, I0s, key="I0"))
    for n in n_list(N_range):
        p = base.replace(N=n, I0=I0_cut)
        rows += _rows("J0", p, "J0", J0s, fixed_point_branch(p, J0s))
    rows.append({"curve": "limit", "N": None, "J0": np.nan, "I0": np.nan,
                 **balanced_limit(base).to_dict()})
    table = pd.DataFrame(rows)
    table["N"] = table["N"].astype("Int64")
    return table
