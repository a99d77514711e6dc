"""Checks before any work starts: is simulation.dt inside the integrator's stability
region, and does every job fit the memory the machine has?

The step-size check uses the homogeneous modes of the fixed point (stdnet.theory.homogeneous):
that mode is an exact eigenvector of every fixed-in-degree network's Jacobian, and its
eigenvalue grows like sqrt(K) J0, so at large N and J0 it is the first to leave the
stability region of RK4 (a run then blows up after hours). Heterogeneous models
(docs/heterogeneity.md) add the efficacy leak of the fastest E neuron (per-neuron u_j,
tau_D,j) and, for ETD4 with variable in-degrees, the split of what its mean-in-degree
operator leaves to the explicit part (`degree_modes`). The memory check compares the
cost model's requests (stdnet.workflow.costmodel) with the machine, so a sweep too large for a
laptop is refused at start instead of being killed by the OOM killer.
"""
from __future__ import annotations

import math
import os

import numpy as np
from scipy import stats

from stdnet.files.errors import FixedPointError, ResourceError
from stdnet.kernels.etd4 import phi_blocks
from stdnet.model.network import realization_in_degrees
from stdnet.model.params import ModelParams, RunParams, is_whole
from stdnet.model.transfer import dphi, phi
from stdnet.theory.homogeneous import homogeneous_jacobian
from stdnet.theory.meanfield import fixed_point_branch, homogeneous_fixed_point
from stdnet.theory.quenched import QuenchedTheory, ensemble_degrees, moments_of
from stdnet.workflow.costmodel import BASE_MB, CostModel, recording_bytes, stage_jobs
from stdnet.workflow.plan import SweepPlan

#: the suggested dt keeps this margin from the stability limit
DT_SAFETY = 0.9
#: simulation.dt: auto never exceeds this (accuracy: ETD4's lambda_1 over 8-30 tau differs
#: from RK4 at dt = 0.0125 by <= 8e-5 at dt = 0.25, N = 2000 and 8000, J0 = 1-2;
#: docs/performance.md "Step size")
AUTO_DT_MAX = 0.25
#: ... and keeps this fraction of the stability limit: ETD4's limit is set by the explicit
#: part (bulk rim, leaks), RK4's by the stiff mode, which is damped well only well inside
AUTO_SAFETY = {"etd4": DT_SAFETY, "rk4": 0.5, "euler": 0.5}
_METHOD_NAMES = {"rk4": "RK4", "euler": "Euler", "etd4": "ETD4"}
#: the largest dt `max_stable_dt` scans for ETD4, whose stiff mode is exact at any dt
ETD_DT_CAP = 5.0


# ---- step size ----------------------------------------------------------------------
def ray_limit(lam: complex, method: str) -> float:
    """Largest h such that s*lam lies in the method's stability region for all s <= h:
    the first positive root of |R(r e^{i arg lam})|^2 = 1, over |lam|. inf where
    Re lam >= 0 (a growing mode grows in the model too: nothing to check)."""
    lam = complex(lam)
    if lam.real >= 0:
        return math.inf
    w = lam / abs(lam)
    order = {"rk4": 4, "euler": 1}[method]
    a = np.array([w ** k / math.factorial(k) for k in range(order + 1)])  # R(r w), in r
    sq = np.convolve(a, a.conj()).real  # |R|^2 as a polynomial in r (lowest power first)
    sq[0] -= 1.0
    roots = np.roots(sq[1:][::-1])  # |R|^2 - 1 = r * (...): drop the root r = 0
    pos = [r.real for r in roots if abs(r.imag) <= 1e-9 * abs(r) and r.real > 1e-12]
    return min(pos) / abs(lam) if pos else math.inf


def _modes(params: ModelParams, fp=None) -> np.ndarray:
    """The 3 homogeneous eigenvalues and the single-neuron leaks (-1/tau_E, -1/tau_I,
    -1/tau_D - u nu_E, and that of the fastest efficacy where u, tau_D differ between
    neurons)."""
    p = params
    fp = homogeneous_fixed_point(p) if fp is None else fp
    ev = np.linalg.eigvals(homogeneous_jacobian(p, fp))
    leaks = [-1.0 / p.tau_E, -1.0 / p.tau_I, -1.0 / p.tau_D - p.u * fp.nu_E]
    leaks += _fastest_efficacy(p, fp)
    return np.concatenate([ev, leaks]).astype(complex)


