"""The numerical kernels of the network's vector field and integrators (CPU, reference, CUDA).

The package's modules are imported by name (``from stdnet.kernels import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "cpu",
    "etd4",
    "hardware",
    "reference",
    "tangent_block",
    "tangent_narrow",
    "cuda",
]
