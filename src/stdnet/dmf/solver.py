"""Dynamical mean field (DMF) of the chaotic state, solved by damped iteration.

Each neuron of population a sees a Gaussian input h = mu_a + eta(t) whose
autocovariance Delta_a(t) is set self-consistently by the autocovariances of the
presynaptic signals (nu, and x*nu for depressed E->E synapses); the means mu_a
are fixed by balance (N -> inf) or by the finite-K mean equation. Derivation and
the switchable finite-K corrections: docs/dmf.md.

One iteration (all noise frozen, so the iteration is a deterministic map):
 1. sample M input paths per population from the current Delta_a by circulant
    embedding (stdnet.stats.gaussian_paths), plus a static offset sqrt(q_a) z;
 2. solve the mean equations for mu (Newton with the exact path derivatives);
 3. integrate the depression x along each path (numba, exponential integrator),
    measure the signals' autocovariances, combine them into the input-noise
    autocovariance Delta^xi_a, low-pass it through the membrane filter
    1 / (1 + (omega tau_a)^2) to get the new Delta_a;
 4. damp: Delta <- Delta + damping (Delta_new - Delta); the residual is
    max |Delta_new - Delta| / max(Delta(0), floor), with the change of mu.

This module is the solver and the public face of the DMF: it re-exports what a caller
needs to set up a solve (the problem: stdnet.dmf.problem; the settings:
stdnet.dmf.settings). The numba kernels are in stdnet.dmf.kernels, the solution file
(write_dmf, read_dmf) in stdnet.dmf.files.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import root

from stdnet.dmf.kernels import unit_means, unit_traces
from stdnet.dmf.problem import MEAN_MODES, NU, XNU, DMFProblem, network_problem, scs_problem
from stdnet.dmf.settings import (
    MAX_LAG_PER_TAU_D,
    DMFSettings,
    resolve_solver_config,
    solver_config_problems,
)
from stdnet.files.progress import ProgressMeter
from stdnet.model.seeding import rng as seeded_rng
from stdnet.stats import decorrelation_time
from stdnet.stats.gaussian_paths import (
    Spectrum,
    draw_noise,
    embedding_size,
    ensemble_autocovariance,
    paths_from_noise,
)

__all__ = ["MAX_LAG_PER_TAU_D", "MEAN_MODES", "NU", "XNU", "DMFProblem", "DMFResult",
           "DMFSettings", "membrane_filter", "network_problem", "resolve_solver_config",
           "scs_problem", "solve_dmf", "solver_config_problems"]

log = logging.getLogger("stdnet.dmf.solver")

_RESIDUAL_FLOOR = 1e-2  # Delta(0) below this is judged absolutely (no chaos: Delta -> 0)


# ---------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------
@dataclass
class DMFResult:
    names: tuple
    lags: np.ndarray  # (n_lags,) in tau
    delta: np.ndarray  # (n_pop, n_lags) input autocovariance incl. static part
    q: np.ndarray  # (n_pop,) static (quenched) part Delta(inf)
    delta_xi: np.ndarray  # (n_pop, n_lags) synaptic-noise autocovariance
    mu: np.ndarray  # (n_pop,)
    signal_means: np.ndarray  # (n_signals,)
    signal_acov: np.ndarray  # (n_signals, n_lags)
    x_mean: np.ndarray  # (n_pop,) mean efficacy (1 where not depressed)
    residuals: np.ndarray  # per iteration
    mu_history: np.ndarray  # (iterations, n_pop)
    delta0_history: np.ndarray  # (iterations, n_pop)
    converged: bool
    iterations: int
    wall_time_s: float
    clipped_fraction: float  # largest clipped embedding mass in the last iteration
    hist_h: list  # per pop (counts, edges) of h over paths and time
    hist_nu: list
    info: dict

    @property
    def delta0(self) -> np.ndarray:
        return self.delta[:, 0]

    def decorrelation_time(self) -> np.ndarray:
        return np.array([decorrelation_time(self.lags, d - q) for d, q in zip(self.delta, self.q)])


# ---------------------------------------------------------------------------
# the solver
# ---------------------------------------------------------------------------
def membrane_filter(d_xi, tau: float, dt: float) -> np.ndarray:
    """Autocovariance of h from that of the noise xi, tau dh/dt = -h + xi:
    S_h = S_xi / (1 + (omega tau)^2), on a circle long enough to hold both tails."""
    L = d_xi.size - 1
    P = embedding_size(4 * L, 4 * L)
    row = np.zeros(P)
    row[: L + 1] = d_xi
    row[P - L:] = d_xi[1:][::-1]
    S = np.fft.rfft(row).real
    omega = 2.0 * np.pi * np.fft.rfftfreq(P, d=dt)
    return np.fft.irfft(S / (1.0 + (omega * tau) ** 2), n=P)[: L + 1]


def _taper(n: int) -> np.ndarray:
    """1 on the first 3/4 of the lags, a half cosine to 0 on the last quarter."""
    w = np.ones(n)
    k0 = int(0.75 * (n - 1))
    m = n - k0
    w[k0:] = 0.5 * (1.0 + np.cos(np.pi * np.arange(m) / (m - 1)))
    return w


class _Sampler:
    """Frozen noise per population: the same white noise every iteration."""

    def __init__(self, prob: DMFProblem, st: DMFSettings):
        rng = seeded_rng(st.seed, "dmf")
        self.size = embedding_size(st.n_points, st.n_lags - 1)
        self.noise = [draw_noise(rng, st.n_paths, self.size) for _ in range(prob.n_pop)]
        self.static = [rng.standard_normal(st.n_paths) for _ in range(prob.n_pop)]
        self.st = st

    def fluctuations(self, a: int, d_h: np.ndarray, q: float) -> tuple[np.ndarray, float]:
        spec = Spectrum.from_acf(d_h, self.size)
        paths = paths_from_noise(spec, self.noise[a], self.st.n_points, self.st.n_paths)
        paths += math.sqrt(max(q, 0.0)) * self.static[a][:, None]
        return paths, spec.clipped_fraction


def _solve_means(prob: DMFProblem, st: DMFSettings, fluct: list, mu_start: np.ndarray):
    """mu solving the mean equations with the paths' fluctuations held fixed."""
    if prob.mean_mode == "fixed":
        return np.array(prob.mu0, dtype=float)
    kappa = 0.0 if prob.mean_mode == "balanced" else 1.0
    G = prob.G
    sig_pop = np.array([s[0] for s in prob.signals])
    sig_kind = np.array([s[1] for s in prob.signals])

    def fun(mu):
        stats = [unit_means(fluct[a], mu[a], prob.code, prob.u[a], prob.tau_D[a], st.dt,
                            st.n_burn) for a in range(prob.n_pop)]
        M = np.array([stats[p][0 if k == NU else 1] for p, k in zip(sig_pop, sig_kind)])
        dM = np.array([stats[p][2 if k == NU else 3] for p, k in zip(sig_pop, sig_kind)])
        F = kappa * (mu - prob.I0) / G - prob.bracket @ M
        J = np.zeros((prob.n_pop, prob.n_pop))
        for s in range(len(prob.signals)):
            J[:, sig_pop[s]] -= prob.bracket[:, s] * dM[s]
        J += kappa / G * np.eye(prob.n_pop)
        return F, J

    # Newton with the exact Jacobian and backtracking; scipy's hybr as a fallback
    mu = np.array(mu_start, dtype=float)
    F, J = fun(mu)
    for _ in range(30):
        if np.max(np.abs(F)) < 1e-10:
            return mu
        try:
            step = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            break
        lam = 1.0
        while lam > 1e-3:
            trial = mu + lam * step
            F_t, J_t = fun(trial)
            if np.all(np.isfinite(F_t)) and np.max(np.abs(F_t)) < np.max(np.abs(F)):
                break
            lam *= 0.5
        else:
            break
        mu, F, J = trial, F_t, J_t
    sol = root(fun, mu, jac=True, method="hybr", options={"xtol": 1e-12})
    F, _ = fun(sol.x)
    if not (np.all(np.isfinite(sol.x)) and np.max(np.abs(F)) < 1e-8):
        raise RuntimeError(f"DMF mean equations did not converge: mu = {sol.x}, residual "
                           f"{np.max(np.abs(F)):.3g} ({sol.message}); the balanced state may "
                           "not exist for these parameters")
    return sol.x


