"""One network of one ensemble (N, seed): its stationary state against the theory, its J_FP,
and its Rate Chaos (time averages, lambda_max) (rule heterogeneity_point).

File heterogeneity/<ensemble>/N~<N>/seed~<seed>/point.h5:
- /params: the ensemble's model at J0_stationary, the seed and the stage's settings;
- /stationary: attrs (measured statistics, theory_* from the realization's own in-degrees
  and STD constants, ensemble_* from the ensemble's distribution; converged, residual,
  lam_re, lam_im), datasets h, x (the state), q_E, q_I (rate quantiles) and theory_q_E,
  theory_q_I;
- /jfp: attrs of branch.find_jfp (J_FP nan where not searched or censored);
- /chaos: attrs (time-averaged statistics, lambda_max and its half width), datasets h_mean,
  nu_mean (per neuron), q_E, q_I.
"""
from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from stdnet.files.io import atomic_h5, open_h5, write_attrs, write_datasets, write_params
from stdnet.heterogeneity.branch import find_jfp, stationary_state
from stdnet.heterogeneity.measure import (
    measured_quantiles,
    measured_stats,
    predicted_quantiles,
    predicted_stats,
)
from stdnet.heterogeneity.settings import HeterogeneitySettings
from stdnet.lyapunov.run import LyapunovSettings, network_lyapunov
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.model.transfer import phi
from stdnet.simulation.simulate import simulate
from stdnet.theory.quenched import QuenchedTheory, realization

log = logging.getLogger("stdnet.heterogeneity.point")

#: recording interval of the chaotic runs (tau); only per-neuron averages are kept
RECORD_INTERVAL = 1.0
#: alignment of the tangent vector before lambda_max is averaged (tau)
LYAPUNOV_ALIGN = 20.0


def _theory(params: ModelParams, net, silent_rate: float) -> tuple[dict, dict]:
    """(statistics, quantiles) of the realization's theory, and the ensemble's statistics
    under 'ensemble_' keys."""
    th = QuenchedTheory(params, **realization(params, net))
    state = th.solve()
    stats = {f"theory_{k}": v for k, v in predicted_stats(th, state, silent_rate).items()}
    ens = QuenchedTheory(params)
    stats.update({f"ensemble_{k}": v for k, v in
                  predicted_stats(ens, ens.solve(), silent_rate).items()})
    return stats, predicted_quantiles(th, state)


def stationary_part(params: ModelParams, net, s: HeterogeneitySettings) -> dict:
    st = stationary_state(params, net, s.t_settle, s.dt)
    y = st["y"]
    h = y[:params.N]
    nu = phi(params.transfer, h)
    attrs = {"J0": params.J0, "converged": st["converged"], "residual": st["residual"],
             "lam_re": st["lam"].real, "lam_im": st["lam"].imag,
             "stable": bool(st["converged"] and st["lam"].real < 0),
             "x_E": float(np.mean(y[params.N:])),
             **measured_stats(params, h, nu, s.silent_rate)}
    theory, q_theory = _theory(params, net, s.silent_rate)
    attrs.update(theory)
    q = measured_quantiles(params, nu)
    arrays = {"h": h, "x": y[params.N:], "q_E": q["E"], "q_I": q["I"],
              "theory_q_E": q_theory["E"], "theory_q_I": q_theory["I"]}
    log.info("stationary J0=%g: converged=%s stable=%s nu_E=%.4f (theory %.4f) var_h_I=%.4f "
             "(theory %.4f)", params.J0, st["converged"], attrs["stable"], attrs["nu_E"],
             attrs["theory_nu_E"], attrs["var_h_I"], attrs["theory_var_h_I"])
    return {"attrs": attrs, "arrays": arrays, "y": y}


def jfp_part(params: ModelParams, net, stationary: dict, s: HeterogeneitySettings) -> dict:
    if params.N > s.jfp_N_max or not stationary["attrs"]["stable"]:
        why = "N above jfp.N_max" if params.N > s.jfp_N_max else "no stable stationary state"
        return {"J_FP": math.nan, "route": "not searched", "why": why}
    return find_jfp(params, net, stationary["y"], step=s.jfp_step, J0_max=s.jfp_J0_max,
                    tol=s.jfp_tol)


