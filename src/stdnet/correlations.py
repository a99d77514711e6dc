"""Pairwise input correlations of a simulated network, split into E and I parts.

The simulation files keep only the filtered inputs h; the cancellation argument
(docs/dmf.md, section 5) is about the synaptic input itself,

    eta_i(t) = Jc g_aE sum_{j in E} a_ij s^a_j  -  Jc g_aI sum_{j in I} a_ij nu_j
             =            E_i(t)               +            I_i(t),

so we continue a run from its final state and, at every sample, gather E_i and
I_i (I_i <= 0) for a random sample of neurons (numba, the same index rows as the
integrator), together with their h and the population-averaged rates.
Statistics per target population: the mean over pairs i != j of the temporal
covariance and of the correlation coefficient of E, I and E + I, the E-I cross
covariance, and the variance of the population-averaged rates.
"""
from __future__ import annotations

import logging
import time

import numpy as np
from numba import njit

from .params import ModelParams, RunParams
from .seeding import rng as seeded_rng
from .simulate import Simulator
from .transfer import phi_scalar

log = logging.getLogger("stdnet.correlations")

COMPONENTS = ("E", "I", "total")


@njit(cache=True)
def input_parts(y, idx, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II, nu, s,
                out_E, out_I):
    """E part (>= 0) and I part (<= 0) of the synaptic input of neurons `idx`.

    `nu` (N) and `s` (N_E) are scratch arrays; E rows see s_j = x_j nu_j from E
    neurons, I rows plain nu_j, exactly as integrate.vector_field.
    """
    N = pre_E.shape[0]
    for j in range(N):
        nu[j] = phi_scalar(code, y[j])
    for j in range(N_E):
        s[j] = y[N + j] * nu[j]
    for k in range(idx.shape[0]):
        i = idx[k]
        exc = 0.0
        inh = 0.0
        if i < N_E:
            for m in range(pre_E.shape[1]):
                exc += s[pre_E[i, m]]
            gE, gI = g_EE, g_EI
        else:
            for m in range(pre_E.shape[1]):
                exc += nu[pre_E[i, m]]
            gE, gI = g_IE, g_II
        for m in range(pre_I.shape[1]):
            inh += nu[N_E + pre_I[i, m]]
        out_E[k] = Jc * gE * exc
        out_I[k] = -Jc * gI * inh