def _iterate_once(prob, st, sampler, d_h, q, mu):
    fluct, clipped = [], 0.0
    for a in range(prob.n_pop):
        f, c = sampler.fluctuations(a, d_h[a], q[a])
        fluct.append(f)
        clipped = max(clipped, c)
    mu = _solve_means(prob, st, fluct, mu)
    traces = {}
    x_mean = np.ones(prob.n_pop)
    for a in range(prob.n_pop):
        nu = np.empty_like(fluct[a])
        s = np.empty_like(fluct[a])
        unit_traces(fluct[a], mu[a], prob.code, prob.u[a], prob.tau_D[a], st.dt, nu, s)
        traces[(a, NU)] = nu[:, st.n_burn:]
        traces[(a, XNU)] = s[:, st.n_burn:]
        if prob.u[a] > 0:
            x_mean[a] = float(np.mean(s[:, st.n_burn:] / np.maximum(nu[:, st.n_burn:], 1e-300)))
    means = np.array([traces[sg].mean() for sg in prob.signals])
    acov = np.array([ensemble_autocovariance(traces[sg], st.n_lags,
                                             mean=m if prob.connected else None)
                     for sg, m in zip(prob.signals, means)])
    d_xi = prob.weights @ acov
    return mu, d_xi, acov, means, x_mean, fluct, traces, clipped


def _split_static(d_xi: np.ndarray, static: bool = True) -> tuple[float, np.ndarray]:
    """Static part q (mean over the last quarter of lags; 0 if not `static`) and the
    decaying rest, tapered to 0 over that quarter."""
    n = d_xi.size
    q = float(d_xi[int(0.75 * (n - 1)):].mean()) if static else 0.0
    return q, (d_xi - q) * _taper(n)