def chaos_part(params: ModelParams, net, seed: int, s: HeterogeneitySettings) -> dict:
    p = params.replace(J0=s.J0_chaos)
    run = RunParams(dt=s.dt, method="rk4", t_transient=s.t_transient, t_record=s.t_record,
                    record_interval=RECORD_INTERVAL, n_record=0)
    res = simulate(p, run, seed, network=net, progress_every_s=30.0)
    h_mean, nu_mean = res["neurons"]["h_mean"], res["neurons"]["nu_mean"]
    attrs = {"J0": p.J0, **measured_stats(p, h_mean, nu_mean, s.silent_rate),
             "x_E": float(np.mean(res["neurons"]["x_mean"])),
             "temporal_var_h_E": float(np.mean(res["neurons"]["h_var"][:p.N_E])),
             "temporal_var_h_I": float(np.mean(res["neurons"]["h_var"][p.N_E:]))}
    attrs["lambda_max"] = attrs["lambda_half_width"] = math.nan
    if s.lyapunov_t_average > 0:
        settings = LyapunovSettings(n_exponents=1, t_align=LYAPUNOV_ALIGN,
                                    t_average=s.lyapunov_t_average, max_extensions=0,
                                    dt=s.dt, method="rk4")
        lyap, _ = network_lyapunov(p, net, res["final"]["y"], settings, seed)
        attrs["lambda_max"] = float(lyap.exponents[0])
        attrs["lambda_half_width"] = float(lyap.half_width[0])
    q = measured_quantiles(p, nu_mean)
    return {"attrs": attrs, "arrays": {"h_mean": h_mean, "nu_mean": nu_mean, "q_E": q["E"],
                                       "q_I": q["I"]}}


def measure_point(params: ModelParams, seed: int, s: HeterogeneitySettings) -> dict:
    """Everything one job measures; params at J0_stationary."""
    net = build_network(params, seed)
    stationary = stationary_part(params, net, s)
    return {"stationary": stationary, "jfp": jfp_part(params, net, stationary, s),
            "chaos": chaos_part(params, net, seed, s),
            "degrees": {"K_E_mean": float(net.in_degree_E.mean()),
                        "K_E_cv": float(net.in_degree_E.std() / net.in_degree_E.mean()),
                        "K_I_mean": float(net.in_degree_I.mean()),
                        "K_I_cv": float(net.in_degree_I.std() / net.in_degree_I.mean()),
                        "K_EI_corr": _corr(net.in_degree_E, net.in_degree_I),
                        "zero_indegree": int(np.sum((net.in_degree_E == 0)
                                                    | (net.in_degree_I == 0)))}}


def _corr(a, b) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def write_point(path, result: dict, params: ModelParams, seed: int, ensemble: str,
                s: HeterogeneitySettings) -> None:
    with atomic_h5(path) as f:
        write_params(f, params, seed, ensemble=ensemble,
                     **{f"settings.{k}": v for k, v in dataclasses.asdict(s).items()})
        st = f.create_group("stationary")
        write_attrs(st, result["stationary"]["attrs"])
        write_datasets(st, result["stationary"]["arrays"])
        write_attrs(f.create_group("jfp"), result["jfp"])
        ch = f.create_group("chaos")
        write_attrs(ch, result["chaos"]["attrs"])
        write_datasets(ch, result["chaos"]["arrays"])
        write_attrs(f.create_group("degrees"), result["degrees"])


def read_point(path) -> dict:
    """The file's groups as {params, stationary, jfp, chaos, degrees}: attrs as dicts, the
    datasets under 'arrays'."""
    out = {}
    with open_h5(path, kind="heterogeneity point file") as f:
        out["params"] = dict(f["params"].attrs)
        for g in ("stationary", "jfp", "chaos", "degrees"):
            out[g] = {k: (v.item() if hasattr(v, "item") else v) for k, v in f[g].attrs.items()}
            out[g]["arrays"] = {k: f[g][k][()] for k in f[g].keys()}
    return out
