"""One row of numbers per simulation: rates, variances, synchrony, settling.

Definitions (all after the transient, from the per-neuron running statistics):
- temporal variance of a population: the mean over its neurons of each neuron's
  variance over time;
- spatial variance: the variance over neurons of the time-averaged values;
- chi (synchrony): sd over time of the population-mean rate divided by the rms
  single-neuron temporal sd of the rate; ~1 for synchrony, ~1/sqrt(N) for
  asynchronous activity;
- settled_homogeneous: the final state lies within `fp_tolerance` (max norm on h
  and x) of the homogeneous fixed point of the same finite network.
"""
from __future__ import annotations

import math

import numpy as np

from stdnet.model.params import ModelParams
from stdnet.theory.meanfield import homogeneous_fixed_point


def params_from_file(sim: dict) -> ModelParams:
    return ModelParams.from_attrs(sim["params"])


def synchrony_chi(pop_mean, single_var: float) -> float:
    """chi = sd over time of a population-mean signal / rms single-neuron temporal sd, with
    single_var the mean over the neurons of each one's temporal variance (NaN where the
    neurons do not fluctuate)."""
    single_sd = math.sqrt(single_var) if single_var > 0 else 0.0
    pop_sd = float(np.std(pop_mean))
    return float(pop_sd / single_sd) if single_sd > 0 else float("nan")


def summarise_simulation(sim: dict, fp_tolerance: float = 1e-6) -> dict:
    """Summary numbers of one simulation (as returned by simulate.read_simulation)."""
    params = params_from_file(sim)
    N, N_E = params.N, params.N_E
    neu = sim["neurons"]
    time = sim["time"]
    after = time >= sim["t_transient"] - 1e-9
    pop = sim["population"]
    row = {"N": N, "J0": params.J0, "seed": int(sim["params"]["seed"]), "I0": params.I0}
    for name, sl in (("E", slice(0, N_E)), ("I", slice(N_E, N))):
        row[f"nu_{name}"] = float(neu["nu_mean"][sl].mean())
        row[f"h_{name}"] = float(neu["h_mean"][sl].mean())
        row[f"h_{name}_var_temporal"] = float(neu["h_var"][sl].mean())
        row[f"h_{name}_var_spatial"] = float(neu["h_mean"][sl].var())
        row[f"nu_{name}_var_temporal"] = float(neu["nu_var"][sl].mean())
        row[f"nu_{name}_var_spatial"] = float(neu["nu_mean"][sl].var())
    row["x"] = float(neu["x_mean"].mean())
    row["x_var_spatial"] = float(neu["x_mean"].var())
    row["chi_E"] = synchrony_chi(pop["nu_E"][after], neu["nu_var"][:N_E].mean())
    fp = homogeneous_fixed_point(params)
    y = sim["final"]["y"]
    deviation = float(np.max(np.abs(y - fp.state(params))))
    row["fp_nu_E"], row["fp_nu_I"], row["fp_x"] = fp.nu_E, fp.nu_I, fp.x
    row["final_deviation_from_fp"] = deviation
    row["settled_homogeneous"] = bool(deviation < fp_tolerance)
    row["wall_time_s"] = float(sim["meta"].get("wall_time_s", float("nan")))
    return row
