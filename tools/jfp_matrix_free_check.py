r"""J_FP of the matrix-free search against the dense (shift-invert) one, realization by
realization, as the workflow runs them (start at the bulk-theory J_FP, J0 in [0.4, 1.6],
step 0.05, model constants of ModelParams' defaults).

    NUMBA_NUM_THREADS=2 nice python tools/jfp_matrix_free_check.py --N 1000 2000 --seeds 1 2 3 4 5
    NUMBA_NUM_THREADS=2 nice python tools/jfp_matrix_free_check.py --N 4000 --seeds 1 2 3
    # one method alone (e.g. timing a large N under /usr/bin/time -v):
    NUMBA_NUM_THREADS=2 python tools/jfp_matrix_free_check.py --N 40000 --seeds 1 \
        --methods matrix_free

Prints one row per (N, seed) and exits with status 1 if two methods differ by more than tol.
BLAS runs on one thread (--blas-threads), as in the workflow's rules (stdnet.workflow.runtime): idle
OpenBLAS threads spin and slowed the Krylov basis updates ~8x on a loaded 2-core machine.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.jfp import find_jfp
from stdnet.theory.bulk import bulk_jfp
from stdnet.workflow.runtime import limit_blas_threads


def search(params, net, start, method, tol, J0_range, step):
    t0 = time.perf_counter()
    r = find_jfp(params, net, J0_start=start, J0_range=J0_range, step=step, tol=tol,
                 method=method)
    return r, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, nargs="+", default=[1000, 2000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--methods", nargs="+", default=["shift_invert", "matrix_free"],
                    help="find_jfp methods; the first is the reference")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--step", type=float, default=0.05)
    ap.add_argument("--J0-range", type=float, nargs=2, default=[0.4, 1.6])
    ap.add_argument("--blas-threads", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log every eigen-solve (J0, rightmost eigenvalue, products)")
    a = ap.parse_args(argv)
    if a.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    limit_blas_threads(a.blas_threads)
    J0_range = tuple(a.J0_range)
    head = f"{'N':>6} {'seed':>4} " + " ".join(
        f"{m + ' J_FP':>18} {'kind':>5} {'freq':>6} {'evals':>5} {'time_s':>7}"
        for m in a.methods) + (f" {'|diff|':>9}" if len(a.methods) > 1 else "")
    print(head, flush=True)
    worst = 0.0
    for N in a.N:
        p = ModelParams(N=N, J0=1.0)
        start, _ = bulk_jfp(p, N, J0_range=J0_range)
        for seed in a.seeds:
            net = build_network(p, seed)
            results = [search(p, net, start, m, a.tol, J0_range, a.step) for m in a.methods]
            line = f"{N:>6} {seed:>4} " + " ".join(
                f"{r.J_FP:>18.6f} {r.crossing:>5} {r.frequency:>6.4f} "
                f"{len(r.evaluations):>5} {dt:>7.1f}" for r, dt in results)
            if len(results) > 1:
                diff = max(abs(r.J_FP - results[0][0].J_FP) for r, _ in results[1:])
                worst = max(worst, diff)
                line += f" {diff:>9.2e}"
            print(line, flush=True)
    if len(a.methods) > 1:
        print(f"largest |difference| {worst:.2e} (tol {a.tol:g})")
    return int(worst > a.tol)


if __name__ == "__main__":
    sys.exit(main())
