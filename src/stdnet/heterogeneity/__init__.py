"""The heterogeneity stage (workflow/rules/heterogeneity.smk): network ensembles beyond fixed
in-degree measured against the stationary theory of quenched heterogeneity
(docs/heterogeneity.md).

The package's modules are imported by name (``from stdnet.heterogeneity import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "branch",
    "measure",
    "point",
    "settings",
    "stage",
]
