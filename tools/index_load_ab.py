"""Packed against plain index loads, in one process, on the same network and state.

For each N and state precision it times one RK4 step of `integrate.advance` with
the E and I index rows each given plain (one uint16 load per synapse) or packed
(four per 8-byte load), interleaved, min over repeats, one thread, and prints
synapse updates per second. This is the measurement behind
`integrate.packing_pays` (docs/performance.md). Both layouts give the same bits,
which it checks.

    python tools/index_load_ab.py --N 2000 5000 6000 7000 8000 10000 40000
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from stdnet.hardware import l1d_bytes
from stdnet.integrate import advance, kernel_args, make_work, packed_rows, packing_pays
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.runtime import set_threads

LAYOUTS = {"E plain, I plain": (0, 0), "E packed, I plain": (1, 0),
           "E plain, I packed": (0, 1), "both packed": (1, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[2000, 5000, 7000, 10000, 40000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--J0", type=float, default=1.5)
    a = ap.parse_args(argv)
    set_threads(1)
    print(f"one thread; L1d {l1d_bytes() // 1024} KiB; Gsyn/s per layout, min over "
          f"{a.repeats} interleaved repeats; * = the layout packing_pays picks")
    print(f"{'N':>7} {'state':>8} {'E rates':>8}  " + "  ".join(f"{k:>17}" for k in LAYOUTS))
    for N in a.N:
        p = ModelParams(N=N, J0=a.J0)
        net = build_network(p, 1)
        plain = kernel_args(p, net, packed=False)
        y0 = homogeneous_fixed_point(p).state(p)
        y0[:N] += 0.1 * np.random.default_rng(0).standard_normal(N)
        syn = 4 * N * (p.K_E + p.K_I)
        n = max(1, int(2e8 / syn))
        for dtype in (np.float64, np.float32):
            runs = {}
            for name, (pe, pi) in LAYOUTS.items():
                args = ((packed_rows(plain[0]) if pe else plain[0]),
                        (packed_rows(plain[1]) if pi else plain[1])) + plain[2:]
                y = y0.astype(dtype)
                work = make_work(p, dtype)
                advance(y, 1, 0, 0.05, *args, work)  # compile, warm the caches
                runs[name] = [args, y, work, np.inf]
            for _ in range(a.repeats):
                for r in runs.values():
                    t = time.perf_counter()
                    advance(r[1], n, 0, 0.05, *r[0], r[2])
                    r[3] = min(r[3], (time.perf_counter() - t) / n)
            ys = [r[1] for r in runs.values()]
            assert all(np.array_equal(ys[0], y) for y in ys[1:]), "layouts differ in bits"
            pick = "both packed" if packing_pays(p.N_E, dtype) else "E plain, I plain"
            cells = [f"{syn / r[3] / 1e9:16.2f}{'*' if k == pick else ' '}"
                     for k, r in runs.items()]
            kib = p.N_E * np.dtype(dtype).itemsize / 1024
            print(f"{N:7d} {np.dtype(dtype).name:>8} {kib:6.0f}Ki  " + "  ".join(cells),
                  flush=True)


if __name__ == "__main__":
    main()
