"""Hostile input, table-driven: every case must end with one clear line and its exit code.

Each row is (id, what is done, fragments the message must contain, exit code). The
config rows lay a small overlay over config/params.yaml and run `stdnet check` (what the
workflow validates, plus the memory comparison); the simulate rows run `stdnet simulate`
on tiny networks (N = 100, a few tau). All run in-process through `stdnet.cli.main`, so a
traceback would show up in the captured stderr; `--debug` is tested to add one.
A clear failure: the exit code of the table, every fragment in stderr, no "Traceback".
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from stdnet.files import io
from stdnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "config" / "params.yaml"

# ---- config files: `stdnet check config/params.yaml overlay.yaml` ----------------------
CONFIG_CASES = [
    ("unknown top-level key", "simulaton: {dt: 0.01}\n", ["simulaton", "did you mean 'simulation'"], 2),
    ("unknown nested key", "model: {tau_d: 5.0}\n", ["model.tau_d", "tau_D"], 2),
    ("unknown grid key", "grid: {Ns: [100]}\n", ["grid.Ns"], 2),
    ("YAML key written twice", "simulation:\n  dt: 0.01\n  dt: 0.02\n", ["overlay.yaml:3", "twice"], 2),
    ("YAML syntax error", "grid:\n  N: [1000\n  J0: x\n", ["overlay.yaml:3:"], 2),
    ("tab indentation", "grid:\n\tN: [1000]\n", ["overlay.yaml:2"], 2),
    ("top level not a mapping", "- 1\n- 2\n", ["overlay.yaml", "mapping"], 2),
    ("results empty", "results: ''\n", ["results", "''"], 2),
    ("results root", "results: /\n", ["results", "'/'"], 2),
    ("results with a wildcard", "results: out/{N}\n", ["results", "out/{N}"], 2),
    ("results not a string", "results: 5\n", ["results", "5"], 2),
    ("J0 nan", "grid: {N: [1000], J0: [.nan], seeds: [1]}\n", ["grid.J0[0]", "nan", "finite"], 2),
    ("J0 inf", "grid: {N: [1000], J0: [.inf], seeds: [1]}\n", ["grid.J0[0]", "inf", "finite"], 2),
    ("c -inf", "model: {c: -.inf}\n", ["model.c", "inf"], 2),
    ("dt nan", "simulation: {dt: .nan}\n", ["simulation.dt", "nan"], 2),
    ("duplicate N", "grid: {N: [1000, 1000], J0: [1.0], seeds: [1]}\n", ["grid.N", "1000"], 2),
    ("duplicate seeds", "grid: {N: [1000], J0: [1.0], seeds: [1, 1]}\n", ["grid.seeds", "1"], 2),
    ("J0 sharing a folder", "grid: {N: [1000], J0: [0.1, 0.10000000001], seeds: [1]}\n",
     ["grid.J0", "0.1", "0.10000000001"], 2),
    ("J0 below the path resolution", "grid: {N: [1000], J0: [1.0e-7], seeds: [1]}\n",
     ["grid.J0", "1e-07"], 2),
    ("negative N", "grid: {N: [-5], J0: [1.0], seeds: [1]}\n", ["grid.N[0]", "-5", ">= 10"], 2),
    ("J0 a string", "grid: {N: [1000], J0: [abc], seeds: [1]}\n", ["grid.J0[0]", "abc", "a number"], 2),
    ("empty grid", "grid: {N: [], J0: [1.0], seeds: [1]}\n", ["grid.N", "at least 1"], 2),
    ("unknown transfer", "model: {transfer: relu2}\n", ["model.transfer", "relu2", "softplus"], 2),
    ("unknown method", "simulation: {method: rk5}\n", ["simulation.method", "rk5", "rk4"], 2),
    ("unknown stage", "stages: [simulat]\n", ["stages[0]", "simulat", "simulate"], 2),
    ("c above 1", "model: {c: 1.5}\n", ["model.c", "1.5"], 2),
    ("fig1 J0 not on the grid", "figures: {fig1: {J0: [0.33]}}\n", ["figures.fig1.J0", "0.33"], 2),
    ("record interval not a multiple of dt", "simulation: {record_interval: 0.07}\n",
     ["simulation", "record_interval"], 2),
    ("DMF lag window too short", "dmf: {solver: {max_lag: 10.0}}\n", ["dmf.solver.max_lag", "10"], 2),
    ("unstable step size", "grid: {N: [2000], J0: [200.0], seeds: [1]}\nsimulation: {dt: 0.5}\n"
     "figures: {fig1: {N: 2000, seed: 1, J0: [200.0]}}\n",
     ["simulation.dt", "0.5", "use dt <="], 2),
    ("network too large for this machine", "grid: {N: [1000000000], J0: [1.0], seeds: [1]}\n"
     "figures: {fig1: {N: 1000000000, seed: 1, J0: [1.0]}}\nsimulation: {dt: 0.0004}\n"
     "stages: [simulate]\n",  # (the stability stage's dense spectra refuse that N first)
     ["grid.N", "1000000000", "MB"], 5),
    ("alias bomb under an unknown key", "foo:\n  a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
     ["overlay.yaml", "expands to more than 100000 values"], 2),
    ("recursive alias", "foo: &a [1, *a]\n", ["overlay.yaml", "contains it"], 2),
    ("signless exponent", "simulation: {dt: 5e-2}\n", ["simulation.dt", "write 5.0e-2"], 2),
    ("N of 1e300", "grid: {N: [1.0e+300], J0: [1.0], seeds: [1]}\n"
     "figures: {fig1: {N: 1.0e+300, seed: 1, J0: [1.0]}}\n", ["grid.N[0]", "2^63 - 1"], 2),
    ("seed beyond int64", "grid: {seeds: [9223372036854775808]}\n", ["grid.seeds[0]", "2^63"], 2),
    ("subnormal tau_D", "model: {tau_D: 1.0e-320}\n", ["tau_D", "inverse is finite"], 2),
    ("step of 1e-300", "simulation: {dt: 1.0e-300}\n", ["dt", "1e+12 steps"], 2),
    ("transient of 1e12 tau", "simulation: {t_transient: 1.0e+12}\n",
     ["'simulation.dt':", "1e+12 tau", "or shorter times"], 2),
    ("recording larger than memory", "simulation: {t_record: 1.0e+10}\n",
     ["a simulate job needs", "shorten simulation.t_record"], 5),
    ("decreasing J_FP search range", "stability: {jfp: {J0_range: [1.6, 0.4]}}\n",
     ["stability.jfp.J0_range", "start < end"], 2),
    ("fig1 without J0", "figures: {fig1: {J0: []}}\n", ["figures.fig1.J0", "at least 1"], 2),
    ("results inside the package", f"results: {ROOT / 'src' / 'stdnet' / 'out'}\n",
     ["'results'", "outside the stdnet package"], 2),
    # what a job would refuse, refused before any job (stdnet.workflow.jobconfig)
    ("J_FP tolerance not below its step", "stability: {jfp: {tol: 0.1, step: 0.05}}\n",
     ["'stability.jfp.tol'", "0.1", "< step (0.05)"], 2),
    ("J_FP search of a network without I inputs", "stability: {jfp: {N: [10]}}\n",
     ["'model' with stability.jfp.N = 10", "K_I=0"], 2),
    ("homogeneous modes of a network without I inputs",
     "stability: {homogeneous: {N: [10, 1000]}}\n",
     ["'model' with stability.homogeneous.N = 10", "K_I=0"], 2),
    ("map of a network without I inputs", "stability: {homogeneous: {map_N: 10}}\n",
     ["'model' with stability.homogeneous.map_N = 10"], 2),
    ("routes of a network without I inputs", "stability: {routes: {N: 10}}\n",
     ["'model' with stability.routes.N = 10"], 2),
    ("heterogeneous FP of a network without I inputs", "stability: {hetfp: {N: 10}}\n",
     ["'model' with stability.hetfp.N = 10"], 2),
    ("recording of a network without I inputs", "correlations: {runs: [{N: [10], seeds: [1]}]}\n",
     ["'model' with correlations.runs N = 10"], 2),
    ("theory curves through networks without I inputs",
     "figures: {fig2: {N_theory: [10, 100000]}}\n",
     ["'model' with figures.fig2.N_theory = 10", "more of its sizes"], 2),
    ("dense J_FP solver above its largest N", "stability: {jfp: {method: dense, N: [5000]}}\n",
     ["'stability.jfp.method'", "N=5000", "N <= 1500"], 2),
    ("dense J_FP solver that takes no grid N", "stability: {jfp: {method: dense}}\n"
     "grid: {N: [2000], J0: [1.0], seeds: [1]}\nfigures: {fig1: {N: 2000, seed: 1, J0: [1.0]}}\n",
     ["'stability.jfp.method'", "takes none of grid.N [2000]"], 2),
    ("more J_FP eigenvalues than the Jacobian holds", "stability: {jfp: {k: 1000}}\n",
     ["'stability.jfp.k'", "1000", "at most 897 at N=1000"], 2),
    ("dense eig asked for above its largest N", "stability: {jfp: {dense_max_N: 100000}}\n",
     ["'stability.jfp.dense_max_N'", "100000", "at most 1500"], 2),
    ("routes beyond the dense spectra", "stability: {routes: {N: 5000}}\n",
     ["'stability.routes.N'", "5000", "at most 4000"], 2),
    ("heterogeneous-FP runs of 1e12 tau", "stability: {hetfp: {t_sim: 1.0e+12}}\n",
     ["'stability.hetfp.t_sim'", "simulation.dt = 0.05", "1e+12 steps"], 2),
    ("model without a balanced limit", "model: {u: 0.0}\n",
     ["'model.u'", "0.0", "a number > 0", "stage figures"], 2),
    ("input sampling off the step", "correlations: {sample_interval: 0.33}\n",
     ["'correlations.sample_interval'", "0.33", "multiple of simulation.dt (0.05)"], 2),
    ("input recording of 2 samples", "correlations: {t_measure: 1.0}\n",
     ["'correlations.t_measure'", "gives 2 samples", "at least 4"], 2),
    ("QR interval below the step", "lyapunov: {delta_t: 1.0e-12, t_align: 0.0}\n",
     ["'lyapunov.delta_t'", "1e-12", "at least one step"], 2),
    ("DMF lag window below 4 path steps",
     "dmf: {solver: {dt: 1.0, max_lag: 3.0, t_path: 200.0}}\nmodel: {tau_D: 1.0}\n",
     ["'dmf.solver.max_lag'", "3.0", "[4 dt, t_path / 2] = [4.0, 100.0]"], 2),
    ("looks closer than the QR interval", "lyapunov: {look_every: 1.0e-12}\n",
     ["'lyapunov.look_every'", "1e-12", "at least one"], 2),
    ("onset search of an unknown ensemble", "heterogeneity: {onset: {ensembles: [cv9]}}\n",
     ["'heterogeneity.onset.ensembles'", "cv9", "fixed, erdos_renyi, cv0.1"], 2),
    ("onset transient off the step", "heterogeneity: {onset: {t_transient: 200.03}}\n",
     ["'heterogeneity.onset.t_transient'", "200.03", "multiple of heterogeneity.dt (0.05)"], 2),
    ("onset averaging off the QR interval", "heterogeneity: {onset: {t_average: 10.5}}\n",
     ["'heterogeneity.onset.t_average'", "10.5", "multiple of the QR interval"], 2),
    ("ensemble with in-degrees beyond the pool",
     "heterogeneity: {ensembles: {wide: {connectivity: indegree_cv, indegree_cv: 3.0}}, "
     "N: [100]}\n", ["'heterogeneity.ensembles.wide'", "heterogeneity.N = 100"], 2),
]


@pytest.mark.parametrize("name,overlay,fragments,code", CONFIG_CASES,
                         ids=[c[0] for c in CONFIG_CASES])
def test_config_case(tmp_path, capsys, name, overlay, fragments, code):
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay)
    (tmp_path / "existing_file").write_text("x")
    _expect(capsys, ["check", str(PARAMS), str(path)], fragments, code)


@pytest.mark.parametrize("overlay,fragments", [
    ("dmf: {figure_N: 1234}\n", ["'dmf.figure_N'", "1234", "a simulated N [1000, 2000]"]),
    ("stability: {jfp: {method: dense, N: [5000]}}\n", ["'stability.jfp.method'", "N=5000"]),
], ids=["Fig 5 at an N not simulated", "dense J_FP solver above its largest N"])
def test_refused_without_the_memory_comparison(tmp_path, capsys, overlay, fragments):
    """Refused by the config check itself: before, only the memory comparison (which builds
    the jobs) caught these, and the workflow's start stopped with a Python traceback."""
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay)
    _expect(capsys, ["check", "--no-memory", str(PARAMS), str(path)], fragments, 2)


