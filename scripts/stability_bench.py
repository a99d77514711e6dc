"""Benchmark (run by hand): rightmost eigenvalues of one realization's Jacobian by
shift-invert Arnoldi vs dense eig of the full (N + N_E) matrix, timed in the same run.

    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/stability_bench.py --N 1000
"""
import argparse
import time

import numpy as np

from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.spectrum import dense_eigenvalues, jacobian_blocks, rightmost_eigenvalues


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=1000)
    ap.add_argument("--J0", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    p = ModelParams(N=a.N, J0=a.J0)
    blocks = jacobian_blocks(p, build_network(p, a.seed))
    rightmost_eigenvalues(jacobian_blocks(ModelParams(N=200, J0=a.J0),
                                          build_network(ModelParams(N=200, J0=a.J0), 1)),
                          method="shift_invert")  # warm-up
    t0 = time.perf_counter()
    dense = dense_eigenvalues(blocks)
    t_dense = time.perf_counter() - t0
    t0 = time.perf_counter()
    si = rightmost_eigenvalues(blocks, method="shift_invert")
    t_si = time.perf_counter() - t0
    err = np.abs(si[:, None] - dense[None, :]).min(axis=1).max()
    print(f"N={a.N} (dim {p.dim}), J0={a.J0}, seed={a.seed}")
    print(f"dense eig      : {t_dense:8.3f} s   rightmost {dense[0]:.6f}")
    print(f"shift-invert   : {t_si:8.3f} s   rightmost {si[0]:.6f}   ({si.size} eigenvalues, "
          f"max distance to a dense eigenvalue {err:.1e})")
    print(f"speed-up       : {t_dense / t_si:8.2f}x")


if __name__ == "__main__":
    main()
