"""The stability stage (workflow/rules/stability.smk): Jacobian spectra, J_FP, routes, heterogeneous fixed point.

The package's modules are imported by name (``from stdnet.stability import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "edge_check",
    "edge_spectrum",
    "eigenfile",
    "hetfp",
    "jfp",
    "jfp_matrix_free",
    "jfp_result",
    "routes",
    "runs",
    "scan",
    "spectrum",
]
