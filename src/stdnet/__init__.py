"""stdnet: balanced E/I rate networks with short-term synaptic depression.

Reference implementation of the model of Angulo-Garcia & Torcini (PLOS Comput.
Biol. 2026): simulation, linear stability, Lyapunov exponents, regimes and the
dynamical mean-field theory of Rate Chaos. `stdnet.open_results(results_dir)` opens the
per-run summaries of a results folder as one xarray.Dataset
(stdnet.workflow.results_dataset).
"""
import importlib

from stdnet.model.params import ModelParams, RunParams

__all__ = ["ModelParams", "RunParams", "open_results"]
__version__ = "0.2.0"

#: names loaded on first use, so that `import stdnet` stays light (no xarray, no pandas)
_LAZY = {"open_results": "stdnet.workflow.results_dataset"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stdnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