def _limit(modes, method: str) -> tuple[float, complex]:
    """(largest stable dt, the eigenvalue that sets it)."""
    limits = [(ray_limit(lam, method), lam) for lam in modes]
    return min(limits, key=lambda t: t[0])


def _bulk_radius(params: ModelParams) -> float:
    """A bound on the radius of the Jacobian's random bulk around -1/tau (the circular law
    with phi' <= 1 and x <= 1, docs/model.md §4): block (a, b) contributes the row variance
    (K_b / K)(1 - c_b) (J0 g_ab)^2, and the bulk lies inside sqrt(rho) of that 2x2 matrix."""
    p = params
    g = np.array([[p.g_EE, p.g_EI], [p.g_IE, p.g_II]])
    share = np.array([p.K_E * (1.0 - p.K_E / p.N_E), p.K_I * (1.0 - p.K_I / p.N_I)]) / p.K
    V = (p.J0 * g) ** 2 * share[None, :]
    return float(np.sqrt(np.abs(np.linalg.eigvals(V)).max()))


def etd_growth(L: np.ndarray, D: np.ndarray, h: float) -> float:
    """Spectral radius of one ETD4 step (stdnet.kernels.etd4's stages) on y' = L y + D y, L
    taken exactly and D as the explicit part: the linear stability of the split."""
    n = L.shape[0]

    def phis(A):
        out = np.empty((5, n, n))
        phi_blocks(np.ascontiguousarray(A, dtype=np.float64), out)
        return out

    q = phis(0.5 * h * L)
    E2, P2 = q[0], 0.5 * h * q[1]
    f = phis(h * L)
    f1 = h * (f[1] - 3 * f[2] + 4 * f[3])
    f2 = h * (f[2] - 2 * f[3])
    f3 = h * (-f[2] + 4 * f[3])
    a = E2 + P2 @ D
    b = E2 + P2 @ D @ a
    c = E2 @ a + P2 @ (2 * D @ b - D)
    R = f[0] + f1 @ D + 2 * f2 @ D @ (a + b) + f3 @ D @ c
    return float(np.abs(np.linalg.eigvals(R)).max()) if np.all(np.isfinite(R)) else math.inf


def _etd_limit(params: ModelParams, fp=None) -> tuple[float, complex]:
    """(largest stable dt, the eigenvalue that sets it) of ETD4: the leaks, the depression
    mode and the rim of the bulk disc see RK4's region (L is zero on them at the fixed
    point); the three homogeneous modes see the split scheme (etd_growth), scanned up to
    ETD_DT_CAP. Variable in-degrees add the split of `degree_modes` to the scan."""
    p = params
    fp = homogeneous_fixed_point(p) if fp is None else fp
    J = homogeneous_jacobian(p, fp)
    D = np.diag(np.diag(J))  # the local part: leaks and the efficacy's own damping
    D[2, 0] = J[2, 0]
    D[0, 0], D[1, 1] = -1.0 / p.tau_E, -1.0 / p.tau_I
    # the bulk bound holds for variable in-degrees too: the radius of a variance profile
    # whose rows scale with K_i is set by their mean (the model's K_E, K_I)
    R = _bulk_radius(p)
    rim = -1.0 / p.tau_E + R * np.exp(1j * np.linspace(0.0, np.pi, 91))
    local = [-1.0 / p.tau_E, -1.0 / p.tau_I, -1.0 / p.tau_D - p.u * fp.nu_E]
    local += _fastest_efficacy(p, fp)
    best = _limit(np.concatenate([local, rim]).astype(complex), "rk4")
    splits = [(J - D, D)]
    if p.connectivity != "fixed_indegree":  # the in-degree remainder's own split
        splits.append(degree_modes(p, fp))
    # a split whose modes grow (past an instability) grows under any step: not checked
    checked = []
    for L, Dl in splits:
        ev = np.linalg.eigvals(L + Dl)
        if np.all(ev.real < 0):
            checked.append((L, Dl, complex(ev[np.argmin(ev.real)])))
    for h in np.geomspace(0.01, min(best[0], ETD_DT_CAP), 60):
        for L, Dl, stiff in checked:
            if etd_growth(L, Dl, h) > 1.0 + 1e-12:
                return float(h), stiff
    ev = np.linalg.eigvals(J)
    stiff = complex(ev[np.argmin(ev.real)])
    return best if best[0] < ETD_DT_CAP else (ETD_DT_CAP, stiff)


