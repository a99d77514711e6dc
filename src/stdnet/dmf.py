"""Dynamical mean field (DMF) of the chaotic state, solved by damped iteration.

Each neuron of population a sees a Gaussian input h = mu_a + eta(t) whose
autocovariance Delta_a(t) is set self-consistently by the autocovariances of the
presynaptic signals (nu, and x*nu for depressed E->E synapses); the means mu_a
are fixed by balance (N -> inf) or by the finite-K mean equation. Derivation and
the switchable finite-K corrections: docs/dmf.md.

One iteration (all noise frozen, so the iteration is a deterministic map):
 1. sample M input paths per population from the current Delta_a by circulant
    embedding (stdnet.gaussian_paths), plus a static offset sqrt(q_a) z;
 2. solve the mean equations for mu (Newton with the exact path derivatives);
 3. integrate the depression x along each path (numba, exponential integrator),
    measure the signals' autocovariances, combine them into the input-noise
    autocovariance Delta^xi_a, low-pass it through the membrane filter
    1 / (1 + (omega tau_a)^2) to get the new Delta_a;
 4. damp: Delta <- Delta + damping (Delta_new - Delta); the residual is
    max |Delta_new - Delta| / max(Delta(0), floor), with the change of mu.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from numba import njit
from scipy.optimize import root

from .gaussian_paths import (Spectrum, draw_noise, embedding_size, ensemble_autocovariance,
                             paths_from_noise)
from .meanfield import balanced_limit, homogeneous_fixed_point
from .params import ModelParams
from .seeding import rng as seeded_rng
from .transfer import SOFTPLUS, TANH, dphi_scalar, phi_scalar

log = logging.getLogger("stdnet.dmf")

NU, XNU = 0, 1  # signal kinds: the rate, or the depressed output x * rate
MEAN_MODES = ("fixed", "balanced", "finite_K")
_RESIDUAL_FLOOR = 1e-2  # Delta(0) below this is judged absolutely (no chaos: Delta -> 0)


# ---------------------------------------------------------------------------
# numba kernels: one unit (h given, x integrated) per path
# ---------------------------------------------------------------------------
@njit(cache=True)
def unit_traces(fluct, mu, code, u, tau_D, dt, nu_out, s_out):
    """nu = phi(mu + fluct) and s = x nu along each path (row) of `fluct`.

    x follows dx/dt = (1 - x)/tau_D - u x nu, linear in x, so each step is the
    exact exponential update with nu averaged over the step; x starts at its
    quasi-static value (callers discard a burn-in). u = 0 gives x = 1.
    """
    M, n = fluct.shape
    inv_D = 1.0 / tau_D
    for m in range(M):
        nu_prev = phi_scalar(code, mu + fluct[m, 0])
        x = 1.0 / (1.0 + u * tau_D * nu_prev)
        nu_out[m, 0] = nu_prev
        s_out[m, 0] = x * nu_prev
        for t in range(1, n):
            nu = phi_scalar(code, mu + fluct[m, t])
            a = inv_D + u * 0.5 * (nu + nu_prev)
            x_inf = inv_D / a
            x = x_inf + (x - x_inf) * math.exp(-a * dt)
            nu_out[m, t] = nu
            s_out[m, t] = x * nu
            nu_prev = nu


@njit(cache=True, inline="always")
def _phi_dphi(code, h):
    """phi and phi' together (softplus shares one exponential)."""
    if code == SOFTPLUS:
        e = math.exp(-abs(h))
        if h > 0.0:
            return h + math.log1p(e), 1.0 / (1.0 + e)
        return math.log1p(e), e / (1.0 + e)
    return phi_scalar(code, h), dphi_scalar(code, h)


