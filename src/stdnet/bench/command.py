"""`stdnet bench`: our kernels against the alternatives a user would write, in one run.

--kernel picks what is timed (KERNELS):

  step        (default) one RK4 step: ours against naive dense numpy and scipy CSR, plus
              trajectory + m tangent vectors, against the memory-bandwidth bound
              (stdnet.bench.step)
  lyapunov    trajectory + m tangent vectors in trajectory steps, and the QR share of a
              Lyapunov run (stdnet.bench.kernels)
  stability   rightmost Jacobian eigenvalues: shift-invert Arnoldi against dense eig
  index-load  packed against plain index loads in the RK4 step, float64 and float32

Each thread count runs in its own child process, so numba *and* BLAS get exactly
that many threads. Timings are the minimum over `--repeats` interleaved
repetitions (the machine may be shared: the minimum is the least disturbed run).
It reports times and ratios; `--goal KEY=VALUE` (step) adds a check of given targets.

--backend cuda times the RK4 step on the GPU instead (stdnet.bench.cuda): against the
CPU kernel on one thread and on all cores, and against the device's bandwidth bound.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import subprocess
import sys
import time

import numba
import numpy as np

from stdnet.bench.step import BIG_N, DEFAULT_N, GOAL_KEYS
from stdnet.files.errors import ResourceError, StdnetError
from stdnet.files.io import check_writable, write_text
from stdnet.kernels.hardware import cache_sizes, cpu_name, mem_available
from stdnet.model.params import ModelParams
from stdnet.workflow.costmodel import pattern_bytes
from stdnet.workflow.runtime import set_threads

log = logging.getLogger("stdnet.bench.command")

#: --kernel name -> module with KERNELS[name] = (measure, progress, report)
KERNELS = {"step": "stdnet.bench.step", "lyapunov": "stdnet.bench.kernels",
           "stability": "stdnet.bench.kernels", "index-load": "stdnet.bench.kernels",
           "cuda": "stdnet.bench.cuda"}
#: per kernel, the defaults of the options left unset: sizes, thread counts ("all": 1 and
#: all cores), repetitions, coupling, tangent block widths
DEFAULTS = {"step": {"N": None, "threads": "all", "repeats": 5, "J0": 1.5, "m": [1, 2, 8]},
            "lyapunov": {"N": [10000], "threads": [1], "repeats": 3, "J0": 1.5, "m": [8]},
            "stability": {"N": [1000], "threads": [1], "repeats": 1, "J0": 0.9, "m": [8]},
            "index-load": {"N": [2000, 5000, 7000, 10000, 40000], "threads": [1],
                           "repeats": 5, "J0": 1.5, "m": [8]},
            "cuda": {"N": None, "threads": "all", "repeats": 5, "J0": 1.5, "m": [8]}}


def _kernel(name: str):
    return importlib.import_module(KERNELS[name]).KERNELS[name]


# ---- CLI ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "kernels:\n" + __doc__.split("KERNELS):\n\n")[1].split("\n\n")[0] + (
        "\n\nexamples (docs/performance.md):\n  stdnet bench --N 2000 --quick\n"
        "  stdnet bench --kernel lyapunov --N 10000 --m 8\n"
        "  stdnet bench --kernel stability --N 1000 2000\n"
        "  stdnet bench --kernel index-load --N 2000 10000 40000\n"
        "  stdnet bench --N 10000 --threads 1 --goal dense=8 --goal csr=2\n"
        "  stdnet bench --backend cuda --goal ms@100000=5 --goal bound@100000=0.4")
    p.add_argument("--kernel", choices=[k for k in KERNELS if k != "cuda"], default="step",
                   help="what to time (default step; see below)")
    p.add_argument("--N", type=int, nargs="+", default=None,
                   help=f"network sizes (default: step {' '.join(map(str, DEFAULT_N))}, plus "
                        f"{BIG_N} when the memory allows; lyapunov 10000; stability 1000; "
                        "index-load 2000 5000 7000 10000 40000)")
    p.add_argument("--threads", type=int, nargs="+", default=None,
                   help="thread counts, one child process each (default: step 1 and all "
                        "cores; the others 1)")
    p.add_argument("--repeats", type=int, default=None,
                   help="interleaved repetitions; the minimum is reported (default: step 5, "
                        "lyapunov 3, stability 1, index-load 5; at most 3 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="short timings, smaller bandwidth probe (a smoke test, ~1 min at N=2000)")
    p.add_argument("--m", type=int, nargs="+", default=None,
                   help="tangent block widths (default: step 1 2 8, lyapunov 8)")
    p.add_argument("--J0", type=float, default=None,
                   help="coupling (default 1.5; stability 0.9)")
    p.add_argument("--c", type=float, default=0.1, help="connection probability (default 0.1)")
    p.add_argument("--dt", type=float, default=0.05, help="time step (default 0.05)")
    p.add_argument("--seed", type=int, default=1, help="network seed (default 1)")
    g = p.add_argument_group("step only")
    g.add_argument("--no-tangent", action="store_true",
                   help="skip the tangent step (e.g. to avoid compiling it in a smoke test)")
    g.add_argument("--tangent-block", action="store_true",
                   help="also time the block tangent path for the m that take the fused one "
                        "(columns 'm=K blk': the step before the fused path)")
    g.add_argument("--method", choices=("rk4", "etd4"), default="rk4",
                   help="integrator of the timed tangent steps (default rk4; the etd4 column "
                        "times ETD4's trajectory step either way)")
    g.add_argument("--tangent-max", type=int, default=40000,
                   help="largest N for the tangent step (default 40000)")
    g.add_argument("--dense-max", type=int, default=20000,
                   help="largest N for the dense baseline (default 20000: 3.2 GB)")
    g.add_argument("--bandwidth-mib", type=int, default=None,
                   help="size of the bandwidth probe's array (default 1024, quick 512; "
                        "must exceed the last-level cache)")
    g.add_argument("--goal", action="append", default=[], metavar="KEY=VALUE",
                   help="also check a target, repeatable; KEY: " + ", ".join(GOAL_KEYS)
                        + " (K a number: tangent_m8=3.7 is at most 3.7 trajectory steps per "
                          "m = 8 tangent step, threads2=1.7 at least 1.7x on 2 threads); "
                          "none by default")
    g = p.add_argument_group("--backend cuda (docs/gpu.md)")
    g.add_argument("--backend", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: the RK4 step on the GPU against the CPU kernel and the "
                        "device's bandwidth bound (default cpu)")
    g.add_argument("--big", default="1000000:0.01", metavar="N:c",
                   help="the large network timed after --N at --c, if the GPU holds it "
                        "(default 1000000:0.01; none to skip)")
    g.add_argument("--cpu-max-n", type=int, default=0,
                   help="largest N timed on the CPU (default 0: every N)")
    g.add_argument("--precision", choices=("float64", "float32"), default="float64",
                   help="state and rates on the device (default float64)")
    g.add_argument("--splits", type=int, nargs="+", default=None, metavar="S",
                   help="also time these gather threads per row on the GPU (tuning; runs "
                        "use the S that stdnet.kernels.cuda.layout.row_splits picks)")
    g = p.add_argument_group("lyapunov only")
    g.add_argument("--steps", type=int, default=20, help="steps per timing (default 20)")
    g.add_argument("--qr-interval", type=float, default=1.0,
                   help="re-orthonormalisation interval in tau (default 1)")
    p.add_argument("--json", default=None, help="also write all results to this JSON file")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)


def _settle(args, ncpu: int) -> None:
    """The kernel's defaults for the options left unset, then every value checked."""
    if getattr(args, "backend", "cpu") == "cuda":
        _settle_cuda(args)
    d = DEFAULTS[args.kernel]
    if args.N is None:

        args.N = d["N"] or list(DEFAULT_N) + ([BIG_N] if mem_available() > 16 * 2 ** 30 else [])
    if args.threads is None:
        args.threads = sorted({1, ncpu}) if d["threads"] == "all" else d["threads"]
    if args.repeats is None:
        args.repeats = min(d["repeats"], 3) if args.quick else d["repeats"]
    if args.bandwidth_mib is None:  # on a GPU: far beyond its L2 cache (60 MB on an H200)
        gpu = args.kernel == "cuda"
        args.bandwidth_mib = (1024 if args.quick else 4096) if gpu else (
            512 if args.quick else 1024)
    args.J0 = d["J0"] if args.J0 is None else args.J0
    args.m = d["m"] if args.m is None else args.m
    for N in args.N:
        _fits_in_memory(ModelParams(N=N, J0=args.J0, c=args.c))  # names the key on bad input
    for key in ("repeats", "bandwidth_mib", "steps"):
        v = getattr(args, key)
        if v < 1:
            raise ValueError(f"--{key.replace('_', '-')}: invalid value {v}; allowed: >= 1")
    for key in ("threads", "m"):
        for v in getattr(args, key):
            if v < 1:
                raise ValueError(f"--{key}: invalid value {v}; allowed: integers >= 1")
    if not args.qr_interval > 0:
        raise ValueError(f"--qr-interval: invalid value {args.qr_interval}; allowed: > 0")
    if not (math.isfinite(args.dt) and args.dt > 0):
        raise ValueError(f"--dt: invalid value {args.dt}; allowed: a number > 0")
    if args.goal:  # the GPU benchmark has goals of its own
        module = KERNELS["cuda"] if args.kernel == "cuda" else KERNELS["step"]
        importlib.import_module(module).parse_goals(args.goal)


