"""Short simulations from the kicked homogeneous state, for the stability stage: the
activity just above J_FP (stdnet.stability.routes) and the zero-frequency route, runs that settle
on a stationary heterogeneous state, polished by Newton and compared with the Gaussian
theory (stdnet.theory.meanfield; stdnet.stability.hetfp).
"""
from __future__ import annotations

import logging

import numpy as np

from stdnet.kernels.cpu import network_vector_field
from stdnet.model.params import ModelParams, RunParams
from stdnet.simulation.simulate import Simulator
from stdnet.stability.spectrum import jacobian_blocks, polish_fixed_point, rightmost_eigenvalues
from stdnet.theory.meanfield import GAUSS_NODES, heterogeneous_fixed_point

log = logging.getLogger("stdnet.stability.runs")


def short_run_params(t_sim: float, dt: float, method: str = RunParams.method,
                     perturbation: float = RunParams.perturbation,
                     n_record: int = RunParams.n_record, record_every: float = 1.0) -> RunParams:
    """The RunParams of a short run of t_sim (tau), recorded about every record_every;
    ValueError from RunParams where they cannot run (the config check builds them too)."""
    rec = dt * max(1, int(round(record_every / dt)))
    n_rec = max(1, int(np.ceil(t_sim / rec)))
    return RunParams(dt=dt, t_transient=0.0, t_record=n_rec * rec, record_interval=rec,
                     n_record=n_record, perturbation=perturbation, method=method)


def short_run(params: ModelParams, seed: int, t_sim: float, dt: float = RunParams.dt,
              perturbation: float = RunParams.perturbation, n_record: int = RunParams.n_record,
              record_every: float = 1.0, network=None, method: str = RunParams.method):
    """A Simulator run of t_sim (tau) from the kicked homogeneous state; returns the
    finished Simulator (its .y is the end state, .result() the traces)."""
    run = short_run_params(t_sim, dt, method, perturbation, n_record, record_every)
    sim = Simulator(params, run, seed, network=network)
    sim.advance_to(run.total_steps)
    return sim


def settle_heterogeneous(params: ModelParams, seed: int, t_sim: float,
                         dt: float = RunParams.dt, settle_tol: float = 1e-3,
                         perturbation: float = RunParams.perturbation,
                         n_nodes: int = GAUSS_NODES, method: str = RunParams.method) -> dict:
    """Simulate one realization; if it has settled (max |F| < settle_tol) polish the end
    state to a fixed point by Newton, and compare its input statistics with the Gaussian
    theory. Returns {"y": state, "summary": {...}} (summary values are nan when unsettled).
    """
    p = params
    sim = short_run(p, seed, t_sim, dt=dt, perturbation=perturbation, method=method)
    y = sim.y.copy()
    F_end = float(np.max(np.abs(network_vector_field(p, sim.net, y))))
    s = {"t_sim": float(t_sim), "F_end": F_end, "settled": False, "residual": np.nan,
         "heterogeneous": False}
    if F_end < settle_tol:
        try:
            y_fp, res = polish_fixed_point(p, sim.net, y)
            move = float(np.max(np.abs(y_fp - y)))
            # settled: Newton lands next to where the run ended (not on another branch):
            # within a fifth of the across-neuron spread of the inputs (at least 0.1)
            if move < max(0.1, 0.2 * float(np.std(y[: p.N]))):
                y = y_fp
                s.update(settled=True, residual=res)
            else:
                log.warning("Newton moved the end state by %.3g: not settled", move)
        except RuntimeError as err:
            log.warning("%s", err)
    N, N_E = p.N, p.N_E
    h, x = y[:N], y[N:]
    s.update(mu_E=float(h[:N_E].mean()), sigma_E=float(h[:N_E].std()),
             mu_I=float(h[N_E:].mean()), sigma_I=float(h[N_E:].std()),
             x_mean=float(x.mean()), x_sd=float(x.std()))
    s["heterogeneous"] = bool(s["settled"] and s["sigma_E"] > 1e-6)
    lam = np.nan + 0j
    if s["settled"]:
        lam = rightmost_eigenvalues(jacobian_blocks(p, sim.net, y))[0]
    s.update(lam_re=float(lam.real), lam_im=float(abs(lam.imag)))
    try:
        th = heterogeneous_fixed_point(p, n_nodes=n_nodes)
        s.update(theory_mu_E=th.mu_E, theory_sigma_E=th.sigma_E, theory_mu_I=th.mu_I,
                 theory_sigma_I=th.sigma_I)
    except RuntimeError:
        s.update(theory_mu_E=np.nan, theory_sigma_E=np.nan, theory_mu_I=np.nan,
                 theory_sigma_I=np.nan)
    s["heterogeneous"] = bool(s["heterogeneous"] and s["lam_re"] < 0)  # a stable het. FP
    return {"y": y, "summary": s}