@njit(cache=True)
def unit_means(fluct, mu, code, u, tau_D, dt, n_burn):
    """Averages over paths and post-burn-in time of nu and x nu, with their
    exact derivatives with respect to mu (the sensitivity dx/dmu is carried
    through the same discrete update as x)."""
    M, n = fluct.shape
    inv_D = 1.0 / tau_D
    m_nu = 0.0
    m_s = 0.0
    d_nu = 0.0
    d_s = 0.0
    if u == 0.0:  # no depression: x = 1
        for m in range(M):
            for t in range(n_burn, n):
                nu, dp = _phi_dphi(code, mu + fluct[m, t])
                m_nu += nu
                d_nu += dp
        cnt = M * (n - n_burn)
        return m_nu / cnt, m_nu / cnt, d_nu / cnt, d_nu / cnt
    for m in range(M):
        nu_prev, dp_prev = _phi_dphi(code, mu + fluct[m, 0])
        x = 1.0 / (1.0 + u * tau_D * nu_prev)
        y = -u * tau_D * dp_prev * x * x  # dx/dmu
        for t in range(1, n):
            nu, dp = _phi_dphi(code, mu + fluct[m, t])
            a = inv_D + u * 0.5 * (nu + nu_prev)
            da = u * 0.5 * (dp + dp_prev)
            x_inf = inv_D / a
            dx_inf = -inv_D * da / (a * a)
            e = math.exp(-a * dt)
            de = -dt * da * e
            y = dx_inf + (y - dx_inf) * e + (x - x_inf) * de
            x = x_inf + (x - x_inf) * e
            if t >= n_burn:
                m_nu += nu
                m_s += x * nu
                d_nu += dp
                d_s += y * nu + x * dp
            nu_prev = nu
            dp_prev = dp
    cnt = M * (n - n_burn)
    return m_nu / cnt, m_s / cnt, d_nu / cnt, d_s / cnt


# ---------------------------------------------------------------------------
# the problem and the settings
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DMFSettings:
    """Numerics of the iteration (times in units of tau)."""

    n_paths: int = 500
    t_path: float = 200.0  # >= 2 max_lag
    t_burn: float = 50.0
    dt: float = 0.2
    max_lag: float = 100.0  # >= MAX_LAG_PER_TAU_D x tau_D of the model defaults (tau_D = 50)
    damping: float = 0.6
    tol: float = 1e-3
    max_iter: int = 40
    init_variance: float = 1.0
    seed: int = 1

    def __post_init__(self):
        checks = [("n_paths", self.n_paths >= 2 and isinstance(self.n_paths, int), "an integer >= 2"),
                  ("t_path", self.t_path > 0, "a number > 0"),
                  ("t_burn", self.t_burn >= 0, "a number >= 0"),
                  ("dt", 0 < self.dt <= 1, "a number in (0, 1]"),
                  ("max_lag", self.dt * 4 <= self.max_lag <= self.t_path / 2,
                   f"a number in [4 dt, t_path / 2] = [{4 * self.dt}, {self.t_path / 2}]"),
                  ("damping", 0 < self.damping <= 1, "a number in (0, 1]"),
                  ("tol", self.tol > 0, "a number > 0"),
                  ("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1,
                   "an integer >= 1"),
                  ("init_variance", self.init_variance >= 0, "a number >= 0"),
                  ("seed", isinstance(self.seed, int) and self.seed >= 0, "an integer >= 0")]
        for key, ok, allowed in checks:
            if not ok:
                raise ValueError(f"config key 'dmf.solver.{key}': value "
                                 f"{getattr(self, key)!r} is not allowed; allowed: {allowed}")

    @property
    def n_lags(self) -> int:
        return int(round(self.max_lag / self.dt)) + 1

    @property
    def n_burn(self) -> int:
        return int(round(self.t_burn / self.dt))

    @property
    def n_points(self) -> int:
        return self.n_burn + int(round(self.t_path / self.dt))

    @classmethod
    def from_config(cls, cfg: dict, tau_D: float | None = None) -> "DMFSettings":
        """Settings from the config section dmf.solver; with tau_D (model.tau_D) its
        derived defaults are filled and max_lag >= 2 tau_D is enforced
        (resolve_solver_config)."""
        if tau_D is not None:
            cfg = resolve_solver_config(cfg, tau_D)
        keys = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in cfg.items() if k in keys})


# The lag window must hold the slow decay that depression gives the E output x nu (time
# scale tau_D): a shorter window cuts that tail, and the static part q, read off the last
# quarter of the window, then absorbs the part of it not yet decayed.
MAX_LAG_PER_TAU_D = 2.0


