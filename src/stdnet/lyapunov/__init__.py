"""The Lyapunov stage (workflow/rules/lyapunov.smk): exponents by QR, the tangent steps, the chaos decision.

The package's modules are imported by name (``from stdnet.lyapunov import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "attractor",
    "checkpoint",
    "decision",
    "files",
    "qr",
    "run",
    "sequential",
    "spectrum",
    "tangent",
]
