"""The DMF stage (workflow/rules/dmf.smk): dynamical mean field of the chaotic state and its comparison with simulations.

The package's modules are imported by name (``from stdnet.dmf import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "compare",
    "figdata",
    "files",
    "kernels",
    "points",
    "problem",
    "settings",
    "solver",
]
