"""`stdnet bench --kernel step` (the default): one RK4 step, ours against the baselines.

For every N (same network, same state, same dt) it times one RK4 step of
  (a) the naive dense implementation (N x N float64 matrix, numpy/BLAS),
  (b) scipy.sparse CSR with float values,
  (c) our trajectory step (stdnet.kernels.cpu.advance),
  (d) our trajectory + m tangent vectors (stdnet.lyapunov.tangent.TangentStepper), m = 1, 2, 8:
      the path a Lyapunov run takes (fused for m <= 3, blocks of 8 beyond); with
      --tangent-block also the block path for the fused m (the step before the fused one),
and probes the memory bandwidth (a streaming read of an array larger than the
last-level cache). It prints time per step, synapse updates per second, the
ratios (a)/(c), (b)/(c), (d)/(c) and our rate against the bandwidth bound
(bandwidth / pattern bytes per synapse: the rate at which the index rows could
stream from memory). Targets for these numbers are checked only when given
(`--goal KEY=VALUE`, see GOAL_KEYS): a benchmark reports ratios, the goals are the
caller's.
"""
from __future__ import annotations

import logging
import math
import re
import time

import numpy as np
from numba import njit, prange

from stdnet.bench.timing import best_of, calibrate, kicked_state
from stdnet.kernels import etd4 as expint
from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
from stdnet.kernels.hardware import mem_available
from stdnet.kernels.reference import ReferenceModel, dense_bytes
from stdnet.lyapunov.tangent import TangentStepper, tangent_path
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams

log = logging.getLogger("stdnet.bench.command")

DEFAULT_N = (2000, 5000, 10000, 20000, 40000)
BIG_N = 100000

#: --goal keys: the least ratio to dense numpy and to scipy CSR, the least Gsyn/s per core
#: where the pattern fits a cache, the least fraction of the bandwidth bound where it does
#: not, the most trajectory steps per tangent step with K vectors, the least speed-up of K
#: threads over one; each checked at every N measured
GOAL_KEYS = ("dense", "csr", "gsyn", "bound", "tangent_mK", "threadsK")
_GOAL = re.compile(r"^(dense|csr|gsyn|bound|tangent_m[1-9][0-9]*|threads[1-9][0-9]*)$")


def where_fits(nbytes: int, caches: dict) -> str:
    for level in ("L2", "L3"):
        if level in caches and nbytes <= caches[level]:
            return level
    return "DRAM"


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


def measure_N(N: int, opts) -> dict:
    """All timings for one N at the current thread count."""
    p = ModelParams(N=N, J0=opts.J0, c=opts.c)
    t0 = time.perf_counter()
    net = build_network(p, opts.seed)
    build_s = time.perf_counter() - t0
    syn = N * (p.K_E + p.K_I)  # synapses per evaluation of the vector field
    res = {"N": N, "K_E": p.K_E, "K_I": p.K_I, "synapses": syn, "build_s": build_s,
           "pattern_bytes": net.nbytes, "bytes_per_synapse": net.nbytes / syn,
           "index_dtype": str(net.pre_E.dtype), "skipped": {}}
    y0 = kicked_state(p)
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
    timers["ours"] = (ours, calibrate(ours, target, 1000))

    # (c') ETD4: the same four passes over the synapses plus its O(N) means; at the same
    # dt it costs a little more per step, the saving is the larger dt it allows

    y_etd = y0.copy()
    etd_work = expint.make_work(p)

    def etd(n):
        expint.advance(y_etd, n, expint.METHOD_CODE, dt, *args, etd_work)

    etd(1)
    timers["etd4"] = (etd, calibrate(etd, target, 1000))

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
        timers[kind] = (ref, calibrate(ref, target, 100))

    # (d) tangent steps
    if opts.no_tangent:
        res["skipped"]["tangent"] = "--no-tangent"
    elif N > opts.tangent_max:
        res["skipped"]["tangent"] = f"N > --tangent-max {opts.tangent_max}"
    else:

        runs = [(m, "auto") for m in opts.m]
        if getattr(opts, "tangent_block", False):
            runs += [(m, "block") for m in opts.m if tangent_path(m) != "block"]
        res["tangent_path"] = {}
        for m, path in runs:
            key = f"tangent_m{m}" + ("_block" if path == "block" else "")
            try:
                st = TangentStepper(p, net, m, dt, getattr(opts, "method", "rk4"), path=path)
                Q = np.linalg.qr(np.random.default_rng(1).standard_normal((p.dim, m)))[0]
                Q = np.ascontiguousarray(Q)
                y_t = y0.copy()
                st.step(y_t, Q)
            except Exception as e:  # a different API: say so, keep benchmarking the rest
                res["skipped"][key] = f"{type(e).__name__}: {e}"
                continue
            res["tangent_path"][key] = st.path

            def tan(n, st=st, y_t=y_t, Q=Q):
                for _ in range(n):
                    st.step(y_t, Q)
                Q /= np.linalg.norm(Q, axis=0)  # keep the block bounded between timings

            timers[key] = (tan, calibrate(tan, target, 100))

    res["seconds_per_step"] = best_of(timers, opts.repeats)
    return res


