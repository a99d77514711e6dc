"""The largest stable dt of ETD4 and RK4 on heterogeneous networks (docs/performance.md,
"ETD4 on heterogeneous networks"; issue 25).

    python tools/etd_hetero_dt.py --N 2000 8000 --J0 1.5

Per case (one network, seed 1): 50 tau of RK4 at dt = 0.05 from the kicked homogeneous
fixed point (the settled state), then 100 tau from it with RK4 at --ref-dt (the reference)
and with each dt of the ladders. A run's deviations from the reference (`deviation`): of
the time-averaged population means of nu_E, nu_I, x (largest relative); of the neurons' mean
temporal variance of h (over the total variance of h); of the per-neuron time-averaged
rates (RMS over their spread across neurons). Chaos alone makes two runs differ: the floor
is a run at --ref-dt from the settled state with every h moved by --kick (sd); a floor of
neuron deviations ~1 means chaos, ~1e-4 a stationary state. A run counts as stable where
it stays finite and each deviation is at most --factor times the floor's or its --tol (1 %,
0.1, 0.1: an unstable step changes them by O(1)). The largest stable dt is the largest
ladder step below which every step is stable ("> ladder" where all are). The RK4 ladder is
in units of its limit from `stdnet check`, preflight.max_stable_dt(p, "rk4"). About 15 min
per case at N = 8000 on one busy core, 0.3-1 min at N = 2000.
"""
import argparse
import math
import time

import numpy as np

from stdnet.kernels import etd4 as ei
from stdnet.kernels.cpu import advance, kernel_args, make_work
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.model.transfer import phi
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.workflow.preflight import max_stable_dt

CASES = {
    "fixed": {},
    "erdos_renyi": dict(connectivity="erdos_renyi"),
    "cv0.1": dict(connectivity="indegree_cv", indegree_cv=0.1),
    "cv0.1_rho0.9": dict(connectivity="indegree_cv", indegree_cv=0.1, indegree_rho=0.9),
    "cv0.2": dict(connectivity="indegree_cv", indegree_cv=0.2),
    "cv0.2_rho0.9": dict(connectivity="indegree_cv", indegree_cv=0.2, indegree_rho=0.9),
    # CV 0.4 and 0.8 at N = 2000 have the remainder scale J0 sqrt(K) CV of CV 0.2 at N =
    # 8000 and 32000 (the spread of the inputs scales alike)
    "cv0.4": dict(connectivity="indegree_cv", indegree_cv=0.4),
    "cv0.8": dict(connectivity="indegree_cv", indegree_cv=0.8),
    "u_cv0.3": dict(u_cv=0.3),
    "cv0.2_rho0.9_u0.3": dict(connectivity="indegree_cv", indegree_cv=0.2, indegree_rho=0.9,
                              u_cv=0.3),
}
ETD_LADDER = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
RK4_LADDER = (1.0, 1.1, 1.25, 1.5, 2.0)  # x the homogeneous RK4 limit


def run(p, net, y0, method, dt, T):
    """(time-averaged population means (nu_E, nu_I, x), per-neuron time averages of nu and
    of h, per-neuron temporal variance of h), or None where the run diverged."""
    args = kernel_args(p, net)
    if method == "etd4":
        kernel, code, work = ei.advance, ei.METHOD_CODE, ei.make_work(p)
    else:
        kernel, code, work = advance, 0, make_work(p)
    n = int(round(T / dt))
    y = y0.copy()
    pop = np.zeros(3)
    nu_sum, h_sum, h_sq = np.zeros(p.N), np.zeros(p.N), np.zeros(p.N)
    for _ in range(n):
        if kernel(y, 1, code, dt, *args, work) >= 0:
            return None
        h = y[:p.N]
        nu = phi(p.transfer, h)
        pop += nu[:p.N_E].mean(), nu[p.N_E:].mean(), y[p.N:].mean()
        nu_sum += nu
        h_sum += h
        h_sq += h * h
    return pop / n, nu_sum / n, h_sum / n, np.maximum(h_sq / n - (h_sum / n) ** 2, 0.0)