def resolve_solver_config(solver: dict, tau_D: float) -> dict:
    """dmf.solver with its derived defaults: max_lag 0 -> 2 tau_D, t_path 0 -> 2 max_lag.

    Raises ValueError (the message names the key, the value and what is allowed) when
    max_lag < 2 tau_D or t_path < 2 max_lag."""
    out = dict(solver)
    if not out.get("max_lag"):
        out["max_lag"] = MAX_LAG_PER_TAU_D * float(tau_D)
    if not out.get("t_path"):
        out["t_path"] = 2.0 * float(out["max_lag"])
    problems = solver_config_problems(out, tau_D)
    if problems:
        raise ValueError("; ".join(problems))
    return out


def solver_config_problems(solver: dict, tau_D: float) -> list[str]:
    """The checks of dmf.solver that need model.tau_D (also run at config validation,
    stdnet.config); 0 means the derived default and always passes."""
    problems = []
    max_lag = solver.get("max_lag") or MAX_LAG_PER_TAU_D * float(tau_D)
    need = MAX_LAG_PER_TAU_D * float(tau_D)
    if max_lag < need:
        problems.append(f"config key 'dmf.solver.max_lag': value {solver['max_lag']!r} is not "
                        f"allowed; allowed: a number >= {MAX_LAG_PER_TAU_D:g} model.tau_D = "
                        f"{need:g} (the lag window must hold the depression's decay), or 0 "
                        "for that default")
    t_path = solver.get("t_path") or 2.0 * max_lag
    if t_path < 2.0 * max_lag:
        problems.append(f"config key 'dmf.solver.t_path': value {solver['t_path']!r} is not "
                        f"allowed; allowed: a number >= 2 dmf.solver.max_lag = {2 * max_lag:g}, "
                        "or 0 for that default")
    return problems


@dataclass(frozen=True)
class DMFProblem:
    """Populations, the signals they emit, and how signals make the input noise.

    Input-noise autocovariance of population a: sum_s weights[a, s] A_s(t), A_s
    the autocovariance of signal s = (pop, kind) (connected: about the mean, or
    the full second moment). Mean equations (mode balanced / finite_K):
    kappa (mu_a - I0) / G = sum_s bracket[a, s] <s>, kappa = 0 or 1.
    """

    names: tuple
    code: int
    tau: tuple
    u: tuple
    tau_D: tuple
    signals: tuple  # ((pop, kind), ...)
    weights: np.ndarray  # (n_pop, n_signals)
    connected: bool
    mean_mode: str
    mu0: tuple  # fixed means, or the starting guess
    bracket: np.ndarray | None = None
    I0: float = 0.0
    G: float = math.inf
    static: bool = True  # estimate a static (quenched) part q; False where symmetry makes q = 0
    info: dict = field(default_factory=dict, compare=False)

    @property
    def n_pop(self) -> int:
        return len(self.names)


def network_problem(params: ModelParams, finite_K: bool = True, one_minus_c: bool = True,
                    shared_input: bool = True) -> DMFProblem:
    """The E/I network with STD on E->E (docs/dmf.md, section 2).

    finite_K: mean equation with G = sqrt(K) J0 and gamma = K_I/K_E of params.N
    (else the balanced limit G -> inf, gamma = N_I/N_E); one_minus_c: the (1 - c)
    factor of the quenched-input variance; shared_input: subtract the shared
    population mean from each neuron's input (the fixed in-degree sum
    sum_j (a_ij - c) = 0), i.e. connected rather than full autocovariances.
    """
    p = params
    gam = p.gamma if finite_K else (1.0 - p.f_E) / p.f_E
    f = (1.0 - p.c) if one_minus_c else 1.0
    J2 = p.J0 ** 2 * f
    # signals: 0 = nu_E (seen by I), 1 = x nu_E (seen by E), 2 = nu_I
    signals = ((0, NU), (0, XNU), (1, NU))
    W = np.array([[0.0, J2 * p.g_EE ** 2, J2 * gam * p.g_EI ** 2],
                  [J2 * p.g_IE ** 2, 0.0, J2 * gam * p.g_II ** 2]])
    B = np.array([[0.0, p.g_EE, -gam * p.g_EI],
                  [p.g_IE, 0.0, -gam * p.g_II]])
    if finite_K:
        fp = homogeneous_fixed_point(p)
        mu0 = (fp.h_E, fp.h_I)
    else:
        lim = balanced_limit(p)
        mu0 = (lim.h_E, lim.h_I)
    return DMFProblem(names=("E", "I"), code=p.transfer_code, tau=(p.tau_E, p.tau_I),
                      u=(p.u, 0.0), tau_D=(p.tau_D, p.tau_D), signals=signals, weights=W,
                      connected=bool(shared_input), mean_mode="finite_K" if finite_K else "balanced",
                      mu0=tuple(float(m) for m in mu0), bracket=B, I0=p.I0,
                      G=p.G if finite_K else math.inf,
                      # N and K_E = 0: the balanced limit, the same for every N
                      info={"J0": p.J0, "I0": p.I0, "N": p.N if finite_K else 0,
                            "K_E": p.K_E if finite_K else 0, "gamma": gam,
                            "finite_K": bool(finite_K), "one_minus_c": bool(one_minus_c),
                            "shared_input": bool(shared_input), "c": p.c,
                            "transfer": p.transfer})