def measure(opts, emit) -> dict:
    """Bandwidth and every N at the current thread count; emit(row) after each N."""
    bw_bytes = opts.bandwidth_mib * 2 ** 20
    out = {"bandwidth_Bps": bandwidth_probe(bw_bytes, opts.repeats),
           "bandwidth_probe_bytes": bw_bytes, "runs": []}
    for N in opts.N:
        out["runs"].append(measure_N(N, opts))
        emit(out["runs"][-1])
    return out


def progress(row: dict) -> str:
    return (f"N={row['N']}: ours {row['seconds_per_step']['ours'] * 1e3:.2f} ms/step "
            f"(network built in {row['build_s']:.1f} s)")


# ---- report -------------------------------------------------------------------------
def _ms(t):
    return f"{t * 1e3:9.2f}" if t is not None else "        -"


def tangent_keys(runs) -> list[str]:
    """The tangent timings present in any run, by m, the block path after the fused one."""
    keys = {k for r in runs for k in r["seconds_per_step"] if k.startswith("tangent_m")}

    def order(k):
        m, _, block = k[len("tangent_m"):].partition("_")
        return int(m), bool(block)

    return sorted(keys, key=order)


def _tangent_label(key: str) -> str:
    """tangent_m1 -> 'tan m=1', tangent_m1_block -> 'm=1 blk'."""
    m, _, block = key[len("tangent_m"):].partition("_")
    return f"m={m} blk" if block else f"tan m={m}"


def format_table(res: dict) -> str:
    """One table per thread count; one tangent column per m timed (and per block path)."""
    bw = res["bandwidth_Bps"]
    tkeys = tangent_keys(res["runs"])
    lines = [f"threads = {res['threads']}; bandwidth probe: {bw / 1e9:.1f} GB/s "
             f"(parallel streaming read of {res['bandwidth_probe_bytes'] / 2**20:.0f} MiB)",
             f"{'N':>7} {'K_E+K_I':>7} {'pattern':>13} {'dense ms':>9} {'csr ms':>9} "
             f"{'ours ms':>9} {'Gsyn/s':>7} {'x dense':>8} {'x csr':>7} {'etd4':>6} "
             + "".join(f"{_tangent_label(k):>8} " for k in tkeys) + f"{'%bound':>7}"]
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
            f"{ratio('csr'):>7} {ratio('etd4'):>6} " + "".join(f"{ratio(k):>8} " for k in tkeys)
            + f"{100 * rate / bound:6.0f}%")
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


def _sci(N: int) -> str:
    """10000 -> '1e4', 40000 -> '4e4'; other sizes as they are."""
    e = int(math.log10(N)) if N > 0 else 0
    return f"{N // 10 ** e}e{e}" if N > 0 and N % 10 ** e == 0 and e >= 3 else str(N)


def parse_goals(specs) -> dict:
    """--goal KEY=VALUE options as {key: value}; ValueError naming a bad one."""
    goals = {}
    for spec in specs or []:
        key, sep, value = str(spec).partition("=")
        try:
            goals[key] = float(value)
        except ValueError:
            sep = ""
        if not sep or not _GOAL.match(key):
            raise ValueError(f"--goal: invalid value {spec!r}; allowed: KEY=NUMBER with KEY one "
                             f"of {', '.join(GOAL_KEYS)} (K: a whole number)")
    return goals