def _fits_in_memory(params) -> None:
    """Refuse a size whose network alone (the index pattern) exceeds this machine's memory,
    before a child tries to allocate it."""
    need = pattern_bytes(params.N, params.K_E + params.K_I, params.N_E, params.N_I)
    have = mem_available()
    if have and need > have:
        raise ResourceError(f"--N: value {params.N} needs {need / 2 ** 30:.3g} GiB for its "
                            f"network alone; this machine has {have / 2 ** 30:.3g} GiB "
                            "available; allowed: a smaller --N or --c")


def _settle_cuda(args) -> None:
    """--backend cuda: the GPU step benchmark; refused here when no GPU can run it."""
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from stdnet.bench.cuda import DEFAULT_N, parse_big
    from stdnet.kernels.cuda.device import require_cuda

    if args.kernel != "step":
        raise ValueError(f"--kernel: invalid value {args.kernel!r} with --backend cuda; "
                         "allowed: step (the GPU backend times the RK4 step)")
    require_cuda("--backend")
    args.kernel = "cuda"
    parse_big(args.big)
    if args.N is None:
        args.N = list(DEFAULT_N)
    if args.cpu_max_n < 0:
        raise ValueError(f"--cpu-max-n: invalid value {args.cpu_max_n}; allowed: >= 0")
    for S in args.splits or []:
        if not 1 <= S <= 1024:
            raise ValueError(f"--splits: invalid value {S}; allowed: integers 1..1024")


