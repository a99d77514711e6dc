"""Benchmark: cost of the tangent step (m vectors) in trajectory steps, and the QR share.

Not a Snakemake rule: run by hand, e.g.

    NUMBA_NUM_THREADS=1 .venv/bin/python scripts/lyapunov_benchmark.py --N 10000 --m 8

Prints the time of one trajectory step (stdnet.integrate.advance), of one
trajectory+tangent step (stdnet.tangent.TangentStepper), their ratio against the
goal 1 + m/3, and the share of QR in a Lyapunov run with re-orthonormalisation
every `--ons` (units of tau). Baseline and candidate are measured in the same run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from stdnet.integrate import METHOD_CODES, advance, kernel_args, make_work
from stdnet.lyapunov import reorthonormalise
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.tangent import TangentStepper


def best_of(fns, repeats):
    """Min time of each function; calls interleaved, so load changes hit all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=10000)
    ap.add_argument("--J0", type=float, default=1.5)
    ap.add_argument("--m", type=int, default=8)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=20, help="steps per timing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ons", type=float, default=1.0, help="QR interval (tau)")
    a = ap.parse_args(argv)
    import numba

    p = ModelParams(N=a.N, J0=a.J0)
    net = build_network(p, 1)
    y0 = homogeneous_fixed_point(p).state(p)
    y0[:p.N] += 0.1 * np.random.default_rng(0).standard_normal(p.N)
    args = kernel_args(p, net)
    work = make_work(p)
    y = y0.copy()
    advance(y, 1, METHOD_CODES["rk4"], a.dt, *args, work)  # compile / warm up
    st = TangentStepper(p, net, a.m, a.dt)
    Q = np.ascontiguousarray(np.linalg.qr(np.random.default_rng(1).standard_normal((p.dim, a.m)))[0])
    yt = y0.copy()
    st.advance(yt, Q, 1)
    reorthonormalise(Q)
    t_traj, t_tan, t_qr = best_of([lambda: advance(y, a.steps, 0, a.dt, *args, work),
                                   lambda: st.advance(yt, Q, a.steps),
                                   lambda: reorthonormalise(Q)], a.repeats)
    t_traj /= a.steps
    t_tan /= a.steps
    n_ons = max(1, int(round(a.ons / a.dt)))
    qr_share = t_qr / (t_qr + n_ons * t_tan)
    print(f"N={a.N} m={a.m} dt={a.dt} threads={numba.get_num_threads()}")
    print(f"trajectory step (integrate.advance): {t_traj * 1e3:.3f} ms")
    print(f"trajectory + {a.m} tangent vectors:   {t_tan * 1e3:.3f} ms")
    print(f"ratio: {t_tan / t_traj:.2f} trajectory steps (goal <= 1 + m/3 = {1 + a.m / 3:.2f})")
    print(f"QR of ({p.dim}, {a.m}): {t_qr * 1e3:.3f} ms; every {n_ons} steps -> "
          f"{100 * qr_share:.2f}% of the run (goal < 5%)")


if __name__ == "__main__":
    main()