def goals(results: list[dict], targets: dict) -> str:
    """The targets (parse_goals) checked at every N measured, one thread unless stated."""
    one = next((r for r in results if r["threads"] == 1), None)
    if one is None or not targets:
        return ""
    lines = []

    def check(label: str, shown: str, ok: bool, goal: str) -> None:
        lines.append(f"  {label}: {shown} (goal {goal})  {'met' if ok else 'NOT met'}")

    for g in one["runs"]:
        n, t = _sci(g["N"]), g["seconds_per_step"]
        rate = 4 * g["synapses"] / t["ours"]
        where = where_fits(g["pattern_bytes"], one.get("caches", {}))
        for kind, name in (("dense", "dense numpy"), ("csr", "scipy CSR")):
            if kind in targets and kind in t:
                v, goal = t[kind] / t["ours"], targets[kind]
                check(f"N={n} vs {name}", f"{v:.1f}x", v >= goal, f">= {goal:g}")
        if where == "DRAM" and "bound" in targets:
            v, goal = rate / (one["bandwidth_Bps"] / g["bytes_per_synapse"]), targets["bound"]
            check(f"N={n} pattern in DRAM", f"{100 * v:.0f}% of bandwidth bound", v >= goal,
                  f">= {100 * goal:g}%")
        if where != "DRAM" and "gsyn" in targets:
            goal = targets["gsyn"]
            check(f"N={n} pattern in {where}", f"{rate / 1e9:.2f} Gsyn/s/core",
                  rate / 1e9 >= goal, f">= {goal:g}")
        for key in sorted(k for k in targets if k.startswith("tangent_m") and k in t):
            v, goal = t[key] / t["ours"], targets[key]
            check(f"N={n} m={key[9:]} tangent step", f"{v:.2f} trajectory steps", v <= goal,
                  f"<= {goal:g}")
        for res in results:
            key = f"threads{res['threads']}"
            r = next((r for r in res["runs"] if r["N"] == g["N"]), None)
            if key in targets and r is not None and res is not one:
                v, goal = t["ours"] / r["seconds_per_step"]["ours"], targets[key]
                check(f"N={n} {res['threads']} threads vs 1", f"{v:.2f}x", v >= goal,
                      f">= {goal:g}")
    return ("goals (one thread unless stated):\n" + "\n".join(lines)) if lines else ""


def report(results: list[dict], opts) -> str:
    """The step benchmark's tables, thread scaling and, when given, goals."""
    info = results[0]
    r0 = info["runs"][0]
    packed = [str(r["N"]) for r in info["runs"] if r.get("index_load") == "packed"]
    parts = ["times per RK4 step, min over {} interleaved repeats; Gsyn/s = 4 N (K_E+K_I) / "
             "time; x dense, x csr = baseline time / ours; etd4 = ETD4 step / RK4 step at "
             "the same dt; tan m = (trajectory + m tangent vectors, {} steps) / RK4 "
             "trajectory step, timed in the same run; %bound = our rate / (bandwidth / "
             "pattern bytes per synapse)".format(opts.repeats,
                                                 getattr(opts, "method", "rk4").upper()),
             f"pattern: {r0['bytes_per_synapse']:.0f} bytes/synapse ({r0['index_dtype']}) "
             f"for N={r0['N']}" + "".join(
                 f"; {r['bytes_per_synapse']:.0f} ({r['index_dtype']}) for N={r['N']}"
                 for r in info["runs"][1:] if r["index_dtype"] != r0["index_dtype"]),
             "index loads: " + (f"packed, 4 uint16 per 8-byte load, for N={', '.join(packed)} "
                                "(the E rates exceed 80% of L1d); " if packed else "")
             + "one per synapse otherwise"]
    paths = {}
    for r in info["runs"]:
        for k, path in r.get("tangent_path", {}).items():
            paths.setdefault(path, set()).add(_tangent_label(k).split("=")[1].split()[0])
    if paths:
        parts.append("tangent paths: " + "; ".join(
            f"{path} for m = {', '.join(sorted(ms, key=int))}" for path, ms in sorted(
                paths.items())) + " (fused: trajectory and vectors in one gather; block: "
            "blocks of 8 vectors after the trajectory's gather; 'm=K blk' = the block path "
            "for a fused m)")
    for res in results:
        parts += ["", format_table(res)]
    for text in (format_scaling(results), goals(results, parse_goals(opts.goal))):
        if text:
            parts += ["", text]
    return "\n".join(parts)


#: what stdnet.bench.command runs for --kernel step: (measure, progress, report)
KERNELS = {"step": (measure, progress, report)}