#: quadrature of degree_modes' stationary theory: in-degree nodes per axis (binomials exact up
#: to as many support points) and input-noise nodes; coarser than theory.quenched's (24, 48):
#: r changes by < 0.04 (N = 2000-32000, CV <= 0.8, J0 0.5-2.5) and the check stays ~0.1 s
DEGREE_NODES = 8
NOISE_NODES = 16
#: the extreme neuron of a per-neuron STD constant: its quantile 0.01 / N_E (in a network of
#: N_E draws the extreme is beyond it with probability 1 %)
EXTREME_TAIL = 0.01


def _fastest_efficacy(params: ModelParams, fp) -> list:
    """The efficacy leak -1/tau_D,j - u_j nu_E of the fastest E neuron where u_j and tau_D,j
    differ between neurons (model.u_cv, tau_D_cv; lognormal: ensembles.lognormal), at the
    population's mean rate; [] for the paper's one u and tau_D. A local mode: RK4's region
    for both methods."""
    p = params
    if p.u_cv == 0 and p.tau_D_cv == 0:
        return []
    z = stats.norm.isf(EXTREME_TAIL / p.N_E)

    def quantile(mean, cv, sign):
        s2 = math.log1p(cv * cv)
        return mean * math.exp(sign * math.sqrt(s2) * z - 0.5 * s2)

    u_max = quantile(p.u, p.u_cv, 1.0) if p.u_cv > 0 else p.u
    tau_min = quantile(p.tau_D, p.tau_D_cv, -1.0) if p.tau_D_cv > 0 else p.tau_D
    return [-1.0 / tau_min - u_max * fp.nu_E]


def degree_modes(params: ModelParams, fp=None) -> tuple[np.ndarray, np.ndarray]:
    """(L, D): ETD4's split (stdnet.kernels.etd4) on the mean modes of a network with
    variable in-degrees, from the stationary theory (theory.quenched) of its ensemble.

    L couples the three means m1 = <x phi' dh + nu dx>_E, m2 = <phi' dh>_E, m3 = <phi' dh>_I
    into the h of all E and all I rows with the MEAN in-degrees, as the kernel does. What it
    leaves to the explicit part is the remainder, row i receiving K_ib / K_ab - 1 =
    delta_ib times the mean coupling: four directions w_ab (delta_ib on the rows of a), whose
    means are those of u_a times r = <phi' delta_b>_a / <phi'>_a, the phi'-weighted mean
    excess in-degree (x phi' for m1). State (7): the shifts of the h of E and of I rows, of
    w_EE, w_EI, w_IE, w_II, and a uniform shift of x (as in theory.homogeneous); D holds the
    leaks, the efficacies and the remainder. With r = 0 the w decouple and this is the
    homogeneous split; the remainder can destabilise the step only where some r approaches
    1 (active neurons with twice the mean in-degree). Where the theory has no stationary
    state, fp (the homogeneous point) gives the means and every r is the ensemble's largest
    excess in-degree: the worst case."""
    p = params
    degrees = {a: ensemble_degrees(p, a, DEGREE_NODES, DEGREE_NODES) for a in ("E", "I")}
    # K_ab: the mean in-degree from b of the rows of a (kernels.etd4.block_degrees)
    mean = {a + b: float(degrees[a].w @ (degrees[a].K_E if b == "E" else degrees[a].K_I))
            for a in ("E", "I") for b in ("E", "I")}
    try:
        a, r = _degree_gains(p, degrees)
        nu_E = a.pop("nu_E")
    except FixedPointError:
        fp = homogeneous_fixed_point(p) if fp is None else fp
        dE, dI = dphi(p.transfer, fp.h_E), dphi(p.transfer, fp.h_I)
        a = {"1": fp.x * dE, "2": dE, "3": dI}
        worst = _largest_excess(p)
        r = {k: worst for k in ("1E", "1I", "2E", "2I", "3E", "3I")}
        nu_E = fp.nu_E
    Jc = p.coupling
    C00 = Jc * mean["EE"] * p.g_EE / p.tau_E
    C02 = -Jc * mean["EI"] * p.g_EI / p.tau_E
    C11 = Jc * mean["IE"] * p.g_IE / p.tau_I
    C12 = -Jc * mean["II"] * p.g_II / p.tau_I
    # the means as rows over the state (hE, hI, wEE, wEI, wIE, wII, x)
    m1 = a["1"] * np.array([1.0, 0.0, r["1E"], r["1I"], 0.0, 0.0, 0.0])
    m1[6] = nu_E
    m2 = a["2"] * np.array([1.0, 0.0, r["2E"], r["2I"], 0.0, 0.0, 0.0])
    m3 = a["3"] * np.array([0.0, 1.0, 0.0, 0.0, r["3E"], r["3I"], 0.0])
    L = np.zeros((7, 7))
    L[0] = C00 * m1 + C02 * m3
    L[1] = C11 * m2 + C12 * m3
    D = np.diag([-1.0 / p.tau_E, -1.0 / p.tau_I, -1.0 / p.tau_E, -1.0 / p.tau_E,
                 -1.0 / p.tau_I, -1.0 / p.tau_I, -1.0 / p.tau_D - p.u * nu_E])
    D[2] += C00 * m1
    D[3] += C02 * m3
    D[4] += C11 * m2
    D[5] += C12 * m3
    D[6, :6] = -p.u * m1[:6]  # dx = -u x phi' dh, over the same rows as m1
    return L, D