def test_results_an_existing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("taken").write_text("x")
    overlay = tmp_path / "o.yaml"
    overlay.write_text("results: taken\n")
    _expect(capsys, ["check", str(PARAMS), str(overlay)], ["results", "taken"], 2)


def test_missing_config_file(tmp_path, capsys):
    _expect(capsys, ["check", str(tmp_path / "nope.yaml")], ["nope.yaml", "not found"], 8)


def test_empty_config_file(tmp_path, capsys):
    (tmp_path / "empty.yaml").write_text("")
    _expect(capsys, ["check", str(tmp_path / "empty.yaml")], ["grid"], 2)


def test_default_config_passes(capsys):
    assert main(["check", str(PARAMS)]) == 0
    assert "valid" in capsys.readouterr().out


# ---- stdnet simulate ----------------------------------------------------------------
FAST = ["--N", "100", "--J0", "0.5", "--t_transient", "1", "--t_record", "2",
        "--progress-every", "100"]


def _sim(tmp_path, *extra, out="out.h5"):
    return ["simulate", *FAST, "-o", str(tmp_path / out), *extra]


SIMULATE_CASES = [
    ("threads 0", ["--threads", "0"], ["--threads", "0", ">= 1"], 2),
    ("threads negative", ["--threads", "-3"], ["--threads", "-3"], 2),
    ("checkpoint without interval", ["--checkpoint", "{tmp}/c.h5"], ["--checkpoint", "--checkpoint_interval"], 2),
    ("checkpoint equal to the output", ["--checkpoint", "{tmp}/out.h5", "--checkpoint_interval", "1"],
     ["--checkpoint"], 2),
    ("J0 nan", ["--J0", "nan"], ["J0", "nan"], 2),
    ("J0 negative", ["--J0", "-1"], ["J0", "-1"], 2),
    ("N too small", ["--N", "5"], ["c", "N_E=4"], 2),
    ("dt zero", ["--dt", "0"], ["dt", "0"], 2),
    ("dt inf", ["--dt", "inf"], ["dt", "inf"], 2),
    ("dt 1e-300", ["--dt", "1e-300"], ["dt", "1e-300", "1e+12 steps"], 2),
    ("t_record 1e12", ["--t_record", "1e12"], ["1e+12 tau", "or shorter times"], 2),
    ("recording larger than memory", ["--t_record", "1e10"],
     ["GB of memory", "shorten --t_record or raise --record_interval"], 5),
    ("unknown method", ["--method", "rk5"], ["method", "rk5"], 2),
    ("unknown precision", ["--precision", "float16"], ["precision", "float16"], 2),
    ("unknown transfer", ["--transfer", "relu2"], ["transfer", "relu2"], 2),
    ("unstable step size", ["--N", "2000", "--J0", "200", "--dt", "0.5"], ["dt", "0.5", "use dt <="], 2),
    ("network larger than memory", ["--N", "1000000000", "--dt", "0.0004"], ["N = 1000000000", "GB"], 5),
    ("output is a directory", ["-o", "{tmp}"], ["{tmp}"], 7),
    ("output below a file", ["-o", "{tmp}/afile/out.h5"], ["afile"], 7),
    ("output on a read-only file system", ["-o", "/proc/stdnet-out.h5"], ["/proc/stdnet-out.h5"], 7),
    ("checkpoint unreadable", ["--checkpoint", "{tmp}/garbage.h5", "--checkpoint_interval", "1"],
     ["garbage.h5"], 6),
]


