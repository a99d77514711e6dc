"""The correlations stage (workflow/rules/correlations.smk): recorded inputs, covariance cancellation, asynchrony.

The package's modules are imported by name (``from stdnet.correlations import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "asynchrony",
    "cancellation",
    "recording",
    "stage",
]
