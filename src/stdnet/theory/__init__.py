"""Analytic results without simulation: the homogeneous fixed point, its modes, the bulk spectrum.

The package's modules are imported by name (``from stdnet.theory import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "bulk",
    "fixed_point_curves",
    "homogeneous",
    "meanfield",
]
