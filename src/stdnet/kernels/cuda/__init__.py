"""The CUDA backend (numba-cuda): index layout, kernels, device query, run engine.

The package's modules are imported by name (``from stdnet.kernels.cuda import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "device",
    "engine",
    "kernels",
    "layout",
]
