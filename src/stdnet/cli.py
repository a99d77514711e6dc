"""`stdnet` command line: single runs and tools outside Snakemake.

Subcommands live in their own modules; each exposes `add_arguments(parser)` and
`run(args) -> int`, and is listed in COMMANDS (imported lazily, so `stdnet
fixed-point` does not pay for numba compilation of unrelated kernels).
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from .params import ModelParams, RunParams

#: name -> (module, help). Modules other than this one are imported on use.
COMMANDS = {
    "simulate": ("stdnet.cli", "run one trajectory and write it to an HDF5 file"),
    "fixed-point": ("stdnet.cli", "print the homogeneous fixed point as JSON"),
    "bench": ("stdnet.bench", "benchmark the kernels against naive numpy and scipy"),
    "status": ("stdnet.accounting", "status of every grid point of a config (done, failed, running)"),
}


def _model_arguments(p: argparse.ArgumentParser, need_n: bool = True) -> None:
    d = ModelParams(N=1000, J0=1.0)
    g = p.add_argument_group("model (defaults: the reference set)")
    g.add_argument("--N", type=int, required=need_n, default=None if need_n else 10000,
                   help="number of neurons")
    g.add_argument("--J0", type=float, required=True, help="coupling strength")
    for key in ModelParams.constant_names():
        if key == "transfer":
            continue
        g.add_argument(f"--{key}", type=float, default=getattr(d, key),
                       help=f"(default {getattr(d, key)})")
    g.add_argument("--transfer", default=d.transfer,
                   help="softplus, relu, sigmoid or tanh (default softplus)")


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
        g.add_argument(f"--{key}", type=float, default=getattr(d, key),
                       help=f"(default {getattr(d, key)})")
    g.add_argument("--n-record", type=int, default=d.n_record,
                   help=f"neurons per population whose traces are stored (default {d.n_record})")
    g.add_argument("--method", default=d.method, help="rk4 or euler (default rk4)")
    g.add_argument("--precision", default=d.precision,
                   help="float64 or float32 state arithmetic (default float64)")
    g.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    g.add_argument("--checkpoint", default=None,
                   help="checkpoint file: resumed if it exists, removed at the end")
    g.add_argument("--progress-every", type=float, default=5.0,
                   help="seconds between progress lines on stderr (default 5)")
    p.add_argument("-o", "--output", required=True, help="HDF5 file to write")


def _run_simulate(args) -> int:
    from .runtime import set_threads
    from .simulate import simulate, write_simulation

    model = _model_from(args)
    run = RunParams(dt=args.dt, method=args.method, t_transient=args.t_transient,
                    t_record=args.t_record, record_interval=args.record_interval,
                    n_record=args.n_record, perturbation=args.perturbation,
                    checkpoint_interval=args.checkpoint_interval, precision=args.precision)
    set_threads(args.threads)
    result = simulate(model, run, args.seed, checkpoint_path=args.checkpoint,
                      progress_every_s=args.progress_every)
    write_simulation(args.output, result, model, run, args.seed, checkpoint_path=args.checkpoint)
    pop = result["population"]
    print(json.dumps({"output": args.output, "wall_time_s": round(result["wall_time_s"], 3),
                      "final_nu_E": float(pop["nu_E"][-1]), "final_nu_I": float(pop["nu_I"][-1])}))
    return 0


# ---- fixed-point --------------------------------------------------------------
def _add_fixed_point(p):
    _model_arguments(p)
    p.add_argument("--limit", action="store_true",
                   help="also print the N -> infinity (balanced) limit")


def _run_fixed_point(args) -> int:
    from .meanfield import balanced_limit, homogeneous_fixed_point
    from .stability import homogeneous_eigenvalues

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


_LOCAL = {"simulate": (_add_simulate, _run_simulate),
          "fixed-point": (_add_fixed_point, _run_fixed_point)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stdnet",
        description="Balanced E/I rate networks with short-term synaptic depression.")
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


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from .runtime import exit_cleanly_on_sigterm

    exit_cleanly_on_sigterm()
    try:
        if args.command in _LOCAL:
            return _LOCAL[args.command][1](args)
        if getattr(args, "_missing", None):
            print(f"stdnet {args.command}: module {args._missing} is not available",
                  file=sys.stderr)
            return 2
        return importlib.import_module(COMMANDS[args.command][0]).run(args)
    except ValueError as e:  # bad parameters: say which, no traceback
        print(f"stdnet {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
