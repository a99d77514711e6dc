"""`stdnet bench --backend cuda`: one RK4 step on the GPU against the CPU kernel and the
GPU's memory-bandwidth bound, in one run.

For every N it times one RK4 step of
  (g) the CUDA kernels (stdnet.kernels.cuda.engine, the pattern resident on the device),
  (c) the CPU kernel (stdnet.kernels.cpu.advance) on one thread and on all cores,
all on the same index pattern and state, and probes the device's memory bandwidth (a
streaming read of an array much larger than its L2 cache). It prints ms per RK4 step,
synapse updates per second (4 N K per step), the ratios to the CPU kernel, and the
fraction of the bandwidth bound: the time the device needs just to stream the pattern
(2-byte indices plus the per-row block bounds) four times, over the measured time.

The pattern: sorted random rows with fixed in-degree K_E, K_I (`timing_pattern`): the
row lengths, index widths and order statistics of the model's network, but drawn in
seconds at N = 10^6, where stdnet.model.network needs minutes; a benchmark does not need the
seeded network. The same pattern, state and dt serve every timing.

GPU and CPU timings run in child processes (stdnet.bench.command), each CPU thread count in its
own, so numba gets exactly that many threads.
"""
from __future__ import annotations

import logging
import math
import re
import time
from types import SimpleNamespace

import numba
import numpy as np
from numba import njit, prange

from stdnet.bench.timing import best_of, calibrate, kicked_state
from stdnet.kernels.cpu import METHOD_CODES, PRECISIONS, advance, kernel_args, make_work
from stdnet.model.network import Network, index_dtype
from stdnet.model.params import ModelParams, RunParams
from stdnet.workflow.preflight import max_stable_dt

log = logging.getLogger("stdnet.bench.command")

#: sizes at --c (default 0.1), then the large network, N:c, if the device holds it
DEFAULT_N = (10000, 40000, 100000)
BIG = (1000000, 0.01)
#: --goal keys: most ms per RK4 step, least fraction of the bandwidth bound, least ratio
#: to one CPU thread / to all cores; each optionally at one N (ms@100000=5)
GOAL_KEYS = ("ms", "bound", "cpu1", "cpuall")
_GOAL = re.compile(r"^(ms|bound|cpu1|cpuall)(@[1-9][0-9]*)?$")


# ---- the pattern ----------------------------------------------------------------------
@njit(cache=True, inline="always")
def _mix(x):
    """splitmix64's finaliser: a counter-based hash, the same bits on any thread count."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, parallel=True)
def _random_sorted_rows(out, n_pool, seed):
    """Row i: K sorted uniforms (normalised sums of K + 1 exponential spacings u(0,1)
    from a counter hash of (seed, i, k)), mapped to the strictly increasing integers
    floor(u_k (n_pool - K + 1)) + k."""
    N, K = out.shape
    span = n_pool - K + 1
    for i in prange(N):
        e = np.empty(K + 1)
        tot = 0.0
        for k in range(K + 1):
            h = _mix(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
                     + np.uint64(i) * np.uint64(K + 1) + np.uint64(k))
            u = ((h >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740993.0)  # (0, 1)
            tot += -np.log(u)
            e[k] = tot
        for k in range(K):
            v = int(e[k] / tot * span)
            out[i, k] = min(v, span - 1) + k


def timing_pattern(params, seed: int = 1) -> Network:
    """pre_E (N, K_E), pre_I (N, K_I): every row a sorted random subset of its source
    population (uniform order statistics, as stdnet.model.network's rows), in the index type
    stdnet.model.network would use, drawn in parallel from a counter hash: seconds at N = 10^6.

    Not a stratified pattern (one index per K-th of the pool): its rows' k-th indices all
    fall into one stratum, so a warp's 32 gathers would hit a few cache lines and flatter
    the GPU. Here the k-th indices of different rows spread by ~N/(2 sqrt K), as in the
    model's network."""


    rows = {}
    threads = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)  # all cores draw, whatever is timed
    try:
        for name, K, n_pool in (("pre_E", params.K_E, params.N_E),
                                ("pre_I", params.K_I, params.N_I)):
            a = np.empty((params.N, K), dtype=index_dtype(n_pool))
            _random_sorted_rows(a, n_pool, seed + (0 if name == "pre_E" else 7919))
            rows[name] = a
    finally:
        numba.set_num_threads(threads)
    return Network(pre_E=rows["pre_E"], pre_I=rows["pre_I"], N_E=params.N_E, N_I=params.N_I,
                   seed=int(seed))


