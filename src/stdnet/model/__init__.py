"""The model: its parameters, transfer functions, random streams and connectivity.

The package's modules are imported by name (``from stdnet.model import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "network",
    "params",
    "seeding",
    "transfer",
]
