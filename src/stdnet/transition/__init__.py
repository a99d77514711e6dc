"""The transition stage (workflow/rules/transition.smk): regimes, the width w = J_ch - J_FP and its fits vs N.

The package's modules are imported by name (``from stdnet.transition import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "regimes",
    "stage",
    "width",
    "width_models",
    "width_power",
]
