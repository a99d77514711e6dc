"""`stdnet bench`: our kernels against the baselines a user would write, in one run.

For every N (same network, same state, same dt) it times one RK4 step of
  (a) the naive dense implementation (N x N float64 matrix, numpy/BLAS),
  (b) scipy.sparse CSR with float values,
  (c) our trajectory step (stdnet.integrate.advance),
  (d) our trajectory + m tangent vectors (stdnet.tangent.TangentStepper), m = 1, 8,
and probes the memory bandwidth (a streaming read of an array larger than the
last-level cache). It prints time per step, synapse updates per second, the
ratios (a)/(c), (b)/(c), (d)/(c) and our rate against the bandwidth bound
(bandwidth / pattern bytes per synapse: the rate at which the index rows could
stream from memory).

Each thread count runs in its own child process, so numba *and* BLAS get exactly
that many threads. Timings are the minimum over `--repeats` interleaved
repetitions (the machine may be shared: the minimum is the least disturbed run).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import time

import numpy as np
from numba import njit, prange

from .hardware import cache_sizes, cpu_name, mem_available

log = logging.getLogger("stdnet.bench")

DEFAULT_N = (2000, 5000, 10000, 20000, 40000)
BIG_N = 100000
GOAL_N = 10000


# ---- machine facts ----------------------------------------------------------------
def where_fits(nbytes: int, caches: dict) -> str:
    for level in ("L2", "L3"):
        if level in caches and nbytes <= caches[level]:
            return level
    return "DRAM"


# ---- measurement ------------------------------------------------------------------
@njit(cache=True, parallel=True, fastmath=True)
def stream_sum(a):
    """Sum of a large array: a pure streaming read (vectorised, no reuse)."""
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s


def bandwidth_probe(nbytes: int, repeats: int) -> float:
    """Read bandwidth (bytes/s) of a parallel streaming sum over a fresh array."""
    a = np.ones(nbytes // 8)
    stream_sum(a[:1024])
    best = math.inf
    for _ in range(max(repeats, 2)):
        t0 = time.perf_counter()
        stream_sum(a)
        best = min(best, time.perf_counter() - t0)
    return a.nbytes / best


def _calibrate(fn, target_s: float, max_n: int) -> int:
    """How many calls of fn make one timing last about target_s (fn already warm)."""
    t0 = time.perf_counter()
    fn(1)
    t1 = max(time.perf_counter() - t0, 1e-7)
    return int(max(1, min(max_n, math.ceil(target_s / t1))))


def best_of(timers: dict, repeats: int) -> dict:
    """Min time per call of each timer; repetitions interleaved across timers.

    timers: name -> (fn(n) running n calls, n).
    """
    best = {k: math.inf for k in timers}
    for _ in range(repeats):
        for k, (fn, n) in timers.items():
            t0 = time.perf_counter()
            fn(n)
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return best


def measure_N(N: int, opts) -> dict:
    """All timings for one N at the current thread count."""
    from .integrate import METHOD_CODES, advance, kernel_args, make_work
    from .meanfield import homogeneous_fixed_point
    from .network import build_network
    from .params import ModelParams
    from .reference import ReferenceModel, dense_bytes

    p = ModelParams(N=N, J0=opts.J0, c=opts.c)
    t0 = time.perf_counter()
    net = build_network(p, opts.seed)
    build_s = time.perf_counter() - t0
    syn = N * (p.K_E + p.K_I)  # synapses per evaluation of the vector field
    res = {"N": N, "K_E": p.K_E, "K_I": p.K_I, "synapses": syn, "build_s": build_s,
           "pattern_bytes": net.nbytes, "bytes_per_synapse": net.nbytes / syn,
           "index_dtype": str(net.pre_E.dtype), "skipped": {}}
    y0 = homogeneous_fixed_point(p).state(p)
    y0[:N] += 0.1 * np.random.default_rng(0).standard_normal(N)
    dt = opts.dt
    target = 0.02 if opts.quick else 0.1
    timers = {}

    # (c) ours
    args = kernel_args(p, net)
    res["index_load"] = "packed" if args[0].dtype == np.uint64 else "plain"
    work = make_work(p)
    y_ours = y0.copy()
    rk4 = METHOD_CODES["rk4"]

    def ours(n):
        advance(y_ours, n, rk4, dt, *args, work)

    ours(1)
    timers["ours"] = (ours, _calibrate(ours, target, 1000))

    # (a) dense numpy, (b) scipy CSR
    avail = mem_available()
    for kind in ("dense", "csr"):
        need = dense_bytes(N) if kind == "dense" else 12 * syn
        if kind == "dense" and N > opts.dense_max:
            res["skipped"][kind] = f"N > --dense-max {opts.dense_max} ({need / 2**30:.1f} GiB)"
            continue
        if avail and need > avail / 3:
            res["skipped"][kind] = (f"needs {need / 2**30:.1f} GiB, more than a third of the "
                                    f"available {avail / 2**30:.1f} GiB")
            continue
        model = ReferenceModel(p, net, kind)
        state = {"y": y0.copy()}

        def ref(n, model=model, state=state):
            for _ in range(n):
                state["y"] = model.step(state["y"], dt)

        ref(1)
        timers[kind] = (ref, _calibrate(ref, target, 100))

    # (d) tangent steps
    TangentStepper = None
    if opts.no_tangent:
        res["skipped"]["tangent"] = "--no-tangent"
    elif N > opts.tangent_max:
        res["skipped"]["tangent"] = f"N > --tangent-max {opts.tangent_max}"
    else:
        try:
            from .tangent import TangentStepper
        except ImportError as e:
            res["skipped"]["tangent"] = f"stdnet.tangent not importable ({e})"
    if TangentStepper is not None:
        for m in opts.m:
            try:
                st = TangentStepper(p, net, m, dt)
                Q = np.linalg.qr(np.random.default_rng(1).standard_normal((p.dim, m)))[0]
                Q = np.ascontiguousarray(Q)
                y_t = y0.copy()
                st.step(y_t, Q)
            except Exception as e:  # a different API: say so, keep benchmarking the rest
                res["skipped"][f"tangent_m{m}"] = f"{type(e).__name__}: {e}"
                continue

            def tan(n, st=st, y_t=y_t, Q=Q):
                for _ in range(n):
                    st.step(y_t, Q)
                Q /= np.linalg.norm(Q, axis=0)  # keep the block bounded between timings

            timers[f"tangent_m{m}"] = (tan, _calibrate(tan, target, 100))

    res["seconds_per_step"] = best_of(timers, opts.repeats)
    return res


def worker(opts) -> dict:
    """Everything for one thread count (run in a child process with that many threads)."""
    import numba

    from .runtime import set_threads

    set_threads(opts.threads_now)
    out = {"threads": numba.get_num_threads(), "cpu": cpu_name(), "caches": cache_sizes(),
           "numba": numba.__version__, "numpy": np.__version__}
    bw_bytes = opts.bandwidth_mib * 2 ** 20
    out["bandwidth_Bps"] = bandwidth_probe(bw_bytes, opts.repeats)
    out["bandwidth_probe_bytes"] = bw_bytes
    out["runs"] = []
    for N in opts.N:
        log.info("threads=%d N=%d", out["threads"], N)
        out["runs"].append(measure_N(N, opts))
        print(json.dumps({"partial": out["runs"][-1], "threads": out["threads"]}),
              flush=True)
    return out


# ---- report -------------------------------------------------------------------------
def _ms(t):
    return f"{t * 1e3:9.2f}" if t is not None else "        -"


def format_table(res: dict) -> str:
    """One table per thread count."""
    bw = res["bandwidth_Bps"]
    lines = [f"threads = {res['threads']}; bandwidth probe: {bw / 1e9:.1f} GB/s "
             f"(parallel streaming read of {res['bandwidth_probe_bytes'] / 2**20:.0f} MiB)",
             f"{'N':>7} {'K_E+K_I':>7} {'pattern':>13} {'dense ms':>9} {'csr ms':>9} "
             f"{'ours ms':>9} {'Gsyn/s':>7} {'x dense':>8} {'x csr':>7} {'tan m=1':>8} "
             f"{'tan m=8':>8} {'%bound':>7}"]
    caches = res.get("caches", {})
    for r in res["runs"]:
        t = r["seconds_per_step"]
        ours = t["ours"]
        rate = 4 * r["synapses"] / ours
        bound = bw / r["bytes_per_synapse"]
        pat = f"{r['pattern_bytes'] / 2**20:7.1f}M {where_fits(r['pattern_bytes'], caches):>4}"

        def ratio(k, inv=False):
            if k not in t:
                return "-"
            return f"{(ours / t[k]) if inv else (t[k] / ours):.2f}"

        lines.append(
            f"{r['N']:>7} {r['K_E'] + r['K_I']:>7} {pat:>13} {_ms(t.get('dense'))} "
            f"{_ms(t.get('csr'))} {_ms(ours)} {rate / 1e9:7.2f} {ratio('dense'):>8} "
            f"{ratio('csr'):>7} {ratio('tangent_m1'):>8} {ratio('tangent_m8'):>8} "
            f"{100 * rate / bound:6.0f}%")
        for k, why in r["skipped"].items():
            lines.append(f"{'':>7} skipped {k}: {why}")
    return "\n".join(lines)


def format_scaling(results: list[dict]) -> str:
    if len(results) < 2:
        return ""
    base = results[0]
    lines = [f"thread scaling of our trajectory step (vs {base['threads']} thread):"]
    for res in results[1:]:
        for r0, r in zip(base["runs"], res["runs"]):
            s = r0["seconds_per_step"]["ours"] / r["seconds_per_step"]["ours"]
            lines.append(f"  N={r['N']:>7}: {res['threads']} threads {s:.2f}x")
    return "\n".join(lines)


def goals(results: list[dict]) -> str:
    """The issue's goals, checked on what this run measured."""
    lines = []
    one = next((r for r in results if r["threads"] == 1), None)
    if one is None:
        return ""
    g = next((r for r in one["runs"] if r["N"] == GOAL_N), None)
    if g is not None:
        t = g["seconds_per_step"]
        rate = 4 * g["synapses"] / t["ours"]
        bound = one["bandwidth_Bps"] / g["bytes_per_synapse"]
        where = where_fits(g["pattern_bytes"], one.get("caches", {}))
        if "dense" in t:
            v = t["dense"] / t["ours"]
            lines.append(f"  N=1e4 vs dense numpy: {v:.1f}x (goal >= 8)  "
                         f"{'met' if v >= 8 else 'NOT met'}")
        if "csr" in t:
            v = t["csr"] / t["ours"]
            lines.append(f"  N=1e4 vs scipy CSR: {v:.1f}x (goal >= 2)  "
                         f"{'met' if v >= 2 else 'NOT met'}")
        if where == "DRAM":
            v = rate / bound
            lines.append(f"  N=1e4 pattern in DRAM: {100 * v:.0f}% of bandwidth bound "
                         f"(goal >= 25%)  {'met' if v >= 0.25 else 'NOT met'}")
        else:
            lines.append(f"  N=1e4 pattern in {where}: {rate / 1e9:.2f} Gsyn/s/core "
                         f"(goal >= 2.5)  {'met' if rate >= 2.5e9 else 'NOT met'}")
        if "tangent_m8" in t:
            v = t["tangent_m8"] / t["ours"]
            lines.append(f"  N=1e4 m=8 tangent step: {v:.2f} trajectory steps (goal <= 3.7)  "
                         f"{'met' if v <= 3.7 else 'NOT met'}")
    for res in results:
        if res["threads"] == 2:
            r0 = next((r for r in one["runs"] if r["N"] == 40000), None)
            r2 = next((r for r in res["runs"] if r["N"] == 40000), None)
            if r0 and r2:
                v = r0["seconds_per_step"]["ours"] / r2["seconds_per_step"]["ours"]
                lines.append(f"  N=4e4 2 threads vs 1: {v:.2f}x (goal >= 1.7)  "
                             f"{'met' if v >= 1.7 else 'NOT met'}")
    return ("goals (one thread unless stated):\n" + "\n".join(lines)) if lines else ""


