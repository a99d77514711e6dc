"""Glue of the Snakemake workflow: config, the sweep plan, checks before work, recovery, cost model, job accounting.

The package's modules are imported by name (``from stdnet.workflow import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "benchmarks",
    "calibration",
    "compare",
    "config",
    "costmodel",
    "ownership",
    "plan",
    "preflight",
    "recovery",
    "runtime",
    "status",
]
