"""`stdnet bench`: our kernels against the alternatives a user would write, timed in one run.

The package's modules are imported by name (``from stdnet.bench import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "command",
    "cuda",
    "kernels",
    "step",
    "timing",
]