# ---- CLI ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--N", type=int, nargs="+", default=None,
                   help=f"network sizes (default {' '.join(map(str, DEFAULT_N))}, "
                        f"plus {BIG_N} when the memory allows)")
    p.add_argument("--threads", type=int, nargs="+", default=None,
                   help="thread counts, one child process each (default: 1 and all cores)")
    p.add_argument("--repeats", type=int, default=None,
                   help="interleaved repetitions; the minimum is reported (default 5, quick 3)")
    p.add_argument("--quick", action="store_true",
                   help="short timings, smaller bandwidth probe (a smoke test, ~1 min at N=2000)")
    p.add_argument("--m", type=int, nargs="+", default=[1, 8],
                   help="tangent block widths (default 1 8)")
    p.add_argument("--no-tangent", action="store_true",
                   help="skip the tangent step (e.g. to avoid compiling it in a smoke test)")
    p.add_argument("--J0", type=float, default=1.5, help="coupling (default 1.5)")
    p.add_argument("--c", type=float, default=0.1, help="connection probability (default 0.1)")
    p.add_argument("--dt", type=float, default=0.05, help="time step (default 0.05)")
    p.add_argument("--seed", type=int, default=1, help="network seed (default 1)")
    p.add_argument("--tangent-max", type=int, default=40000,
                   help="largest N for the tangent step (default 40000)")
    p.add_argument("--dense-max", type=int, default=20000,
                   help="largest N for the dense baseline (default 20000: 3.2 GB)")
    p.add_argument("--bandwidth-mib", type=int, default=None,
                   help="size of the bandwidth probe's array (default 1024, quick 512; "
                        "must exceed the last-level cache)")
    p.add_argument("--json", default=None, help="also write all results to this JSON file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads-now", type=int, default=1, help=argparse.SUPPRESS)