def _degree_gains(p: ModelParams, degrees: dict):
    """({"1": <x phi'>_E, "2": <phi'>_E, "3": <phi'>_I, "nu_E"}, r) at the stationary state
    of the ensemble's theory; FixedPointError where it has none."""
    th = QuenchedTheory(p, degrees=degrees, noise_nodes=NOISE_NODES)
    M = moments_of(th.solve())
    out, r = {}, {}
    for target in ("E", "I"):
        m, v = th.inputs(target, M)  # per in-degree node: h ~ N(m, v)
        h = m[:, None] + np.sqrt(v)[:, None] * th.z[None, :]
        d = degrees[target]
        W = d.w[:, None] * th.wz[None, :]
        dp = dphi(p.transfer, h)
        excess = {"E": d.K_E / (d.w @ d.K_E) - 1.0, "I": d.K_I / (d.w @ d.K_I) - 1.0}
        if target == "E":  # x phi' averaged over the nodes of r = u tau_D
            x = 1.0 / (1.0 + th.r[None, None, :] * phi(p.transfer, h)[..., None])
            xdp = dp * (x @ th.wr)
            out["1"], out["2"] = float(np.sum(W * xdp)), float(np.sum(W * dp))
            out["nu_E"] = float(M[1])
            for b in ("E", "I"):
                r["1" + b] = float(np.sum(W * xdp * excess[b][:, None])) / out["1"]
                r["2" + b] = float(np.sum(W * dp * excess[b][:, None])) / out["2"]
        else:
            out["3"] = float(np.sum(W * dp))
            for b in ("E", "I"):
                r["3" + b] = float(np.sum(W * dp * excess[b][:, None])) / out["3"]
    return out, r


def _largest_excess(p: ModelParams) -> float:
    """The largest relative in-degree excess K_ib / K_b - 1 of the ensemble's neurons (the
    EXTREME_TAIL / N quantile of its in-degree distributions)."""
    worst = 0.0
    for target in ("E", "I"):
        d = ensemble_degrees(p, target)
        for K in (d.K_E, d.K_I):
            order = np.argsort(K)
            tail = np.cumsum(d.w[order][::-1])[::-1]  # P(K >= K_k), the nodes sorted
            top = K[order][tail >= EXTREME_TAIL / p.N].max()
            worst = max(worst, float(top / (d.w @ K) - 1.0))
    return worst