def stable_dt(params, dt: float) -> float:
    """dt, or half the largest step RK4 takes stably at this (N, c) where dt is beyond it:
    a diverged state makes the GPU kernels return early, which would time nothing.
    (The time of a step does not depend on dt.)"""
    limit = max_stable_dt(params)
    return dt if dt < 0.9 * limit else 0.5 * limit


def sizes(opts) -> list[tuple[int, float]]:
    """(N, c) of every size measured: --N at --c, then --big unless 'none'."""
    out = [(int(N), float(opts.c)) for N in opts.N]
    if opts.big and opts.big != "none":
        N, _, c = str(opts.big).partition(":")
        out.append((int(N), float(c)))
    return out


def parse_big(value: str) -> str:
    if value == "none":
        return value
    N, sep, c = str(value).partition(":")
    try:
        ok = sep and int(N) > 0 and 0 < float(c) <= 1
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"--big: invalid value {value!r}; allowed: N:c (e.g. 1000000:0.01) "
                         "or none")
    return value


# ---- the children ---------------------------------------------------------------------
def stream_bandwidth(nbytes: int, repeats: int) -> float:
    """Read bandwidth (bytes/s) of the device: the best of `repeats` streaming reads."""
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from numba import cuda

    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from stdnet.kernels.cuda.kernels import THREADS, blocks, stream_read

    a = cuda.to_device(np.ones(nbytes // 8))
    # 2^21 threads: enough loads in flight to saturate HBM (each reads >= 256 values)
    n_threads = max(1, min(a.shape[0] // 256, 1 << 21))
    out = cuda.device_array(n_threads)
    launch = stream_read[blocks(n_threads, THREADS), THREADS]
    launch(a, out)
    cuda.synchronize()
    best = math.inf
    for _ in range(max(repeats, 2)):
        t0 = time.perf_counter()
        launch(a, out)
        cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    if not out.copy_to_host()[0] > 0:
        raise RuntimeError("the bandwidth probe read wrong values")
    return nbytes / best


def _measure_gpu_N(N: int, c: float, opts) -> dict:
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from stdnet.kernels.cuda.device import describe
    from stdnet.kernels.cuda.engine import CudaEngine, device_bytes
    from stdnet.kernels.cuda.layout import layout_bytes

    p = ModelParams(N=N, J0=opts.J0, c=c)
    dt = stable_dt(p, opts.dt)
    run = RunParams(dt=dt, record_interval=dt, t_transient=0.0, t_record=dt,
                    precision=opts.precision, backend="cuda")
    res = {"N": N, "c": c, "K_E": p.K_E, "K_I": p.K_I, "synapses": N * (p.K_E + p.K_I),
           "dt": dt,
           "device_bytes": device_bytes(p, opts.precision),
           "pattern_bytes": layout_bytes(N, p.K_E, p.N_E) + layout_bytes(N, p.K_I, p.N_I)}
    free = describe()["free"]
    if free is not None and res["device_bytes"] > 0.9 * free:
        res["skipped"] = (f"needs {res['device_bytes'] / 2**30:.1f} GiB of the device's "
                          f"{free / 2**30:.1f} GiB free")
        return res
    t0 = time.perf_counter()
    net = timing_pattern(p, opts.seed)
    res["pattern_s"] = time.perf_counter() - t0
    y = kicked_state(p)
    zeros = {k: np.zeros(p.N if k != "x_mean" else p.N_E) for k in
             ("h_mean", "h_m2", "nu_mean", "nu_m2", "x_mean")}
    state = SimpleNamespace(y=y, **zeros)
    t0 = time.perf_counter()
    engine = CudaEngine(p, run, net, state)
    res["upload_s"] = time.perf_counter() - t0
    res["splits"] = engine.S
    del net

    def step(n):
        if engine.advance(state, n) >= 0:
            raise RuntimeError(f"N={N}: the benchmark state diverged")

    step(1)  # compiles the kernels
    target = 0.05 if opts.quick else 0.3
    res["seconds_per_step"] = best_of({"gpu": (step, calibrate(step, target, 10000))},
                                      opts.repeats)["gpu"]
    res["by_splits"] = {}
    for S in opts.splits or []:  # other gather shares on the same pattern and state
        engine.set_splits(S)
        step(1)
        res["by_splits"][S] = best_of({"gpu": (step, calibrate(step, target, 10000))},
                                      opts.repeats)["gpu"]
    return res


def _measure_cpu_N(N: int, c: float, opts) -> dict:
    p = ModelParams(N=N, J0=opts.J0, c=c)
    dt = stable_dt(p, opts.dt)
    res = {"N": N, "c": c, "dt": dt}
    if opts.cpu_max_n and N > opts.cpu_max_n:
        res["skipped"] = f"N > --cpu-max-n {opts.cpu_max_n}"
        return res
    dtype = PRECISIONS[opts.precision]
    net = timing_pattern(p, opts.seed)
    args = kernel_args(p, net, dtype=dtype)
    work = make_work(p, dtype)
    y = kicked_state(p).astype(dtype)
    rk4 = METHOD_CODES["rk4"]

    def step(n):
        advance(y, n, rk4, dt, *args, work)

    step(1)
    target = 0.05 if opts.quick else 0.3
    res["seconds_per_step"] = best_of({"cpu": (step, calibrate(step, target, 1000))},
                                      opts.repeats)["cpu"]
    return res


def measure(opts, emit) -> dict:
    """The child's work: opts.role 'gpu' (bandwidth probe + GPU steps) or 'cpu'."""
    out = {"role": opts.role, "runs": []}
    if opts.role == "gpu":
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        import numba_cuda

        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from stdnet.kernels.cuda.device import describe

        out["device"] = describe()
        out["numba_cuda"] = getattr(numba_cuda, "__version__", "?")
        nbytes = opts.bandwidth_mib * 2 ** 20
        out["bandwidth_Bps"] = stream_bandwidth(nbytes, opts.repeats)
        out["bandwidth_probe_bytes"] = nbytes
    for N, c in sizes(opts):
        row = (_measure_gpu_N if opts.role == "gpu" else _measure_cpu_N)(N, c, opts)
        out["runs"].append(row)
        emit(row)
    return out


def progress(row: dict) -> str:
    if "seconds_per_step" not in row:
        return f"N={row['N']}: skipped ({row.get('skipped')})"
    return f"N={row['N']}, c={row['c']}: {row['seconds_per_step'] * 1e3:.3f} ms/step"


# ---- report ---------------------------------------------------------------------------
def table(gpu: dict, cpus: list[dict]) -> list[dict]:
    """One row per size: times, rates and ratios (None where not measured)."""
    rows = []
    for i, g in enumerate(gpu["runs"]):
        t = g.get("seconds_per_step")
        row = {"N": g["N"], "c": g["c"], "K": g["K_E"] + g["K_I"], "gpu_s": t, "dt": g["dt"],
               "skipped": g.get("skipped"), "splits": g.get("splits"),
               "pattern_bytes": g["pattern_bytes"]}
        if t:
            row["syn_per_s"] = 4 * g["synapses"] / t
            row["bound_s"] = 4 * g["pattern_bytes"] / gpu["bandwidth_Bps"]
            row["bound"] = row["bound_s"] / t
        for res in cpus:
            c = res["runs"][i].get("seconds_per_step")
            row[f"cpu{res['threads']}_s"] = c
            row[f"x_cpu{res['threads']}"] = (c / t) if (c and t) else None
        rows.append(row)
    return rows


def _f(v, fmt):
    return format(v, fmt) if v is not None else "-"


def report(results: list[dict], opts) -> str:
    gpu = next(r for r in results if r["role"] == "gpu")
    cpus = [r for r in results if r["role"] == "cpu"]
    d = gpu["device"]
    mem = f", {d['total'] / 2**30:.0f} GiB" if d.get("total") else ""
    lines = [f"device: {d['name']} (compute capability {d['cc']}{mem}); numba-cuda "
             f"{gpu['numba_cuda']}; precision {opts.precision}",
             f"bandwidth probe: {gpu['bandwidth_Bps'] / 1e9:.0f} GB/s (streaming read of "
             f"{gpu['bandwidth_probe_bytes'] / 2**20:.0f} MiB on the device)",
             "times per RK4 step, min over {} repeats; Gsyn/s = 4 N K / time; x cpuT = CPU "
             "time on T threads / GPU time; %bound = (4 x pattern bytes / bandwidth) / GPU "
             "time; pattern: 2-byte indices + block bounds (stdnet.kernels.cuda.layout); S: gather "
             "threads per row; dt: --dt, or half RK4's stable limit where --dt exceeds it "
             "(a step's time does not depend on dt)".format(opts.repeats), ""]
    threads = [r["threads"] for r in cpus]
    head = (f"{'N':>8} {'c':>5} {'K':>6} {'dt':>6} {'pattern':>9} {'S':>3} {'GPU ms':>9} "
            f"{'Gsyn/s':>8} "
            f"{'%bound':>7}" + "".join(f" {'cpu' + str(t) + ' ms':>10} {'x cpu' + str(t):>8}"
                                       for t in threads))
    lines.append(head)
    for row in table(gpu, cpus):
        line = (f"{row['N']:>8} {row['c']:>5g} {row['K']:>6} {row['dt']:>6.3g} "
                f"{row['pattern_bytes'] / 2**20:>8.1f}M {_f(row['splits'], '>3')} "
                f"{_f(row['gpu_s'] and row['gpu_s'] * 1e3, '>9.3f')} "
                f"{_f(row.get('syn_per_s') and row['syn_per_s'] / 1e9, '>8.4g')} "
                f"{_f(row.get('bound') and 100 * row['bound'], '>6.3g')}%")
        for t in threads:
            c = row[f"cpu{t}_s"]
            line += f" {_f(c and c * 1e3, '>10.4g')} {_f(row[f'x_cpu{t}'], '>8.4g')}"
        lines.append(line)
        if row["skipped"]:
            lines.append(f"{'':>8} GPU skipped: {row['skipped']}")
    for res in cpus:
        for r in res["runs"]:
            if r.get("skipped"):
                lines.append(f"{r['N']:>8} cpu{res['threads']} skipped: {r['skipped']}")
    splits = [r for r in gpu["runs"] if r.get("by_splits")]
    if splits:
        lines += ["", "GPU ms per RK4 step by gather threads per row S (--splits; * the "
                  "default S, which runs use):"]
        for r in splits:
            cells = [f"S={S}: {t * 1e3:.3f}" for S, t in sorted(r["by_splits"].items(),
                                                                key=lambda kv: int(kv[0]))]
            lines.append(f"{r['N']:>8} {r['c']:>5g}  default S={r['splits']}*: "
                         f"{r['seconds_per_step'] * 1e3:.3f};  " + ";  ".join(cells))
    text = goals(table(gpu, cpus), parse_goals(opts.goal), threads)
    return "\n".join(lines + (["", text] if text else []))


def parse_goals(specs) -> dict:
    """--goal KEY[@N]=VALUE as {(key, N or None): value}; ValueError naming a bad one."""
    out = {}
    for spec in specs or []:
        key, sep, value = str(spec).partition("=")
        try:
            v = float(value)
        except ValueError:
            sep = ""
        if not sep or not _GOAL.match(key):
            raise ValueError(f"--goal: invalid value {spec!r}; allowed with --backend cuda: "
                             f"KEY[@N]=NUMBER with KEY one of {', '.join(GOAL_KEYS)} (e.g. "
                             "ms@100000=5: at most 5 ms per RK4 step at N = 100000)")
        name, _, n = key.partition("@")
        out[(name, int(n) if n else None)] = v
    return out


def goals(rows: list[dict], targets: dict, threads: list[int]) -> str:
    lines = []
    all_t = max(threads) if threads else None
    for (key, N), goal in targets.items():
        for row in rows:
            if N is not None and row["N"] != N:
                continue
            if key == "ms":
                v = row["gpu_s"] and row["gpu_s"] * 1e3
                shown, ok, want = f"{_f(v, '.3f')} ms per step", v is not None and v <= goal, \
                    f"<= {goal:g} ms"
            elif key == "bound":
                v = row.get("bound")
                shown, ok, want = f"{_f(v and 100 * v, '.3g')}% of the bandwidth bound", \
                    v is not None and v >= goal, f">= {100 * goal:g}%"
            else:
                t = 1 if key == "cpu1" else all_t
                v = row.get(f"x_cpu{t}")
                shown, ok, want = f"{_f(v, '.4g')}x {t} CPU thread(s)", \
                    v is not None and v >= goal, f">= {goal:g}x"
            lines.append(f"  N={row['N']}, c={row['c']:g}: {shown} (goal {want})  "
                         f"{'met' if ok else 'NOT met'}")
    return ("goals:\n" + "\n".join(lines)) if lines else ""


#: what stdnet.bench.command runs for --backend cuda: (measure, progress, report)
KERNELS = {"cuda": (measure, progress, report)}