def scs_problem(g: float) -> DMFProblem:
    """Sompolinsky-Crisanti-Sommers: one population, phi = tanh, no STD, J ~ N(0, g^2/N).

    phi odd and J symmetric about 0 make the static part vanish (q = 0) by symmetry."""
    return DMFProblem(names=("X",), code=TANH, tau=(1.0,), u=(0.0,), tau_D=(1.0,),
                      signals=((0, NU),), weights=np.array([[g * g]]), connected=False,
                      mean_mode="fixed", mu0=(0.0,), static=False,
                      info={"g": g, "transfer": "tanh"})


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


def decorrelation_time(lags, acov) -> float:
    """First lag where acov / acov[0] falls below 1/e (linear interpolation); the
    definition used for both DMF and simulation (docs/dmf.md)."""
    acov = np.asarray(acov, dtype=float)
    if not acov[0] > 1e-4:  # no temporal fluctuations (fixed point): variance units of h
        return math.nan
    r = acov / acov[0]
    below = np.nonzero(r < math.exp(-1.0))[0]
    if below.size == 0:
        return math.nan
    k = below[0]
    r0, r1 = r[k - 1], r[k]
    return float(lags[k - 1] + (r0 - math.exp(-1.0)) / (r0 - r1) * (lags[k] - lags[k - 1]))


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
    last = time.perf_counter()
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
        now = time.perf_counter()
        if now - last >= progress_every_s or it == 1:
            last = now
            eta = (now - t0) / it * (st.max_iter - it)
            log.info("DMF iteration %d/%d: residual %.3g (tol %g), Delta(0) = %s, mu = %s, "
                     "ETA <= %.0f s", it, st.max_iter, res, st.tol,
                     np.array2string(new_full[:, 0], precision=4),
                     np.array2string(mu, precision=4), eta)
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


# ---------------------------------------------------------------------------
# file output
# ---------------------------------------------------------------------------
def write_dmf(path, res: DMFResult) -> None:
    """HDF5, atomically: /lags, /delta (pop x lag), ..., attrs with settings and flags."""
    from . import io

    with io.atomic_h5(path) as f:
        io.write_attrs(f, {"populations": ",".join(res.names), "converged": bool(res.converged),
                           "iterations": res.iterations, "wall_time_s": res.wall_time_s,
                           "clipped_fraction": res.clipped_fraction})
        io.write_attrs(f.create_group("info"), res.info)
        io.write_attrs(f.create_group("meta"), io.provenance())
        io.write_datasets(f, {"lags": res.lags, "delta": res.delta, "q": res.q,
                              "delta_xi": res.delta_xi, "mu": res.mu,
                              "signal_means": res.signal_means, "signal_acov": res.signal_acov,
                              "x_mean": res.x_mean, "residuals": res.residuals,
                              "mu_history": res.mu_history,
                              "delta0_history": res.delta0_history,
                              "decorrelation_time": res.decorrelation_time()}, compress=False)
        for a, name in enumerate(res.names):
            g = f.create_group(f"hist/{name}")
            g["h_counts"], g["h_edges"] = res.hist_h[a]
            g["nu_counts"], g["nu_edges"] = res.hist_nu[a]


def read_dmf(path) -> dict:
    from . import io

    with io.open_h5(path, kind="DMF solution") as f:
        out = io.read_group(f)
        out.update(io.read_attrs(f))
        out["info"] = io.read_attrs(f["info"])
    out["populations"] = out["populations"].split(",")
    return out
