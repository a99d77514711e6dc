"""Across-neuron statistics of one state, measured and predicted alike: population rates, the
quenched input variance, the near-silent fraction and the rate quantiles."""
from __future__ import annotations

import numpy as np

from stdnet.model.params import ModelParams
from stdnet.theory.quenched import QuenchedState, QuenchedTheory, moments_of

#: the rate distribution is kept as these quantiles (the figures' CDFs)
QUANTILE_PROBS = np.round(np.linspace(0.01, 0.99, 99), 2)
POPULATIONS = ("E", "I")


def population_rows(params: ModelParams, a: str) -> slice:
    return slice(0, params.N_E) if a == "E" else slice(params.N_E, params.N)


def measured_stats(params: ModelParams, h: np.ndarray, nu: np.ndarray, silent_rate: float
                   ) -> dict:
    """Per population a: nu_a (mean rate), mean_h_a, var_h_a (variance across neurons of h,
    the quenched input variance when h is a stationary or time-averaged input) and
    silent_a (fraction of neurons whose rate is below silent_rate)."""
    out = {}
    for a in POPULATIONS:
        rows = population_rows(params, a)
        out[f"nu_{a}"] = float(np.mean(nu[rows]))
        out[f"mean_h_{a}"] = float(np.mean(h[rows]))
        out[f"var_h_{a}"] = float(np.var(h[rows]))
        out[f"silent_{a}"] = float(np.mean(nu[rows] < silent_rate))
    return out


def measured_quantiles(params: ModelParams, nu: np.ndarray) -> dict:
    """The rate quantiles (QUANTILE_PROBS) of each population."""
    return {a: np.quantile(nu[population_rows(params, a)], QUANTILE_PROBS)
            for a in POPULATIONS}


def predicted_stats(theory: QuenchedTheory, state: QuenchedState, silent_rate: float) -> dict:
    """The same statistics from the stationary theory, plus the degree part of the input
    variance (var_h_degree_a)."""
    M = moments_of(state)
    out = {}
    for a in POPULATIONS:
        out[f"nu_{a}"] = getattr(state, f"nu_{a}")
        out[f"mean_h_{a}"] = getattr(state, f"mean_h_{a}")
        out[f"var_h_{a}"] = getattr(state, f"var_h_{a}")
        out[f"var_h_degree_{a}"] = getattr(state, f"var_h_degree_{a}")
        out[f"silent_{a}"] = theory.fraction_below(M, a, silent_rate)
    return out


def predicted_quantiles(theory: QuenchedTheory, state: QuenchedState) -> dict:
    M = moments_of(state)
    return {a: theory.rate_quantiles(M, a, QUANTILE_PROBS) for a in POPULATIONS}
