"""`stdnet` command line: single runs and tools outside Snakemake.

Subcommands live in their own modules; each exposes `add_arguments(parser)` and
`run(args) -> int`, and is listed in COMMANDS (imported lazily, so `stdnet
fixed-point` does not pay for numba compilation of unrelated kernels).

Every expected failure (stdnet.files.errors) ends with one line on stderr and the exit code
of its class (docs/errors.md); `--debug` adds the traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import re
import sys
import traceback

from stdnet import __version__
from stdnet.files import io
from stdnet.files.errors import EXIT_CODES, InputError, OutputError, ResourceError, StdnetError
from stdnet.files.terminal import BAR_EVERY_S, console_handler, is_terminal
from stdnet.kernels.hardware import mem_available
from stdnet.model.network import realization_in_degrees
from stdnet.model.params import CONNECTIVITIES, ModelParams, RunParams
from stdnet.simulation.simulate import simulate, write_simulation
from stdnet.theory.homogeneous import homogeneous_eigenvalues
from stdnet.theory.meanfield import balanced_limit, homogeneous_fixed_point
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.ownership import ownership_problem
from stdnet.workflow.preflight import (
    backend_problems,
    dt_problem,
    gpu_memory_problems,
    machine_memory_mb,
    memory_problems,
    recording_dominates,
    simulation_memory_bytes,
)
from stdnet.workflow.runtime import exit_cleanly_on_sigterm, set_threads

#: name -> (module, help). Modules other than this one are imported on use.
COMMANDS = {
    "simulate": ("stdnet.cli", "run one trajectory and write it to an HDF5 file"),
    "fixed-point": ("stdnet.cli", "print the homogeneous fixed point as JSON"),
    "bench": ("stdnet.bench.command", "benchmark the kernels against naive numpy and scipy"),
    "status": ("stdnet.workflow.status", "status of every per-point output of a config (done, failed, running)"),
    "check": ("stdnet.cli", "check config files (YAML, keys, values, step size) as the workflow will"),
    "calibrate": ("stdnet.workflow.calibration", "the machine's speed for the cost model, from the jobs of a finished run"),
}


def _spellings(name: str) -> list[str]:
    """'--t_transient' and '--t-transient' alike (the flags mix both styles; either works)."""
    other = name.replace("_", "-") if "_" in name else name.replace("-", "_")
    return [f"--{name}"] + ([f"--{other}"] if other != name else [])


def _model_arguments(p: argparse.ArgumentParser, need_n: bool = True) -> None:
    d = ModelParams(N=1000, J0=1.0)
    g = p.add_argument_group("model (defaults: the reference set)")
    g.add_argument("--N", type=int, required=need_n, default=None if need_n else 10000,
                   help="number of neurons")
    g.add_argument("--J0", type=float, required=True, help="coupling strength")
    for key in ModelParams.constant_names():
        if key in ("transfer", "connectivity"):
            continue
        g.add_argument(*_spellings(key), type=float, default=getattr(d, key),
                       help=f"(default {getattr(d, key)})")
    g.add_argument("--transfer", default=d.transfer,
                   help="softplus, relu, sigmoid or tanh (default softplus)")
    g.add_argument("--connectivity", default=d.connectivity,
                   help=f"{', '.join(CONNECTIVITIES)} (default {d.connectivity}; "
                        "docs/heterogeneity.md)")


def _model_from(args) -> ModelParams:
    return ModelParams(N=args.N, J0=args.J0,
                       **{k: getattr(args, k) for k in ModelParams.constant_names()})


# ---- simulate -----------------------------------------------------------------
def _add_simulate(p):
    _model_arguments(p)
    d = RunParams()
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=1, help="realization seed (default 1)")
    for key in ("dt", "t_transient", "t_record", "record_interval", "perturbation",
                "checkpoint_interval"):
        g.add_argument(*_spellings(key), type=float, default=getattr(d, key),
                       help=f"(default {getattr(d, key)})")
    g.add_argument(*_spellings("n-record"), type=int, default=d.n_record,
                   help=f"neurons per population whose traces are stored (default {d.n_record})")
    g.add_argument("--method", default=d.method,
                   help="rk4, etd4 (the stiff mean mode exact: dt 0.25 at any N) or euler "
                        "(default rk4)")
    g.add_argument("--precision", default=d.precision,
                   help="float64 or float32 state arithmetic (default float64)")
    g.add_argument("--backend", default=d.backend,
                   help="cpu, or cuda: the integration on an NVIDIA GPU (needs numba-cuda; "
                        "default cpu)")
    g.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    g.add_argument("--checkpoint", default=None,
                   help="checkpoint file: resumed if it exists, removed at the end")
    g.add_argument(*_spellings("progress-every"), type=float, default=None,
                   help="seconds between progress lines on stderr (default 5; on a terminal "
                        f"a bar, redrawn every {BAR_EVERY_S:g} s)")
    p.add_argument("-o", "--output", required=True, help="HDF5 file to write")


def _simulate_inputs(args) -> tuple[ModelParams, RunParams]:
    """Parameters of `stdnet simulate`, refused before any work when they cannot give a run."""
    if args.threads < 1:
        raise InputError(f"--threads: value {args.threads} is not allowed; allowed: an integer >= 1")
    if args.seed < 0:
        raise InputError(f"--seed: value {args.seed} is not allowed; allowed: an integer >= 0")
    model = _model_from(args)
    run = RunParams(dt=args.dt, method=args.method, t_transient=args.t_transient,
                    t_record=args.t_record, record_interval=args.record_interval,
                    n_record=args.n_record, perturbation=args.perturbation,
                    checkpoint_interval=args.checkpoint_interval, precision=args.precision,
                    backend=args.backend)
    if args.checkpoint and run.checkpoint_interval <= 0:
        raise InputError("--checkpoint: given without --checkpoint_interval, so no checkpoint "
                         "would ever be written; allowed: --checkpoint_interval > 0 (simulated "
                         "time between checkpoints, e.g. 50)")
    return model, run


def _preflight_simulate(model: ModelParams, run: RunParams, seed: int) -> None:
    """Step size and memory, before the network is built."""
    problem = dt_problem(model, run)
    if problem:
        raise InputError(problem)
    if run.backend == "cuda":
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from stdnet.kernels.cuda.device import check_device_memory, require_cuda
        from stdnet.kernels.cuda.engine import device_bytes

        require_cuda("--backend")
        # the pattern's size is that of this seed's in-degrees (variable rows: its tiles)
        degrees = realization_in_degrees(model, seed)
        check_device_memory(device_bytes(model, run.precision, degrees=degrees),
                            f"N = {model.N}: the run")
    need, have = simulation_memory_bytes(model, run), mem_available()
    if have and need > have:
        fix = ("shorten --t_record or raise --record_interval (the recorded samples take most "
               "of it)" if recording_dominates(model, run) else "lower --N or --c")
        raise ResourceError(f"N = {model.N}: the run needs about {need / 1e9:.3g} GB of memory; "
                            f"this machine has {have / 1e9:.3g} GB available; {fix}, or run on "
                            "a machine with more memory")


def _run_simulate(args) -> int:
    model, run = _simulate_inputs(args)
    _preflight_simulate(model, run, args.seed)
    paths = [args.output] + ([args.checkpoint] if args.checkpoint else [])
    if len({str(os.path.abspath(p)) for p in paths}) < len(paths):
        raise InputError(f"--checkpoint: value {args.checkpoint!r} is not allowed; allowed: "
                         "a path other than the output")
    for path in paths:
        io.check_writable(path)
    with contextlib.ExitStack() as claims:
        for path in paths:  # a second writer of the same files fails now, not at the end
            claims.enter_context(io.claim_output(path))
        set_threads(args.threads)
        result = simulate(model, run, args.seed, checkpoint_path=args.checkpoint,
                          progress_every_s=_progress_every(args.progress_every))
        write_simulation(args.output, result, model, run, args.seed,
                         checkpoint_path=args.checkpoint)
    pop = result["population"]
    print(json.dumps({"output": args.output, "wall_time_s": round(result["wall_time_s"], 3),
                      "final_nu_E": float(pop["nu_E"][-1]), "final_nu_I": float(pop["nu_I"][-1])}))
    return 0


def _progress_every(option: float | None) -> float:
    """Seconds between progress lines: the option's, else a bar's redraw on a terminal
    (stdnet.files.terminal) and a plain line every 5 s elsewhere."""
    if option is not None:
        return option
    return BAR_EVERY_S if is_terminal(sys.stderr) else 5.0


# ---- fixed-point --------------------------------------------------------------
def _add_fixed_point(p):
    _model_arguments(p)
    p.add_argument("--limit", action="store_true",
                   help="also print the N -> infinity (balanced) limit")


def _run_fixed_point(args) -> int:
    model = _model_from(args)
    fp = homogeneous_fixed_point(model)
    ev = homogeneous_eigenvalues(model)
    out = {"N": model.N, "J0": model.J0, "I0": model.I0, "K_E": model.K_E, "K_I": model.K_I,
           "G": model.G, **fp.to_dict(),
           "homogeneous_eigenvalues": [[float(e.real), float(e.imag)] for e in ev]}
    if args.limit:
        out["limit"] = balanced_limit(model).to_dict()
    print(json.dumps(out, indent=2))
    return 0


# ---- check --------------------------------------------------------------------
def _add_check(p):
    p.add_argument("configfiles", nargs="+", metavar="CONFIGFILE",
                   help="config files laid over one another in order, as Snakemake does with "
                        "several --configfile (e.g. config/params.yaml config/width.yaml)")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the comparison of the jobs' memory (and, for "
                        "simulation.backend: cuda, GPU) with this machine's (for a sweep "
                        "meant for a cluster)")


def _run_check(args) -> int:

    cfg = load_config_files(args.configfiles, schema_dir())
    problem = ownership_problem(cfg["results"])
    if problem:  # the workflow refuses it at its start too
        raise InputError(problem)
    if not args.no_memory:
        problems = backend_problems(cfg)
        if problems:
            raise InputError("; ".join(problems))
        problems = memory_problems(cfg, machine_memory_mb()) + gpu_memory_problems(cfg)
        if problems:
            raise ResourceError("; ".join(problems))
    n_points = len(cfg["grid"]["N"]) * len(cfg["grid"]["J0"]) * len(cfg["grid"]["seeds"])
    print(f"{' + '.join(args.configfiles)}: valid ({n_points} grid points, results in "
          f"{cfg['results']!r})")
    return 0


_LOCAL = {"simulate": (_add_simulate, _run_simulate),
          "fixed-point": (_add_fixed_point, _run_fixed_point),
          "check": (_add_check, _run_check)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stdnet",
        description="Balanced E/I rate networks with short-term synaptic depression.",
        epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"stdnet {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of a failure")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in _LOCAL:
            _LOCAL[name][0](p)
        else:
            try:
                importlib.import_module(module).add_arguments(p)
            except ModuleNotFoundError:
                p.set_defaults(_missing=module)
    return parser


#: a negative number argparse would take for an option ("-1e6", "-.5e-3"; it knows only
#: "-5" and "-0.5")
_NEGATIVE = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|-inf|-nan", re.IGNORECASE)


def _join_negative_values(argv: list[str]) -> list[str]:
    """'--I0 -1e6' -> '--I0=-1e6', so that a negative value in exponent form reaches its
    option instead of argparse's "expected one argument"."""
    out = []
    for tok in argv:
        if (out and out[-1].startswith("--") and "=" not in out[-1]
                and _NEGATIVE.fullmatch(tok)):
            out[-1] = f"{out[-1]}={tok}"
        else:
            out.append(tok)
    return out


