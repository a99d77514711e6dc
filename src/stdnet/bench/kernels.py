"""`stdnet bench --kernel lyapunov | stability | index-load`: one kernel against its alternative.

* lyapunov: one trajectory + m tangent vectors step (stdnet.lyapunov.tangent.TangentStepper) in
  trajectory steps (stdnet.kernels.cpu.advance), and the share of the QR
  re-orthonormalisation (stdnet.lyapunov.qr) in a Lyapunov run that re-orthonormalises
  every `--qr-interval` tau;
* stability: the rightmost eigenvalues of one realization's Jacobian at its homogeneous
  fixed point by shift-invert Arnoldi against dense eig of the full (N + N_E) matrix
  (stdnet.stability.spectrum), with the largest distance of a shift-invert eigenvalue to a dense one;
* index-load: one RK4 step with the E and I index rows each given plain (one uint16 load
  per synapse) or packed (four per 8-byte load), float64 and float32 state, with a check
  that every layout gives the same bits; * marks the layout kernels.cpu.packing_pays picks
  (the measurement behind it, docs/performance.md).

Baseline and candidate are timed in the same process, interleaved, minimum over
`--repeats` (stdnet.bench.timing.best_of).
"""
from __future__ import annotations

import numpy as np

from stdnet.bench.timing import best_of, network_and_state
from stdnet.kernels.cpu import (
    METHOD_CODES,
    advance,
    kernel_args,
    make_work,
    packed_rows,
    packing_pays,
)
from stdnet.kernels.hardware import l1d_bytes
from stdnet.lyapunov.qr import reorthonormalise
from stdnet.lyapunov.tangent import TangentStepper
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.spectrum import dense_eigenvalues, jacobian_blocks, rightmost_eigenvalues


def _tables(title: str, results: list[dict], header: str, row) -> str:
    """A title, then per thread count a table: header and row(r) for every run r."""
    lines = [title]
    for res in results:
        lines += ["", f"threads = {res['threads']}", header]
        lines += [row(r) for r in res["runs"]]
    return "\n".join(lines)


# ---- lyapunov ------------------------------------------------------------------------
def measure_lyapunov(opts, emit) -> dict:
    rk4, dt, steps = METHOD_CODES["rk4"], opts.dt, opts.steps
    qr_every = max(1, int(round(opts.qr_interval / dt)))
    rows = []
    for N in opts.N:
        p, net, y0, _ = network_and_state(N, opts)
        args, work, y = kernel_args(p, net), make_work(p), y0.copy()
        advance(y, 1, rk4, dt, *args, work)  # compile, warm up
        for m in opts.m:
            st = TangentStepper(p, net, m, dt)
            Q = np.linalg.qr(np.random.default_rng(1).standard_normal((p.dim, m)))[0]
            Q, yt = np.ascontiguousarray(Q), y0.copy()
            st.advance(yt, Q, 1)
            reorthonormalise(Q)
            t = best_of({"trajectory": (lambda n: advance(y, n, rk4, dt, *args, work), steps),
                         "tangent": (lambda n, st=st, Q=Q: st.advance(yt, Q, n), steps),
                         "qr": (lambda n, Q=Q: reorthonormalise(Q), 1)}, opts.repeats)
            rows.append({"N": N, "m": m, "dim": p.dim, "seconds": t, "qr_every": qr_every,
                         "qr_share": t["qr"] / (t["qr"] + qr_every * t["tangent"])})
            emit(rows[-1])
    return {"runs": rows}


def progress_lyapunov(row: dict) -> str:
    t = row["seconds"]
    return f"N={row['N']} m={row['m']}: {t['tangent'] / t['trajectory']:.2f} trajectory steps"


def report_lyapunov(results: list[dict], opts) -> str:
    def row(r):
        t = r["seconds"]
        return (f"{r['N']:>7} {r['m']:>4} {t['trajectory'] * 1e3:9.3f} "
                f"{t['tangent'] * 1e3:11.3f} {t['tangent'] / t['trajectory']:6.2f} "
                f"{t['qr'] * 1e3:8.3f} {100 * r['qr_share']:8.2f}%")

    return _tables(f"one trajectory + m tangent vectors step in trajectory steps, and the QR "
                   f"share of a run re-orthonormalised every {opts.qr_interval:g} tau; min over "
                   f"{opts.repeats} interleaved repeats of {opts.steps} steps", results,
                   f"{'N':>7} {'m':>4} {'traj ms':>9} {'tangent ms':>11} {'ratio':>6} "
                   f"{'QR ms':>8} {'QR share':>9}", row)


