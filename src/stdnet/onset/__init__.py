"""The onset stage (workflow/rules/onset.smk): J_ch of one realization, by bisection and zero crossing.

The package's modules are imported by name (``from stdnet.onset import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "estimate",
    "search",
    "synthetic",
]
