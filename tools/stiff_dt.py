"""Largest stable dt and accuracy of ROS2-W (stdnet.stiff_step) against RK4, per N.

    NUMBA_NUM_THREADS=1 PYTHONPATH=src python tools/stiff_dt.py [--N 1000 4000 16000 32000]

Per N, one network (seed 1):

- rk4(J0=2), rk4(1.5): preflight.max_stable_dt of RK4 (the homogeneous mode sets it);
- ros2w lin: stiff_step.max_stable_dt (homogeneous and leak modes; inf: L-stable);
- ros2w blow-up: the largest dt of --blow-dts at which a J0 = 2 run (20 tau from the
  homogeneous fixed point kicked by sd 0.5 on h) stays finite with max|h| within 3x that
  of the same run at dt = 0.1 (the next dt of the list is given where it failed);
- accuracy at J0 = 1.5 over --T tau (same start): the population-mean E rate recorded
  every 0.5 tau against RK4 at dt_ref = min(0.025, RK4 limit / 4): `mean err` the relative
  error of its time mean over (0, T], `early err` the largest error of the trace over the
  first 3 tau (before chaos decorrelates the trajectories), for ROS2-W at --dts and for
  RK4 at preflight.suggest_dt (its own production step) as the baseline; `spur` the
  largest spurious growth rate of a decaying bulk mode at that dt (bulk_spurious_growth);
  `passes/tau` the synapse passes per unit time (RK4: 4 per step, ROS2-W: 2).

With --linear, instead: the spectral radius rho of ROS2-W's one-step map linearised at the
homogeneous fixed point (power iteration: K = 200 steps of a 1e-8 deviation, renormalised
each step; rho = the mean growth factor of the last 50), at J0 = 0.7 (fixed point stable:
stable iff rho <= 1) and J0 = 2 (unstable: log(rho)/dt against the bulk-theory edge, the
exact growth rate). At N = 1000 it agrees with the dense eigenvalues of the map to 1e-3.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from stdnet import stiff_step
from stdnet.integrate import METHOD_CODES, kernel_args, make_work
from stdnet.integrate import advance as rk_advance
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.preflight import max_stable_dt, suggest_dt

RECORD = 0.5


def start(p, sd=0.5, seed=0):
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += np.random.default_rng(seed).normal(0.0, sd, p.N)
    return y


def run(p, args, y0, dt, T, method):
    """(population-mean E rate every RECORD, max|h|, wall seconds); None if it diverged."""
    from stdnet.transfer import phi

    y = y0.copy()
    if method == "rk4":
        step, work, code = rk_advance, make_work(p), METHOD_CODES["rk4"]
    else:
        step, work, code = stiff_step.advance, stiff_step.make_work(p), stiff_step.METHOD_CODE
    spr = round(RECORD / dt)
    rates, hmax = [], 0.0
    t0 = time.perf_counter()
    for _ in range(round(T / RECORD)):
        if step(y, spr, code, dt, *args, work) >= 0:
            return None, np.inf, time.perf_counter() - t0
        rates.append(phi(p.transfer, y[: p.N_E]).mean())
        hmax = max(hmax, float(np.abs(y[: p.N]).max()))
    return np.array(rates), hmax, time.perf_counter() - t0


def map_radius(p, net, dt, K=200):
    """Spectral radius of the linearised one-step map at the homogeneous fixed point."""
    ys = homogeneous_fixed_point(p).state(p)
    args, work = kernel_args(p, net), stiff_step.make_work(p)
    eps = 1e-8
    d = np.random.default_rng(0).normal(size=p.dim)
    d *= eps / np.linalg.norm(d)
    logs = []
    for _ in range(K):
        y = ys + d
        stiff_step.advance(y, 1, stiff_step.METHOD_CODE, dt, *args, work)
        d = y - ys
        n = np.linalg.norm(d)
        logs.append(np.log(n / eps))
        d *= eps / n
    return float(np.exp(np.mean(logs[-K // 4:])))


def linear(N_values):
    from stdnet.bulk import bulk_edge

    for N in N_values:
        net = build_network(ModelParams(N=N, J0=1.0), 1)
        for J0, dts in ((0.7, (0.25, 1.0, 4.0)), (2.0, (0.25, 1.0))):
            p = ModelParams(N=N, J0=J0)
            t0 = time.perf_counter()
            cells = []
            for dt in dts:
                rho = map_radius(p, net, dt)
                cells.append(f"dt={dt:g}: rho={rho:.4f} (log rho/dt {np.log(rho) / dt:+.3f})")
            print(f"N={N} J0={J0:g} RK4 limit {max_stable_dt(p):.4g}, bulk edge "
                  f"{bulk_edge(p)[0]:+.3f}: " + "; ".join(cells)
                  + f" ({time.perf_counter() - t0:.0f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[1000, 4000, 16000, 32000])
    ap.add_argument("--dts", type=float, nargs="+", default=[0.1, 0.25])
    ap.add_argument("--blow-dts", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    ap.add_argument("--T", type=float, default=20.0)
    ap.add_argument("--ref-dt", type=float, default=None,
                    help="RK4 reference dt (default min(0.025, RK4 limit / 4))")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip RK4 at its production dt (large N: it costs as much as the reference)")
    ap.add_argument("--linear", action="store_true")
    o = ap.parse_args()
    if o.linear:
        return linear(o.N)
    for N in o.N:
        p2, p15 = ModelParams(N=N, J0=2.0), ModelParams(N=N, J0=1.5)
        net = build_network(p2, 1)  # the pattern does not depend on J0
        rk2, rk15 = max_stable_dt(p2), max_stable_dt(p15)
        print(f"N={N}: K_E={p2.K_E} K_I={p2.K_I}  RK4 max stable dt: {rk2:.4g} (J0=2), "
              f"{rk15:.4g} (J0=1.5);  ROS2-W (homogeneous+leak modes): "
              f"{stiff_step.max_stable_dt(p2):g} (J0=2), {stiff_step.max_stable_dt(p15):g} (J0=1.5)",
              flush=True)
        # blow-up test at J0 = 2
        a2, y2 = kernel_args(p2, net), start(p2)
        _, h0, _ = run(p2, a2, y2, 0.1, 20.0, "ros2w")
        ok, bad = None, None
        for dt in o.blow_dts:
            _, hm, _ = run(p2, a2, y2, dt, 20.0, "ros2w")
            if np.isfinite(hm) and hm <= 3 * h0:
                ok = dt
            else:
                bad = dt
                break
        print(f"  J0=2 blow-up test (20 tau): ROS2-W bounded up to dt={ok} "
              f"(max|h| {h0:.3g} at dt=0.1){'' if bad is None else f', not at dt={bad}'}",
              flush=True)
        # accuracy at J0 = 1.5
        a15, y15 = kernel_args(p15, net), start(p15)
        dt_ref = min(0.025, rk15 / 4) if o.ref_dt is None else o.ref_dt
        dt_ref = RECORD / np.ceil(RECORD / dt_ref)
        ref, _, w_ref = run(p15, a15, y15, dt_ref, o.T, "rk4")
        m_ref = ref.mean()
        n_early = round(3.0 / RECORD)
        print(f"  J0=1.5 reference RK4 dt={dt_ref:.4g}: time-mean nu_E = {m_ref:.6g} "
              f"({w_ref:.0f} s)", flush=True)
        rows = [] if o.no_baseline else [("rk4", suggest_dt(rk15, (RECORD,)))]
        rows += [("ros2w", dt) for dt in o.dts]
        for method, dt in rows:
            r, _, w = run(p15, a15, y15, dt, o.T, method)
            passes = (4 if method == "rk4" else 2) / dt
            spur = "" if method == "rk4" else \
                f"  spur {stiff_step.bulk_spurious_growth(p15, dt):+.3f}/tau"
            if r is None:
                print(f"  {method:6s} dt={dt:<6g} DIVERGED", flush=True)
                continue
            print(f"  {method:6s} dt={dt:<6g} passes/tau {passes:5.0f}  mean err "
                  f"{abs(r.mean() - m_ref) / m_ref:.2e}  early err "
                  f"{np.abs(r[:n_early] - ref[:n_early]).max() / m_ref:.2e}  "
                  f"({w:.0f} s){spur}", flush=True)


if __name__ == "__main__":
    main()