def max_stable_dt(params: ModelParams, method: str = "rk4") -> float:
    """Largest dt for which dt * lambda of every homogeneous and leak mode lies inside the
    stability region of `method` (rk4 or euler; for etd4 see _etd_limit). Raises
    RuntimeError where the homogeneous fixed point does not converge."""
    return _method_limit(params, None, method)[0]


def _method_limit(params: ModelParams, fp, method: str) -> tuple[float, complex]:
    """(largest stable dt, the eigenvalue that sets it) of `method` at the fixed point fp."""
    if method == "etd4":
        return _etd_limit(params, fp)
    return _limit(_modes(params, fp), method)


def suggest_dt(dt_max: float, intervals=()) -> float:
    """DT_SAFETY * dt_max rounded down to 2 significant digits, lowered further (still 2
    digits) until it divides every interval (record_interval, ...), as RunParams requires."""
    return _round_down(DT_SAFETY * dt_max, intervals)


def _round_down(x: float, intervals=()) -> float:
    """x rounded down to 2 significant digits, then lowered (still 2 digits) until it
    divides every interval."""
    if not math.isfinite(x) or x <= 0:
        return x
    e = math.floor(math.log10(x)) - 1
    m = int(x / 10.0 ** e + 1e-9)
    first = float(f"{m}e{e}")
    for _ in range(200):  # at most two decades down
        cand = float(f"{m}e{e}")
        if all(is_whole(t / cand) for t in intervals):
            return cand
        m -= 1
        if m < 10:
            m, e = 99, e - 1
    return first


def _fmt_lam(lam: complex) -> str:
    return f"{lam.real:.3g}{lam.imag:+.3g}j" if abs(lam.imag) > 0 else f"{lam.real:.3g}"


def _dt_message(dt, method, N, J0, lam, dt_max, intervals, more="") -> str:
    edge = dt_max * abs(lam)
    return (f"{dt} is outside the {_METHOD_NAMES[method]} stability region at N = {N}, J0 = {J0:g} "
            f"(eigenvalue {_fmt_lam(lam)}: dt |lambda| = {dt * abs(lam):.3g}, the region ends "
            f"at {edge:.3g} in that direction){more}; use dt <= {suggest_dt(dt_max, intervals):g} "
            f"(stable below {dt_max:.6g})")


def dt_problem(params: ModelParams, run: RunParams, key: str = "simulation.dt") -> str | None:
    """Why run.dt is too large at this grid point, or None (also where the fixed point
    does not converge: then there is nothing to linearise around)."""
    try:
        dt_max, lam = _method_limit(params, None, run.method)
    except RuntimeError:
        return None
    if run.dt <= dt_max:
        return None
    return f"{key} = " + _dt_message(run.dt, run.method, params.N, params.J0, lam, dt_max,
                                      (run.record_interval,))


def _intervals(cfg: dict) -> list:
    """The times that must be whole multiples of simulation.dt."""
    out = [cfg["simulation"]["record_interval"]]
    for section, key in (("lyapunov", "delta_t"), ("correlations", "sample_interval")):
        if key in cfg.get(section, {}):
            out.append(cfg[section][key])
    return out


def point_limits(cfg: dict, method: str) -> list[tuple]:
    """(largest stable dt, N, J0, the eigenvalue that sets it) at every simulated (N, J0)
    of a schema-valid config that has a homogeneous fixed point."""
    out = []
    for N, J0s in sorted(SweepPlan(cfg).simulated_points().items()):
        J0s = sorted(J0s)
        try:
            base = ModelParams.from_config(cfg["model"], N=N, J0=J0s[0])
        except ValueError:
            continue  # reported by the model check
        try:  # continuation along J0: one root solve per point
            fps = fixed_point_branch(base, J0s)
        except RuntimeError:
            fps = [None] * len(J0s)
        for J0, fp in zip(J0s, fps):
            p = base.replace(J0=J0)
            try:
                dt_max, lam = _method_limit(p, fp or homogeneous_fixed_point(p), method)
            except RuntimeError:
                continue  # no fixed point here: nothing to linearise around
            out.append((float(dt_max), N, J0, lam))
    return out