@pytest.mark.parametrize("name,extra,fragments,code", SIMULATE_CASES,
                         ids=[c[0] for c in SIMULATE_CASES])
def test_simulate_case(tmp_path, capsys, name, extra, fragments, code):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "garbage.h5").write_bytes(b"not an HDF5 file at all" * 10)
    extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    fragments = [f.replace("{tmp}", str(tmp_path)) for f in fragments]
    argv = _sim(tmp_path)
    if "-o" in extra:  # the case names its own output
        i = argv.index("-o")
        del argv[i:i + 2]
    _expect(capsys, argv + extra, fragments, code)


def test_negative_value_in_exponent_form_reaches_its_option(tmp_path, capsys):
    # argparse alone takes '-1e6' for an option: "argument --I0: expected one argument"
    assert main(_sim(tmp_path, "--I0", "-1e6")) == 0
    with h5py.File(tmp_path / "out.h5") as f:
        assert f["params"].attrs["I0"] == -1e6


# ---- the other commands -------------------------------------------------------------
def test_bench_refuses_a_zero_step_and_a_network_beyond_memory(capsys):
    _expect(capsys, ["bench", "--quick", "--N", "200", "--dt", "0"], ["--dt", "0"], 2)
    # N = 1e7 at c = 0.1: 37 TiB of indices, refused before a child tries to allocate them
    _expect(capsys, ["bench", "--quick", "--N", "10000000"],
            ["--N: value 10000000", "GiB for its network alone"], 5)