def _work(args) -> int:
    """The child: one thread count, progress rows and the result as JSON lines on stdout."""


    opts = argparse.Namespace(**json.loads(args.worker))
    set_threads(opts.threads_now)
    measure = _kernel(opts.kernel)[0]
    threads = numba.get_num_threads()
    out = {"threads": threads, "cpu": cpu_name(), "caches": cache_sizes(),
           "numba": numba.__version__, "numpy": np.__version__}

    def emit(row):
        log.debug("threads=%d: %s", threads, row)
        print(json.dumps({"partial": row, "threads": threads}), flush=True)

    out.update(measure(opts, emit))
    print(json.dumps({"result": out}), flush=True)
    return 0


def _child(args, threads: int, progress) -> dict | None:
    """Run one thread count in a child process; its result, or None if it failed."""
    opts = {k: v for k, v in vars(args).items() if k not in ("json", "worker", "func")}
    # the GPU benchmark's children draw their patterns on every core (bench.cuda), then
    # time on `threads`; the CPU kernels' children have exactly `threads`
    numba_threads = max(threads, *args.threads) if args.kernel == "cuda" else max(threads, 1)
    env = dict(os.environ, NUMBA_NUM_THREADS=str(numba_threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    proc = subprocess.Popen([sys.executable, "-m", "stdnet.bench.command", "--worker",
                             json.dumps({**opts, "threads_now": threads})],
                            env=env, stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout:  # progress lines as each row finishes
        msg = json.loads(line)
        if "partial" in msg:
            print(f"[threads={msg['threads']}] {progress(msg['partial'])}", file=sys.stderr,
                  flush=True)
        else:
            result = msg["result"]
    if proc.wait() != 0 or result is None:
        print(f"stdnet bench: the child for {threads} thread(s) failed (exit "
              f"{proc.returncode})", file=sys.stderr)
        return None
    return result


def run(args) -> int:
    if args.worker:
        return _work(args)
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    _settle(args, ncpu)
    if args.json:

        check_writable(args.json)  # before minutes of timing, not after
    _, progress, report = _kernel(args.kernel)
    results = []
    started = time.perf_counter()
    load_start = os.getloadavg()
    # --backend cuda: the GPU's child first (all threads: it draws and packs the patterns),
    # then one CPU child per thread count
    roles = [("gpu", max(args.threads))] if args.kernel == "cuda" else []
    roles += [("cpu", t) for t in args.threads]
    for role, t in roles:
        args.role = role
        result = _child(args, t, progress)
        if result is None:
            return 1
        results.append(result)

    info = results[0]
    caches = ", ".join(f"{k} {v / 2**20:g} MiB" for k, v in info["caches"].items())
    print(f"stdnet bench: {info['cpu']} ({ncpu} cores; {caches}); numba {info['numba']}, "
          f"numpy {info['numpy']}; J0={args.J0}, c={args.c}, dt={args.dt}, seed={args.seed}")
    print(report(results, args))
    load_end = os.getloadavg()
    print(f"\n(total {time.perf_counter() - started:.0f} s; load average {load_start[0]:.1f} at "
          f"the start, {load_end[0]:.1f} at the end, on {ncpu} cores: a load above the core "
          "count means other jobs shared the cores and every time above is inflated)")
    if args.json:

        write_text(args.json, json.dumps({"args": {k: v for k, v in vars(args).items()
                                                   if k not in ("func", "worker")},
                                          "results": results}, indent=1))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="stdnet bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")

    try:
        return run(parser.parse_args(argv))
    except StdnetError as e:
        print(f"stdnet bench: error: {e}", file=sys.stderr)
        return e.exit_code
    except ValueError as e:
        print(f"stdnet bench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