def auto_dt(cfg: dict) -> float:
    """simulation.dt: auto for a schema-valid config: AUTO_SAFETY of the smallest stability
    limit over the simulated (N, J0), at most AUTO_DT_MAX, rounded down to divide every
    interval (_intervals). ValueError where no step qualifies."""
    method = cfg["simulation"]["method"]
    limits = [b[0] for b in point_limits(cfg, method)]
    x = min([AUTO_DT_MAX] + [AUTO_SAFETY[method] * d for d in limits])
    dt = _round_down(x, _intervals(cfg))
    if not (math.isfinite(dt) and dt > 0 and all(is_whole(t / dt) for t in _intervals(cfg))):
        raise ValueError(f"no step <= {x:.3g} divides the intervals {_intervals(cfg)}")
    return dt


def dt_config_problems(cfg: dict) -> list[str]:
    """simulation.dt against every simulated (N, J0) of a schema-valid config: one message
    at the point that needs the smallest dt, with a dt that suits them all."""
    sim = cfg["simulation"]
    method, dt = sim["method"], float(sim["dt"])
    bad = [b for b in point_limits(cfg, method) if dt > b[0]]
    if not bad:
        return []
    dt_max, N, J0, lam = min(bad, key=lambda b: b[0])
    more = f" (and at {len(bad) - 1} other (N, J0))" if len(bad) > 1 else ""
    return ["config key 'simulation.dt': value "
            + _dt_message(dt, method, N, J0, lam, dt_max, _intervals(cfg), more)]


# ---- memory -------------------------------------------------------------------------
def machine_memory_mb() -> float | None:
    """Memory this process may use (MB): the physical memory, or a smaller cgroup limit
    (containers, batch jobs). None where unknown: the check is then skipped."""
    total = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        total = int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    limits = [total] if total and total > 0 else []
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                v = int(f.read().strip())  # "max" (no limit) fails here
            if 0 < v < 2 ** 60:
                limits.append(v)
        except (OSError, ValueError):
            pass
    return min(limits) / 2 ** 20 if limits else None


#: config key that sets the size of each rule's jobs (for the messages)
_RULE_KEYS = {"simulate": "grid.N", "lyapunov": "grid.N", "record_inputs": "correlations.runs N",
              "jfp_search": "stability.jfp.N", "jacobian_spectrum": "stability.jfp.N",
              "stability_routes": "stability.routes.N", "hetfp_compare": "stability.hetfp.N",
              "dmf_solve": "dmf.solver", "correlations": "correlations",
              "dmf_compare": "dmf"}


def memory_problems(config: dict, available_mb: float | None, executor: str = "local") -> list[str]:
    """The heavy jobs of a validated config whose memory request (costmodel, first attempt)
    exceeds `available_mb` (a node's memory on a cluster): one message per rule, at its
    largest job. [] where available_mb is None (unknown)."""
    if not available_mb:
        return []
    model = CostModel(config)
    worst: dict = {}
    seen = set()
    for rule, wc in stage_jobs(model, 0):
        key = (rule, tuple(sorted(wc.items())))
        if key in seen:
            continue
        seen.add(key)
        mb = model.mem_mb(rule, attempt=1, **wc)
        if mb > available_mb and mb > worst.get(rule, (0, None))[0]:
            worst[rule] = (mb, wc.get("N"))
    where = "this machine has" if executor == "local" else "a node has"
    hint = ("lower {key} or run on a cluster (docs/cluster.md)" if executor == "local"
            else "lower {key} or use a partition with larger nodes (docs/cluster.md)")
    out = []
    for rule, (mb, N) in worst.items():
        key = _RULE_KEYS.get(rule, rule)
        if rule == "simulate" and N is not None and int(N) not in map(int, config["grid"]["N"]):
            key = "correlations.runs N"
        size = f"{key} = {N}" if N is not None else key
        advice = hint.format(key=key)
        if rule == "simulate" and recording_dominates(
                ModelParams.from_config(config["model"], N=int(N), J0=1.0),
                RunParams.from_config(config["simulation"])):
            advice = ("shorten simulation.t_record or raise simulation.record_interval (the "
                      "recorded samples take most of it)")
        out.append(f"{size}: a {rule} job needs ~{mb:.2g} MB of memory; {where} "
                   f"{available_mb / 1024:.3g} GB; " + advice)
    return out