def _validate(args) -> None:
    from .params import ModelParams

    for N in args.N:
        ModelParams(N=N, J0=args.J0, c=args.c)  # names the key on bad input
    for key in ("repeats", "bandwidth_mib"):
        v = getattr(args, key)
        if v < 1:
            raise ValueError(f"--{key.replace('_', '-')}: invalid value {v}; allowed: >= 1")
    for t in args.threads:
        if t < 1:
            raise ValueError(f"--threads: invalid value {t}; allowed: integers >= 1")
    for m in args.m:
        if m < 1:
            raise ValueError(f"--m: invalid value {m}; allowed: integers >= 1")


def _child_argv(args, threads: int) -> list[str]:
    argv = [sys.executable, "-m", "stdnet.bench", "--worker", "--threads-now", str(threads),
            "--N", *map(str, args.N), "--repeats", str(args.repeats), "--m", *map(str, args.m),
            "--J0", str(args.J0), "--c", str(args.c), "--dt", str(args.dt),
            "--seed", str(args.seed), "--dense-max", str(args.dense_max),
            "--tangent-max", str(args.tangent_max),
            "--bandwidth-mib", str(args.bandwidth_mib), "--threads", str(threads)]
    if args.quick:
        argv.append("--quick")
    if args.no_tangent:
        argv.append("--no-tangent")
    return argv