# ---- stability -----------------------------------------------------------------------
def measure_stability(opts, emit) -> dict:
    warm = ModelParams(N=200, J0=opts.J0, c=opts.c)
    rightmost_eigenvalues(jacobian_blocks(warm, build_network(warm, 1)), method="shift_invert")
    rows = []
    for N in opts.N:
        p = ModelParams(N=N, J0=opts.J0, c=opts.c)
        blocks = jacobian_blocks(p, build_network(p, opts.seed))
        ev = {}
        t = best_of({"dense": (lambda n: ev.update(dense=dense_eigenvalues(blocks)), 1),
                     "shift_invert": (lambda n: ev.update(si=rightmost_eigenvalues(
                         blocks, method="shift_invert")), 1)}, opts.repeats)
        dense, si = ev["dense"], ev["si"]
        rows.append({"N": N, "dim": p.dim, "seconds": t, "n_eigenvalues": int(si.size),
                     "rightmost_dense": [float(dense[0].real), float(dense[0].imag)],
                     "rightmost_shift_invert": [float(si[0].real), float(si[0].imag)],
                     "max_distance": float(np.abs(si[:, None] - dense[None, :]).min(axis=1)
                                           .max())})
        emit(rows[-1])
    return {"runs": rows}


def progress_stability(row: dict) -> str:
    t = row["seconds"]
    return f"N={row['N']}: shift-invert {t['dense'] / t['shift_invert']:.2f}x dense eig"


def report_stability(results: list[dict], opts) -> str:
    def row(r):
        t = r["seconds"]
        dense, si = (complex(*r[k]) for k in ("rightmost_dense", "rightmost_shift_invert"))
        return (f"{r['N']:>7} {r['dim']:>7} {t['dense']:9.3f} {t['shift_invert']:11.3f} "
                f"{t['dense'] / t['shift_invert']:7.2f}x {dense:24.6f} {si:24.6f} "
                f"{r['n_eigenvalues']:>5} {r['max_distance']:9.1e}")

    return _tables(f"rightmost Jacobian eigenvalues at the homogeneous fixed point, "
                   f"J0={opts.J0:g}: dense eig of the (N + N_E) matrix vs shift-invert Arnoldi, "
                   f"min over {opts.repeats} repeats; distance = the largest of a shift-invert "
                   f"eigenvalue to the nearest dense one", results,
                   f"{'N':>7} {'dim':>7} {'dense s':>9} {'shift-inv s':>11} {'speed-up':>8} "
                   f"{'rightmost (dense)':>24} {'rightmost (shift-inv)':>24} {'eigs':>5} "
                   f"{'distance':>9}", row)


# ---- index-load ----------------------------------------------------------------------
LAYOUTS = {"E plain, I plain": (0, 0), "E packed, I plain": (1, 0),
           "E plain, I packed": (0, 1), "both packed": (1, 1)}


def measure_index_load(opts, emit) -> dict:
    rows = []
    for N in opts.N:
        p, net, y0, _ = network_and_state(N, opts)
        plain = kernel_args(p, net, packed=False)
        syn = 4 * N * (p.K_E + p.K_I)
        n = max(1, int(2e8 / syn))
        for dtype in (np.float64, np.float32):
            timers, states = {}, []
            for name, (pe, pi) in LAYOUTS.items():
                args = ((packed_rows(plain[0]) if pe else plain[0]),
                        (packed_rows(plain[1]) if pi else plain[1])) + plain[2:]
                y, work = y0.astype(dtype), make_work(p, dtype)
                advance(y, 1, 0, opts.dt, *args, work)  # compile, warm the caches
                states.append(y)
                timers[name] = (lambda k, args=args, y=y, work=work:
                                advance(y, k, 0, opts.dt, *args, work), n)
            t = best_of(timers, opts.repeats)
            if not all(np.array_equal(states[0], y) for y in states[1:]):
                raise RuntimeError(f"N={N} {np.dtype(dtype).name}: the index layouts gave "
                                   "different bits (a bug in kernels.cpu.packed_rows)")
            rows.append({"N": N, "state": np.dtype(dtype).name,
                         "E_rates_bytes": p.N_E * np.dtype(dtype).itemsize,
                         "gsyn": {k: syn / s / 1e9 for k, s in t.items()},
                         "pick": "both packed" if packing_pays(p.N_E, dtype)
                         else "E plain, I plain"})
            emit(rows[-1])
    return {"runs": rows}


def progress_index_load(row: dict) -> str:
    return f"N={row['N']} {row['state']}: {row['gsyn'][row['pick']]:.2f} Gsyn/s as picked"


def report_index_load(results: list[dict], opts) -> str:
    def row(r):
        cells = [f"{r['gsyn'][k]:16.2f}{'*' if k == r['pick'] else ' '}" for k in LAYOUTS]
        return (f"{r['N']:7d} {r['state']:>8} {r['E_rates_bytes'] / 1024:6.0f}Ki  "
                + "  ".join(cells))

    return _tables(f"L1d {l1d_bytes() // 1024} KiB; Gsyn/s per layout, min over {opts.repeats} "
                   "interleaved repeats; * = the layout packing_pays picks", results,
                   f"{'N':>7} {'state':>8} {'E rates':>8}  "
                   + "  ".join(f"{k:>17}" for k in LAYOUTS), row)


#: what stdnet.bench.command runs for each --kernel: (measure, progress, report)
KERNELS = {"lyapunov": (measure_lyapunov, progress_lyapunov, report_lyapunov),
           "stability": (measure_stability, progress_stability, report_stability),
           "index-load": (measure_index_load, progress_index_load, report_index_load)}
