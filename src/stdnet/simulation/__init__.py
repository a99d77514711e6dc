"""The simulation stage (workflow/rules/simulation.smk): one trajectory per point, its summary.

The package's modules are imported by name (``from stdnet.simulation import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "simulate",
    "summary",
]
