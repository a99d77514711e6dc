"""Linear stability of the homogeneous fixed point against homogeneous perturbations
(docs/model.md, section 3): the 3x3 Jacobian of the population equations in
(h_E, h_I, x) and its eigenvalues (paper Fig 3).

The rest of the stability stage lives in modules of its own:

- stdnet.stability.scan: these eigenvalues over (N, J0[, I0]) grids, as tables;
- stdnet.stability.jfp (dense solvers) and stdnet.stability.jfp_matrix_free: J_FP, where one realization's
  homogeneous fixed point loses stability to heterogeneous perturbations;
- stdnet.stability.eigenfile: the HDF5 files of eigenvalue results and the tables made from them;
- stdnet.stability.edge_check: rightmost eigenvalues at fixed J0 against the bulk theory;
- stdnet.stability.runs: short simulations from the kicked homogeneous state, and the
  stationary heterogeneous states they settle on;
- stdnet.stability.routes, stdnet.stability.hetfp: the data of paper Fig 8 (routes out of the fixed point,
  heterogeneous fixed point vs the Gaussian theory) and their files.
"""
from __future__ import annotations

import numpy as np

from stdnet.model.params import ModelParams
from stdnet.model.transfer import dphi
from stdnet.theory.meanfield import FixedPoint, homogeneous_fixed_point


def homogeneous_jacobian(params: ModelParams, fp: FixedPoint | None = None) -> np.ndarray:
    """The 3x3 Jacobian of the population equations in (h_E, h_I, x) at the fixed point."""
    p = params
    if fp is None:
        fp = homogeneous_fixed_point(p)
    G, gam = p.G, p.gamma
    dE = dphi(p.transfer, fp.h_E)
    dI = dphi(p.transfer, fp.h_I)
    return np.array([
        [(-1.0 + G * p.g_EE * fp.x * dE) / p.tau_E, -G * gam * p.g_EI * dI / p.tau_E,
         G * p.g_EE * fp.nu_E / p.tau_E],
        [G * p.g_IE * dE / p.tau_I, (-1.0 - G * gam * p.g_II * dI) / p.tau_I, 0.0],
        [-p.u * fp.x * dE, 0.0, -1.0 / p.tau_D - p.u * fp.nu_E],
    ])


def homogeneous_eigenvalues(params: ModelParams, fp: FixedPoint | None = None) -> np.ndarray:
    """Eigenvalues of the 3x3 homogeneous-mode Jacobian, sorted by decreasing real part."""
    ev = np.linalg.eigvals(homogeneous_jacobian(params, fp))
    return ev[np.argsort(-ev.real)]