def main(argv=None) -> int:
    console = console_handler(sys.stderr)  # progress as a bar on a terminal
    logging.basicConfig(level=logging.INFO, handlers=[console],
                        format="%(asctime)s %(name)s: %(message)s")
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)

    exit_cleanly_on_sigterm()
    try:
        return _run_command(args)
    except KeyboardInterrupt as e:
        error, (message, code) = e, ("interrupted", 130)
    except Exception as e:  # noqa: BLE001 - every failure ends as one line and a code
        error, (message, code) = e, _classify(e)
    finally:
        console.end_line()  # what follows (an error, the shell's prompt) on a line of its own
    return _fail(args, message, code, error)


def _run_command(args) -> int:
    if args.command in _LOCAL:
        return _LOCAL[args.command][1](args)
    if getattr(args, "_missing", None):
        print(f"stdnet {args.command}: module {args._missing} is not available",
              file=sys.stderr)
        return 2
    return importlib.import_module(COMMANDS[args.command][0]).run(args)


def _classify(e: BaseException) -> tuple[str, int]:
    """(message, exit code) of a failure; see errors.EXIT_CODES."""
    if isinstance(e, StdnetError):
        return str(e), e.exit_code
    if isinstance(e, MemoryError):  # numpy's allocation failure included
        return (f"out of memory ({e}); lower N, or run on a machine with more memory",
                ResourceError.exit_code)
    if isinstance(e, ValueError):  # bad parameters from the dataclasses
        return str(e), InputError.exit_code
    if isinstance(e, OSError):
        where = f" {e.filename!r}" if getattr(e, "filename", None) else ""
        return f"cannot access{where}: {e.strerror or e}", OutputError.exit_code
    return (f"internal error {type(e).__name__}: {e} (a bug: rerun with --debug and report "
            "the traceback)", 1)


def _fail(args, message: str, code: int, error: BaseException) -> int:
    if getattr(args, "debug", False):
        traceback.print_exception(error)
    print(f"stdnet {args.command}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