def run(args) -> int:
    if args.N is None:
        args.N = list(DEFAULT_N)
        if mem_available() > 16 * 2 ** 30:
            args.N.append(BIG_N)
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if args.threads is None:
        args.threads = sorted({1, ncpu})
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.bandwidth_mib is None:
        args.bandwidth_mib = 512 if args.quick else 1024
    _validate(args)
    if args.json and not args.worker:
        from .io import check_writable

        check_writable(args.json)  # before minutes of timing, not after
    if args.worker:
        print(json.dumps({"result": worker(args)}), flush=True)
        return 0

    results = []
    started = time.perf_counter()
    load_start = os.getloadavg()
    for t in args.threads:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(max(t, 1)), OMP_NUM_THREADS=str(t),
                   OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        proc = subprocess.Popen(_child_argv(args, t), env=env, stdout=subprocess.PIPE,
                                text=True)
        result = None
        for line in proc.stdout:  # progress lines as each N finishes
            msg = json.loads(line)
            if "partial" in msg:
                r = msg["partial"]
                print(f"[threads={msg['threads']}] N={r['N']}: ours "
                      f"{r['seconds_per_step']['ours'] * 1e3:.2f} ms/step "
                      f"(network built in {r['build_s']:.1f} s)", file=sys.stderr, flush=True)
            else:
                result = msg["result"]
        if proc.wait() != 0 or result is None:
            print(f"stdnet bench: the child for {t} thread(s) failed (exit {proc.returncode})",
                  file=sys.stderr)
            return 1
        results.append(result)

    info = results[0]
    caches = ", ".join(f"{k} {v / 2**20:g} MiB" for k, v in info["caches"].items())
    print(f"stdnet bench: {info['cpu']} ({ncpu} cores; {caches}); numba {info['numba']}, "
          f"numpy {info['numpy']}; J0={args.J0}, c={args.c}, dt={args.dt}, seed={args.seed}")
    print("times per RK4 step, min over {} interleaved repeats; Gsyn/s = 4 N (K_E+K_I) / "
          "time; x dense, x csr = baseline time / ours; tan m = (trajectory + m tangent "
          "vectors) / trajectory step; %bound = our rate / (bandwidth / pattern bytes per "
          "synapse)".format(args.repeats))
    r0 = info["runs"][0]
    print(f"pattern: {r0['bytes_per_synapse']:.0f} bytes/synapse ({r0['index_dtype']}) "
          f"for N={r0['N']}" + "".join(
              f"; {r['bytes_per_synapse']:.0f} ({r['index_dtype']}) for N={r['N']}"
              for r in info["runs"][1:] if r["index_dtype"] != r0["index_dtype"]))
    packed = [str(r["N"]) for r in info["runs"] if r.get("index_load") == "packed"]
    print("index loads: " + (f"packed, 4 uint16 per 8-byte load, for N={', '.join(packed)} "
                             "(the E rates exceed 80% of L1d); " if packed else "")
          + "one per synapse otherwise")
    for res in results:
        print()
        print(format_table(res))
    text = format_scaling(results)
    if text:
        print()
        print(text)
    text = goals(results)
    if text:
        print()
        print(text)
    load_end = os.getloadavg()
    print(f"\n(total {time.perf_counter() - started:.0f} s; load average {load_start[0]:.1f} at "
          f"the start, {load_end[0]:.1f} at the end, on {ncpu} cores: a load above the core "
          "count means other jobs shared the cores and every time above is inflated)")
    if args.json:
        from .io import write_text

        write_text(args.json, json.dumps({"args": {k: v for k, v in vars(args).items()
                                                   if k != "func"},
                                          "results": results}, indent=1))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="stdnet bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    try:
        return run(parser.parse_args(argv))
    except ValueError as e:
        print(f"stdnet bench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