def deviation(ref, res):
    """(3,) deviations from the reference, inf where the run diverged: the largest relative
    one of the population means; that of the neurons' mean temporal variance of h over the
    total (temporal + across-neuron) variance of h; the RMS of the per-neuron time-averaged
    rates over their spread across neurons."""
    if res is None:
        return np.full(3, math.inf)
    pop, nu, h, var = res
    rpop, rnu, rh, rvar = ref
    d_pop = float(np.max(np.abs(pop - rpop) / np.abs(rpop)))
    d_var = abs(var.mean() - rvar.mean()) / (rvar.mean() + rh.var())
    d_nu = float(np.sqrt(np.mean((nu - rnu) ** 2)) / rnu.std())
    return np.array([d_pop, d_var, d_nu])


def largest(ladder, stable):
    best = None
    for dt, ok in zip(ladder, stable):
        if not ok:
            break
        best = dt
    if best is None:
        return f"< {ladder[0]:.3g}"
    return f"> {best:.3g}" if best == ladder[-1] else f"{best:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, nargs="+", default=[2000, 8000])
    ap.add_argument("--J0", type=float, default=1.5)
    ap.add_argument("--cases", nargs="+", choices=list(CASES),
                    default=[c for c in CASES if c not in ("cv0.4", "cv0.8")])
    ap.add_argument("--T", type=float, default=100.0, help="tau per run")
    ap.add_argument("--ref-dt", type=float, default=0.025, help="RK4 reference step")
    ap.add_argument("--kick", type=float, default=1e-2, help="sd of the floor's kick of h")
    ap.add_argument("--factor", type=float, default=3.0)
    ap.add_argument("--tol", type=float, nargs=3, default=[1e-2, 0.1, 0.1],
                    help="population means, temporal variance, per-neuron rates")
    a = ap.parse_args()
    for N in a.N:
        for name in a.cases:
            t0 = time.time()
            p = ModelParams(N=N, J0=a.J0, **CASES[name])
            net = build_network(p, 1)
            y = homogeneous_fixed_point(p).state(p)
            y[:N] += np.random.default_rng(0).normal(0.0, 0.5, N)
            assert advance(y, 1000, 0, 0.05, *kernel_args(p, net), make_work(p)) == -1
            ref = run(p, net, y, "rk4", a.ref_dt, a.T)
            assert ref is not None, "the reference diverged"
            yk = y.copy()
            yk[:N] += a.kick * np.random.default_rng(1).standard_normal(N)
            floor = deviation(ref, run(p, net, yk, "rk4", a.ref_dt, a.T))
            tol = np.maximum(a.factor * floor, a.tol)
            lim = max_stable_dt(p, "rk4")
            rk_dts = [f * lim for f in RK4_LADDER]
            rk = [deviation(ref, run(p, net, y, "rk4", dt, a.T)) for dt in rk_dts]
            etd = [deviation(ref, run(p, net, y, "etd4", dt, a.T)) for dt in ETD_LADDER]
            print(f"N={N} {name:<18} J0={a.J0:g}  check's limits: RK4 {lim:.3f}, ETD4 "
                  f"{max_stable_dt(p, 'etd4'):.3f}; floor (pop var neuron) "
                  + " ".join(f"{v:.1e}" for v in floor), flush=True)
            for label, dts, res in (("rk4", rk_dts, rk), ("etd4", ETD_LADDER, etd)):
                ok = [bool(np.all(d <= tol)) for d in res]
                print(f"  {label:<5} largest stable dt {largest(dts, ok):>7}", flush=True)
                for dt, g, d in zip(dts, ok, res):
                    print(f"    {dt:.3g}: {'ok' if g else 'X '} "
                          + " ".join(f"{v:.1e}" for v in d), flush=True)
            print(f"  ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