def test_output_through_a_symbolic_link_is_refused(tmp_path, capsys):
    link = tmp_path / "link.h5"
    link.symlink_to(tmp_path / "target.h5")
    _expect(capsys, _sim(tmp_path, out="link.h5"), ["link.h5", "symbolic link"], 7)
    assert link.is_symlink() and not (tmp_path / "target.h5").exists()


def test_status_on_a_file_and_without_benchmarks(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    _expect(capsys, ["status", str(PARAMS), "--results", str(tmp_path / "afile")],
            ["afile", "is not a folder"], 8)
    _expect(capsys, ["status", str(PARAMS), "--results", str(tmp_path), "--benchmarks"],
            ["no benchmark files under", "yet"], 9)
    assert main(["status", str(PARAMS), "--results", str(tmp_path)]) == 9
    assert "None" not in capsys.readouterr().out  # a point not run shows '-'


def test_compare_refuses_a_typo_and_empty_folders(tmp_path, capsys):
    from stdnet.workflow.compare import main as compare

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert compare([str(tmp_path / "a"), str(tmp_path / "typo")]) == 8
    assert "typo does not exist" in capsys.readouterr().err
    assert compare([str(tmp_path / "a"), str(tmp_path / "b")]) == 8
    assert "nothing to compare" in capsys.readouterr().err


def test_checkpoint_of_another_run(tmp_path, capsys):
    ckpt = tmp_path / "c.h5"
    args = ["--checkpoint", str(ckpt), "--checkpoint_interval", "1", "--seed", "1"]
    _interrupt_after_first_checkpoint(tmp_path, args)
    assert ckpt.exists()
    _expect(capsys, _sim(tmp_path, *args[:-1], "2"), ["c.h5", "seed"], 6)


def test_output_claimed_by_another_writer(tmp_path, capsys):
    with io.claim_output(tmp_path / "out.h5"):
        _expect(capsys, _sim(tmp_path), ["out.h5", str(os.getpid())], 7)
    assert main(_sim(tmp_path)) == 0  # released: the next writer goes through


def test_divergence(tmp_path, capsys):
    # a kick of 1e200 overflows the products of the vector field within a step or two
    _expect(capsys, _sim(tmp_path, "--perturbation", "1e200"),
            ["diverged", "at step", "t =", "dt=0.05", "J0=0.5"], 3)
    assert not (tmp_path / "out.h5").exists()


def test_no_fixed_point(capsys, monkeypatch):
    import stdnet.cli as cli
    from stdnet.files.errors import FixedPointError

    def fail(*a, **k):
        raise FixedPointError("homogeneous fixed point did not converge for N=100, J0=0.5")

    monkeypatch.setattr(cli, "homogeneous_fixed_point", fail)  # the solver as the CLI holds it
    _expect(capsys, ["fixed-point", "--N", "100", "--J0", "0.5"], ["did not converge"], 4)


def test_out_of_memory_at_allocation(tmp_path, capsys, monkeypatch):
    import stdnet.simulation.simulate as sim

    def fail(*a, **k):
        return np.empty(10 ** 18)  # numpy cannot allocate 8 EB: a real MemoryError

    monkeypatch.setattr(sim, "build_network", fail)
    _expect(capsys, _sim(tmp_path), ["out of memory"], 5)


def test_internal_error_and_debug(tmp_path, capsys, monkeypatch):
    import stdnet.simulation.simulate as sim

    monkeypatch.setattr(sim, "build_network", lambda *a, **k: 1 / 0)
    _expect(capsys, _sim(tmp_path), ["internal error", "ZeroDivisionError", "--debug"], 1)
    assert main(["--debug", *_sim(tmp_path)]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "stdnet 0." in capsys.readouterr().out


# ---- disk full, stale temporaries ---------------------------------------------------
def test_disk_full_is_one_line_no_segfault(tmp_path):
    """A real short write: the file-size limit (RLIMIT_FSIZE) stops the output at 20 kB,
    as a full disk would; the previous output stays, no temporary file is left."""
    out = tmp_path / "out.h5"
    out.write_bytes(b"previous")
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        from stdnet.cli import main
        sys.exit(main({_sim(tmp_path)!r} + ["--n-record", "50", "--t_record", "50"]))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 7, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "out.h5" in res.stderr
    assert out.read_bytes() == b"previous"
    assert not list(tmp_path.glob(".out.h5.tmp-*"))


def test_stale_temporary_of_a_dead_process_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".out.h5.tmp-{dead}"
    stale.write_bytes(b"half")
    assert main(_sim(tmp_path)) == 0
    assert not stale.exists() and (tmp_path / "out.h5").exists()


# ---- truncated and foreign files ------------------------------------------------------
def test_truncated_file_named_by_status(tmp_path, capsys):
    assert main(_sim(tmp_path, out="results/N~100/J0~0.5/seed~1/simulation.h5")) == 0
    capsys.readouterr()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"results: {tmp_path / 'results'}\ngrid: {{N: [100], J0: [0.5], seeds: [1, 2]}}\n"
                   "figures: {fig1: {N: 100, seed: 1, J0: [0.5]}}\n")
    h5 = tmp_path / "results/N~100/J0~0.5/seed~1/simulation.h5"
    os.truncate(h5, 1000)
    code = main(["status", str(PARAMS), str(cfg)])
    captured = capsys.readouterr()
    assert code == 9
    assert "corrupt" in captured.out and "simulation.h5" in captured.err


def test_foreign_h5_refused_by_reader(tmp_path):
    from stdnet.files.errors import InputFileError
    from stdnet.simulation.simulate import read_simulation

    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(InputFileError, match="foreign.h5"):
        read_simulation(tmp_path / "foreign.h5")


def test_status_missing_config(tmp_path, capsys):
    _expect(capsys, ["status", str(tmp_path / "none.yaml")], ["none.yaml", "not found"], 8)


# ---- helpers --------------------------------------------------------------------------
def _expect(capsys, argv, fragments, code):
    got = main(argv)
    err = capsys.readouterr().err
    assert got == code, f"exit {got}, wanted {code}: {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
    for frag in fragments:
        assert frag in err, f"{frag!r} not in: {err[-2000:]}"


def _interrupt_after_first_checkpoint(tmp_path, args):
    """Run simulate in a subprocess and SIGKILL it once the checkpoint exists."""
    ckpt = Path(args[args.index("--checkpoint") + 1])
    argv = _sim(tmp_path, *args, "--t_record", "100000")
    proc = subprocess.Popen([sys.executable, "-m", "stdnet.cli", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if ckpt.exists():
                break
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()



# ---- the workflow: config errors, memory, damaged files, failed table jobs ---------------
TINY = """results: res
stages: [simulate]
grid: {N: [100], J0: [0.5], seeds: [1]}
simulation: {t_transient: 2.0, t_record: 2.0}
figures: {fig1: {N: 100, seed: 1, J0: [0.5]}}
"""


def _snakemake(work, *args, overlay=None):
    (work / "t.yaml").write_text(TINY)
    files = ["t.yaml"] + ([overlay] if overlay else [])
    if overlay:
        (work / overlay).write_text(WORKFLOW_OVERLAYS[overlay])
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
           "--configfile", *files, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=work,
                          env={**os.environ, "NUMBA_NUM_THREADS": "1"})


WORKFLOW_OVERLAYS = {
    "misspelt.yaml": "simulaton: {dt: 0.01}\n",
    "twice.yaml": "simulation:\n  dt: 0.01\n  dt: 0.02\n",
    "huge.yaml": "grid: {N: [1000000000], J0: [0.5], seeds: [1]}\n"
                 "figures: {fig1: {N: 1000000000, seed: 1, J0: [0.5]}}\nsimulation: {dt: 0.0004}\n",
    # checked while Snakemake parsed stability.smk: a Python traceback before
    "dense.yaml": "stability: {jfp: {method: dense, N: [5000]}}\n",
}
WORKFLOW_CASES = [
    ("misspelt.yaml", ["-n"], ["stdnet: invalid configuration", "did you mean 'simulation'"], 2),
    ("twice.yaml", ["-n"], ["twice.yaml:3:3", "written twice"], 2),
    ("huge.yaml", ["--cores", "1"], ["grid.N = 1000000000", "MB", "this machine has"], 5),
    ("dense.yaml", ["-n"], ["stdnet: invalid configuration", "'stability.jfp.method'",
                            "N=5000"], 2),
]


@pytest.mark.parametrize("overlay,args,fragments,code", WORKFLOW_CASES,
                         ids=[c[0] for c in WORKFLOW_CASES])
def test_workflow_refuses(tmp_path, overlay, args, fragments, code):
    res = _snakemake(tmp_path, *args, overlay=overlay)
    text = res.stdout + res.stderr  # a dry run logs to stdout
    assert res.returncode == code, text[-3000:]
    assert "Traceback" not in text
    for frag in fragments:
        assert frag in text, text[-3000:]
    assert not (tmp_path / "res").exists()  # refused before any job


def test_workflow_redoes_damaged_files_and_keeps_tables_of_failed_jobs(tmp_path):
    """A truncated simulation.h5 is moved to .damaged and simulated again; a summarise that
    fails on a damaged input leaves the previous runs.csv in place, and the next run
    redoes it."""
    assert _snakemake(tmp_path, "--cores", "1").returncode == 0
    h5 = tmp_path / "res/N~100/J0~0.5/seed~1/simulation.h5"
    table = tmp_path / "res/tables/runs.csv"
    os.truncate(h5, 1000)
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "moved to res/.damaged/N~100/J0~0.5/seed~1/simulation.h5" in res.stderr
    assert (tmp_path / "res/.damaged/N~100/J0~0.5/seed~1/simulation.h5").stat().st_size == 1000
    assert io.check_h5(h5) is None  # simulated again
    previous = table.read_bytes()
    with io.atomic_h5(h5) as f:  # complete, but without the datasets summarise reads
        f.create_group("params")
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode != 0
    assert table.read_bytes() == previous
    assert "runs.csv: kept the previous version" in res.stderr
    plan = _snakemake(tmp_path, "-n")
    assert "summarise" in plan.stdout and "Updated input files" in plan.stdout


def test_workflow_redoes_a_file_of_another_point(tmp_path):
    """A complete simulation.h5 of another grid point in this point's folder (copied by
    hand) is moved aside at the start, like a damaged file, and simulated again: the table
    then has this point's row, not the other's."""
    assert _snakemake(tmp_path, "--cores", "1").returncode == 0
    h5 = tmp_path / "res/N~100/J0~0.5/seed~1/simulation.h5"
    with h5py.File(h5, "r+") as f:  # what a copy from J0~1.5 would hold
        f["params"].attrs["J0"] = 1.5
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "holds another point (N = 100, J0 = 1.5, I0 = 0, seed = 1) than its folder names " \
           "(J0~0.5)" in res.stderr
    assert "moved to res/.damaged/N~100/J0~0.5/seed~1/simulation.h5" in res.stderr
    assert io.check_h5(h5) is None
    runs = pd.read_csv(tmp_path / "res/tables/runs.csv")
    assert list(runs["J0"]) == [0.5]


def test_workflow_keeps_out_of_a_folder_it_does_not_own(tmp_path, monkeypatch):
    """A results folder with the user's files and no marker is refused before anything
    happens in it; with the marker created by hand the run adds its own files and leaves
    the user's alone (a dead process's '.x.tmp-<pid>' name included). A fresh folder gets
    the marker from its first run."""
    user = tmp_path / "res"
    (user / "sub").mkdir(parents=True)
    files = {"mydata.h5": "a", "sub/experiment.h5": "b", "README.txt": "c",
             ".cache.tmp-99999": "d"}
    for name, text in files.items():
        (user / name).write_text(text)
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "holds files stdnet did not write" in res.stderr
    assert "touch res/.stdnet-results" in res.stderr
    assert sorted(p.name for p in user.rglob("*")) == sorted(
        ["mydata.h5", "sub", "experiment.h5", "README.txt", ".cache.tmp-99999"])
    monkeypatch.chdir(tmp_path)  # stdnet check refuses it too ('results: res' is relative)
    assert main(["check", str(PARAMS), "t.yaml"]) == 2
    (user / ".stdnet-results").write_text("")
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    for name, text in files.items():
        assert (user / name).read_text() == text
    assert not (user / ".damaged").exists()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "t.yaml").write_text(TINY)
    assert _snakemake(fresh, "-n").returncode == 0
    assert not (fresh / "res").exists()  # a dry run claims nothing
    assert _snakemake(fresh, "--cores", "1").returncode == 0
    assert '"stdnet"' in (fresh / "res/.stdnet-results").read_text()


def test_workflow_moves_folders_that_stand_where_it_writes_files(tmp_path):
    """A folder named simulation.h5, or tables/runs.csv, is moved to .damaged at the start
    and the file is written again (it was accepted as done)."""
    assert _snakemake(tmp_path, "--cores", "1").returncode == 0
    h5 = tmp_path / "res/N~100/J0~0.5/seed~1/simulation.h5"
    table = tmp_path / "res/tables/runs.csv"
    for path in (h5, table):
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("x")
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "a folder, where the workflow writes a file" in res.stderr
    assert io.check_h5(h5) is None and table.is_file()
    assert (tmp_path / "res/.damaged/N~100/J0~0.5/seed~1/simulation.h5/inside").exists()
    assert (tmp_path / "res/.damaged/tables/runs.csv/inside").exists()


def test_workflow_redoes_a_deleted_point_file(tmp_path):
    """A finished simulation.h5 deleted by hand is made again although runs.csv, made from
    it, is up to date (Snakemake alone said 'Nothing to be done')."""
    assert _snakemake(tmp_path, "--cores", "1").returncode == 0
    h5 = tmp_path / "res/N~100/J0~0.5/seed~1/simulation.h5"
    h5.unlink()
    plan = _snakemake(tmp_path, "-n")
    assert "simulate" in plan.stdout, plan.stdout[-2000:]
    res = _snakemake(tmp_path, "--cores", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "missing although the tables made from it exist" in res.stderr
    assert io.check_h5(h5) is None
    again = _snakemake(tmp_path, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_every_table_and_figure_keeps_its_previous_version(tmp_path):
    """A forced dry run of the default config, every stage: each table and figure output
    (PDFs included) is flagged `update`, so a failed job restores the previous version."""
    (tmp_path / "o.yaml").write_text("results: res\ncorrelations: {J0: [1.5]}\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d",
           str(tmp_path), "-n", "-F", "--configfile", str(PARAMS), "o.yaml"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    outputs = [f.strip() for line in res.stdout.splitlines()
               if line.strip().startswith("output:")
               for f in line.split("output:", 1)[1].split(",")]
    kept = [f for f in outputs if re.match(r"res/(tables|figures)/", f)]
    assert len({f.split()[0] for f in kept}) > 60
    assert [f for f in kept if not f.endswith("(update)")] == []
    assert any(f.startswith("res/figures/simulation_regimes.pdf") for f in kept)