def _warn_short_window(prob: DMFProblem, st: DMFSettings) -> None:
    """Direct callers (tests, notebooks) may use short windows; say what it costs."""
    slow = max((d for d, u in zip(prob.tau_D, prob.u) if u > 0), default=0.0)
    if st.max_lag < MAX_LAG_PER_TAU_D * slow:
        log.warning("max_lag = %g < %g tau_D = %g: the lag window cuts the depression's slow "
                    "decay (its remainder is counted as static variance q)", st.max_lag,
                    MAX_LAG_PER_TAU_D, MAX_LAG_PER_TAU_D * slow)


def solve_dmf(prob: DMFProblem, st: DMFSettings, progress_every_s: float = 10.0) -> DMFResult:
    """Iterate the DMF to `st.tol`; never reports convergence that did not happen."""
    t0 = time.perf_counter()
    _warn_short_window(prob, st)
    lags = np.arange(st.n_lags) * st.dt
    P = prob.n_pop
    d_h = np.array([st.init_variance * (1.0 + lags) * np.exp(-lags) for _ in range(P)])
    q = np.zeros(P)
    mu = np.array(prob.mu0, dtype=float)
    sampler = _Sampler(prob, st)
    residuals, mu_hist, d0_hist = [], [], []
    converged = False
    # the first iteration compiles the path kernels (numba): the rate counts from its end;
    # the ETA is a bound (max_iter), the iteration stops once converged
    meter = ProgressMeter(log, st.max_iter, unit="iterations", every_s=progress_every_s,
                          eta_bound=True)
    out = None
    for it in range(1, st.max_iter + 1):
        mu_new, d_xi, acov, means, x_mean, fluct, traces, clipped = _iterate_once(
            prob, st, sampler, d_h, q, mu)
        new_q, new_d = np.zeros(P), np.zeros_like(d_h)
        for a in range(P):
            qa, dx = _split_static(d_xi[a], prob.static)
            new_q[a] = max(qa, 0.0)
            new_d[a] = membrane_filter(dx, prob.tau[a], st.dt)
        old_full = d_h + q[:, None]
        new_full = new_d + new_q[:, None]
        scale = np.maximum(old_full[:, 0], _RESIDUAL_FLOOR)
        res = float(max(np.max(np.abs(new_full - old_full).max(axis=1) / scale),
                        np.max(np.abs(mu_new - mu) / (1.0 + np.abs(mu)))))
        residuals.append(res)
        mu_hist.append(mu_new.copy())
        d0_hist.append(new_full[:, 0].copy())
        out = (mu_new, d_xi, acov, means, x_mean, fluct, traces, clipped)
        mu = mu_new
        d_h = d_h + st.damping * (new_d - d_h)
        q = q + st.damping * (new_q - q)
        meter.update(it, lambda: f"residual {res:.3g} (tol {st.tol:g}), Delta(0) = "
                     f"{np.array2string(new_full[:, 0], precision=4)}, mu = "
                     f"{np.array2string(mu, precision=4)}", force=it == 1)
        if res < st.tol:
            converged = True
            break
    mu, d_xi, acov, means, x_mean, fluct, traces, clipped = out
    # report the last measured (undamped) map output: the self-consistent estimate
    delta = np.zeros((P, st.n_lags))
    qs = np.zeros(P)
    for a in range(P):
        qa, dx = _split_static(d_xi[a], prob.static)
        qs[a] = max(qa, 0.0)
        delta[a] = membrane_filter(dx, prob.tau[a], st.dt) + qs[a]
    hist_h, hist_nu = [], []
    for a in range(P):
        h = (mu[a] + fluct[a][:, st.n_burn:]).ravel()
        hist_h.append(np.histogram(h, bins=80))
        hist_nu.append(np.histogram(traces[(a, NU)].ravel(), bins=80))
    wall = time.perf_counter() - t0
    if converged:
        log.info("DMF converged in %d iterations (residual %.3g < tol %g), %.1f s",
                 len(residuals), residuals[-1], st.tol, wall)
    else:
        log.warning("DMF did NOT converge: residual %.3g after %d iterations (tol %g); the "
                    "result is flagged converged=False", residuals[-1], len(residuals), st.tol)
    if clipped > 1e-3:
        log.warning("circulant embedding clipped %.2g of the spectrum (Delta not positive "
                    "definite on the lag window; increase max_lag)", clipped)
    return DMFResult(names=prob.names, lags=lags, delta=delta, q=qs, delta_xi=d_xi, mu=mu,
                     signal_means=means, signal_acov=acov, x_mean=x_mean,
                     residuals=np.array(residuals), mu_history=np.array(mu_hist),
                     delta0_history=np.array(d0_hist), converged=converged,
                     iterations=len(residuals), wall_time_s=wall, clipped_fraction=clipped,
                     hist_h=hist_h, hist_nu=hist_nu,
                     info={**prob.info, "mean_mode": prob.mean_mode, **asdict(st)})
