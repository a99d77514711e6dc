"""Linear stability of the homogeneous fixed point (shared MODEL.md section 3)."""
from __future__ import annotations

import numpy as np

from .meanfield import FixedPoint, homogeneous_fixed_point
from .params import ModelParams
from .transfer import dphi


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


def homogeneous_eigenvalues(params: ModelParams) -> np.ndarray:
    """Eigenvalues of the 3x3 homogeneous-mode Jacobian, sorted by decreasing real part."""
    ev = np.linalg.eigvals(homogeneous_jacobian(params))
    return ev[np.argsort(-ev.real)]