def sample_neurons(params: ModelParams, n_sample: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random sample of E and I neuron indices (global), sorted."""
    r = seeded_rng(seed, "dmf")
    nE = min(n_sample, params.N_E)
    nI = min(n_sample, params.N_I)
    idx_E = np.sort(r.choice(params.N_E, nE, replace=False))
    idx_I = params.N_E + np.sort(r.choice(params.N_I, nI, replace=False))
    return idx_E, idx_I


def record_inputs(params: ModelParams, y0, seed: int, simulation: dict, *,
                  t_measure: float, sample_interval: float, n_sample: int,
                  progress_every_s: float = 10.0) -> dict:
    """Continue from y0 for t_measure (stdnet.simulate.Simulator with the
    simulation section's integrator settings) and record the sampled neurons'
    E and I input parts, their h, and the population-averaged rates."""
    if not t_measure > 0:
        raise ValueError(f"t_measure: invalid value {t_measure!r}; allowed: a number > 0")
    cfg = {**simulation, "t_transient": 0.0, "t_record": float(t_measure),
           "record_interval": float(sample_interval), "n_record": 0, "perturbation": 0.0,
           "checkpoint_interval": 0.0}
    try:
        run = RunParams.from_config(cfg)
    except ValueError as e:
        raise ValueError(f"dmf.correlations: {e}") from None
    sim = Simulator(params, run, seed, y0=np.asarray(y0, dtype=float))
    net = sim.net
    spr = run.steps_per_record
    n_t = run.n_samples
    idx_E, idx_I = sample_neurons(params, n_sample, seed)
    idx = np.concatenate([idx_E, idx_I]).astype(np.int64)
    E = np.empty((n_t, idx.size))
    I = np.empty((n_t, idx.size))
    h = np.empty((n_t, idx.size))
    pop = np.empty((n_t, 3))  # population means of nu_E, nu_I, x
    nu = np.empty(params.N)
    s = np.empty(params.N_E)
    code = params.transfer_code
    t0 = last = time.perf_counter()
    for k in range(n_t):
        sim.advance_to((k + 1) * spr, progress_every_s=1e9)
        y = sim.state.y
        input_parts(y, idx, net.pre_E, net.pre_I, params.N_E, code, params.coupling,
                    params.g_EE, params.g_EI, params.g_IE, params.g_II, nu, s, E[k], I[k])
        h[k] = y[idx]
        pop[k] = (nu[: params.N_E].mean(), nu[params.N_E:].mean(), y[params.N:].mean())
        now = time.perf_counter()
        if now - last >= progress_every_s:
            last = now
            log.info("sample %d/%d, t = %.1f/%.1f tau, ETA %.0f s", k + 1, n_t,
                     (k + 1) * sample_interval, t_measure, (now - t0) / (k + 1) * (n_t - k - 1))
    return {"time": np.arange(1, n_t + 1) * run.record_interval, "index": idx,
            "n_E": np.int64(idx_E.size), "E": E, "I": I, "h": h, "pop_nu_E": pop[:, 0],
            "pop_nu_I": pop[:, 1], "pop_x": pop[:, 2], "final_y": sim.state.y.copy()}


def pair_statistics(X: np.ndarray) -> dict:
    """Mean variance, mean pairwise covariance and correlation coefficient (i != j)
    of the columns of X (time x neurons), about each column's temporal mean."""
    n_t, n = X.shape
    Xc = X - X.mean(axis=0)
    cov = Xc.T @ Xc / (n_t - 1)
    var = np.diag(cov).copy()
    off = ~np.eye(n, dtype=bool)
    sd = np.sqrt(np.maximum(var, 1e-300))
    corr = cov / np.outer(sd, sd)
    return {"var": float(var.mean()), "cov": float(cov[off].mean()),
            "corr": float(corr[off].mean())}


def cross_covariance(X: np.ndarray, Y: np.ndarray) -> dict:
    """Mean covariance of X_i with Y_j over pairs i != j, and over i = j."""
    n_t, n = X.shape
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    c = Xc.T @ Yc / (n_t - 1)
    off = ~np.eye(n, dtype=bool)
    return {"pairs": float(c[off].mean()), "same": float(np.diag(c).mean())}


def input_autocovariance(h: np.ndarray, n_lags: int) -> tuple[np.ndarray, np.ndarray]:
    """(temporal, full) autocovariance of the inputs h (time x neurons), averaged
    over neurons: temporal about each neuron's own mean (decays to 0), full about
    the grand mean (keeps the static, quenched part, like the DMF's Delta)."""
    from .gaussian_paths import ensemble_autocovariance

    temporal = ensemble_autocovariance(h.T, n_lags, mean=h.mean(axis=0)[:, None])
    full = ensemble_autocovariance(h.T, n_lags, mean=h.mean())
    return temporal, full


def analyse(rec: dict) -> dict:
    """All statistics of one recording, per target population (flat dict)."""
    out = {}
    nE = int(rec["n_E"])
    for pop, sl in (("E", slice(0, nE)), ("I", slice(nE, None))):
        E, I = rec["E"][:, sl], rec["I"][:, sl]
        parts = {"E": E, "I": I, "total": E + I}
        for comp, X in parts.items():
            for k, v in pair_statistics(X).items():
                out[f"{pop}.{comp}.{k}"] = v
        cc = cross_covariance(E, I)
        out[f"{pop}.EI.cov"] = cc["pairs"]
        out[f"{pop}.EI.cov_same"] = cc["same"]
        out[f"{pop}.n"] = E.shape[1]
    out["var_pop_nu_E"] = float(np.var(rec["pop_nu_E"], ddof=1))
    out["var_pop_nu_I"] = float(np.var(rec["pop_nu_I"], ddof=1))
    out["n_samples"] = int(rec["E"].shape[0])
    return out


# ---------------------------------------------------------------------------
# files and scaling fits
# ---------------------------------------------------------------------------
def write_inputs(path, rec: dict, stats: dict, params: ModelParams, seed: int, settings: dict,
                 n_lags: int, dt_sample: float, wall_time_s: float) -> None:
    """Recording, statistics and input autocovariances of one run (HDF5, atomic)."""
    from . import io

    nE = int(rec["n_E"])
    with io.atomic_h5(path) as f:
        io.write_attrs(f.create_group("params"), {**params.to_dict(), "seed": int(seed),
                                                  "K_E": params.K_E, "K_I": params.K_I})
        io.write_attrs(f.create_group("settings"), settings)
        meta = io.provenance()
        meta["wall_time_s"] = float(wall_time_s)
        io.write_attrs(f.create_group("meta"), meta)
        io.write_attrs(f.create_group("stats"), stats)
        io.write_datasets(f.create_group("recording"),
                          {k: rec[k] for k in ("time", "index", "n_E", "E", "I", "h",
                                               "pop_nu_E", "pop_nu_I", "pop_x")})
        g = f.create_group("autocov")
        g["lags"] = np.arange(n_lags) * dt_sample
        for pop, sl in (("E", slice(0, nE)), ("I", slice(nE, None))):
            temporal, full = input_autocovariance(rec["h"][:, sl], n_lags)
            g[f"{pop}_temporal"] = temporal
            g[f"{pop}_full"] = full


def read_inputs(path) -> dict:
    import h5py

    from . import io

    with h5py.File(path, "r") as f:
        out = io.read_group(f)
        for grp in ("params", "settings", "stats", "meta"):
            out[grp] = io.read_attrs(f[grp])
    return out


def power_law_fit(N, values) -> dict:
    """Least-squares fit log|v| = a + b log N over all (N, value) pairs.

    Returns exponent b with its standard error (nan with fewer than 3 points),
    prefactor e^a, and the sign of the values (+1, -1, or 0 if mixed)."""
    N = np.asarray(N, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (v != 0)
    N, v = N[ok], v[ok]
    sign = int(np.sign(v[0])) if v.size and np.all(np.sign(v) == np.sign(v[0])) else 0
    if v.size < 2 or np.unique(N).size < 2:
        return {"exponent": np.nan, "stderr": np.nan, "prefactor": np.nan, "sign": sign,
                "n_points": int(v.size)}
    x, y = np.log(N), np.log(np.abs(v))
    A = np.vstack([np.ones_like(x), x]).T
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    se = np.nan
    if v.size > 2:
        resid = y - A @ coef
        s2 = resid @ resid / (v.size - 2)
        se = float(np.sqrt(s2 * np.linalg.inv(A.T @ A)[1, 1]))
    return {"exponent": float(coef[1]), "stderr": se, "prefactor": float(np.exp(coef[0])),
            "sign": sign, "n_points": int(v.size)}


def simulation_observables(sim: dict) -> dict:
    """Per population: mean rate, mean input, input variance (temporal + static =
    the DMF's Delta(0)), its temporal and static parts, from a simulation file."""
    n = sim["neurons"]
    N_E = int(sim["params"]["N_E"])
    out = {}
    for pop, sl in (("E", slice(0, N_E)), ("I", slice(N_E, None))):
        hm, hv = n["h_mean"][sl], n["h_var"][sl]
        out[f"nu_{pop}"] = float(n["nu_mean"][sl].mean())
        out[f"mu_{pop}"] = float(hm.mean())
        out[f"var_temporal_{pop}"] = float(hv.mean())
        out[f"var_static_{pop}"] = float(hm.var())
        out[f"var_{pop}"] = float(hv.mean() + hm.var())
    out["x"] = float(n["x_mean"].mean())
    return out


def recorded_decorrelation_times(sim: dict, max_lag: float) -> dict:
    """Decorrelation time (docs/dmf.md) per population from the recorded h traces
    after the transient (a few neurons; nan where they do not fluctuate)."""
    from .dmf import decorrelation_time

    t = sim["time"]
    keep = t >= sim["t_transient"]
    h = sim["recorded"]["h"][keep]
    idx = sim["recorded"]["index"]
    N_E = int(sim["params"]["N_E"])
    dt = float(t[1] - t[0])
    n_lags = min(int(round(max_lag / dt)) + 1, h.shape[0] // 2)
    out = {}
    for pop, sel in (("E", idx < N_E), ("I", idx >= N_E)):
        if not sel.any() or n_lags < 3:
            out[f"tau_dec_{pop}"] = np.nan
            continue
        temporal, _ = input_autocovariance(h[:, sel], n_lags)
        out[f"tau_dec_{pop}"] = decorrelation_time(np.arange(n_lags) * dt, temporal)
    return out