def recording_dominates(params: ModelParams, run: RunParams) -> bool:
    """The simulation's recorded samples are more than half of its memory: the advice is
    then a shorter t_record or a longer record_interval, not a smaller network."""
    return (recording_bytes(params.N_E, params.N_I, run)
            > 0.5 * simulation_memory_bytes(params, run))


def check_memory(config: dict, available_mb: float | None = None, executor: str = "local") -> None:
    """Raise ResourceError listing memory_problems (available_mb None and executor local:
    this machine's memory)."""
    if available_mb is None and executor == "local":
        available_mb = machine_memory_mb()
    problems = memory_problems(config, available_mb, executor)
    if problems:
        raise ResourceError("not enough memory:\n  " + "\n  ".join(problems))


# ---- GPU ------------------------------------------------------------------------------
def backend_problems(config: dict, executor: str = "local") -> list[str]:
    """simulation.backend: cuda on a machine whose jobs cannot use a GPU. [] for the CPU
    backend, and on a cluster (the jobs run on GPU nodes, not where the workflow starts)."""
    if config["simulation"].get("backend", "cpu") != "cuda" or executor != "local":
        return []
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from stdnet.kernels.cuda.device import cuda_problem, unavailable_message

    problem = cuda_problem()
    return [unavailable_message("simulation.backend", problem)] if problem else []


def gpu_memory_problems(config: dict, executor: str = "local") -> list[str]:
    """The largest GPU job of a simulation.backend: cuda config, where it exceeds the free
    memory of this machine's GPU (local runs with a usable GPU only)."""
    if (config["simulation"].get("backend", "cpu") != "cuda" or executor != "local"
            or backend_problems(config, executor)):
        return []
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from stdnet.kernels.cuda.device import describe
    from stdnet.kernels.cuda.engine import device_bytes

    free = describe()["free"]
    model = CostModel(config)
    gpu_jobs = [(rule, wc) for rule, wc in stage_jobs(model, 0) if model.gpus(rule, **wc)]
    if free is None or not gpu_jobs:
        return []
    rule, wc = max(gpu_jobs, key=lambda job: int(job[1]["N"]))
    p = model.params(wc["N"])
    # the widest realization's tiles (in-degrees only, no rows drawn; all alike for fixed
    # in-degree)
    need = max(device_bytes(p, model.sim.precision, degrees=realization_in_degrees(p, int(seed)))
               for seed in config["grid"]["seeds"])
    if need > free:
        return [f"N = {wc['N']}: a {rule} job needs {need / 2**30:.3g} GiB of GPU memory; the "
                f"GPU has {free / 2**30:.3g} GiB free; lower that N or model.c, or use "
                "simulation.backend: cpu"]
    return []


def _index_bytes(n: int) -> int:
    return 2 if n <= 65536 else 4  # network.index_dtype, without importing numba


def simulation_memory_bytes(params: ModelParams, run: RunParams, process: bool = True) -> int:
    """Predicted peak memory of one `stdnet simulate` run: the index pattern, plus the larger
    of the uniforms block that draws it (network.build_network) and the integrator's state, work
    rows, recorded buffers, running statistics and the temporaries of recording and of the
    result; plus the interpreter and its libraries (costmodel.BASE_MB) if `process`."""
    p = params
    N, N_E, dim = p.N, p.N_E, p.dim
    pattern = N * (p.K_E * _index_bytes(N_E) + p.K_I * _index_bytes(p.N_I))
    draw = min(N, 4096) * max(p.K_E, p.K_I) * 8

    isz = 4 if run.precision == "float32" else 8
    records = recording_bytes(N_E, p.N_I, run)
    state = dim * 8 + 6 * dim * isz + (4 * N + N_E) * 8 + records
    temporaries = max(3 * dim * 8, (4 * N + N_E + dim) * 8 + dim * isz)
    total = pattern + max(draw, state + temporaries)
    if process:

        total += int(BASE_MB * 1e6)
    return int(total)
