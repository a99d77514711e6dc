"""stdnet: balanced E/I rate networks with short-term synaptic depression.

Reference implementation of the model of Angulo-Garcia & Torcini (PLOS Comput.
Biol. 2026): simulation, linear stability, Lyapunov exponents, regimes and the
dynamical mean-field theory of Rate Chaos.
"""
from stdnet.model.params import ModelParams, RunParams

__all__ = ["ModelParams", "RunParams"]
__version__ = "0.2.0"
