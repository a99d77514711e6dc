"""Config hardening: unknown keys, non-finite numbers, grid duplicates and J0 path text,
`results`, strict YAML, and the preflight checks (step size, memory)."""
from __future__ import annotations

import copy
import math
import re
import tracemalloc
from pathlib import Path

import pytest
import yaml

from stdnet.workflow import preflight
from stdnet.workflow.config import (ConfigError, check_config_files, load_config_file, load_config_files,
                           load_schema, load_yaml, validate_config)
from stdnet.files.errors import InputError, InputFileError, ResourceError
from stdnet.model.params import ModelParams, RunParams

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"
DEFAULT = yaml.safe_load((ROOT / "config" / "params.yaml").read_text())


def _error(cfg) -> str:
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, SCHEMA)
    return str(e.value)


def _set(path: str, value):
    """A mutation that sets the dotted key `path` (list items as [i])."""
    def mutate(cfg, tmp_path):
        *parents, last = re.findall(r"[^.\[\]]+", path)
        node = cfg
        for k in parents:
            node = node[int(k)] if k.isdigit() else node.setdefault(k, {})
        node[int(last) if last.isdigit() else last] = value(tmp_path) if callable(value) else value
    return mutate


def _j0(*values):
    """grid.J0 and figures.fig1.J0 (which must be grid values) together."""
    def mutate(cfg, tmp_path):
        cfg["grid"]["J0"] = list(values)
        cfg["figures"]["fig1"]["J0"] = [values[0]]
    return mutate


def _results_file(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("not a folder")
    return str(f)


def _dangling_link(tmp_path):
    link = tmp_path / "gone"
    link.symlink_to(tmp_path / "no" / "such" / "folder")
    return str(link)


CASES = {
    # unknown keys, at every level
    "top-level typo": (_set("simulaton", {"dt": 0.01}),
                       ["'simulaton': unknown key", "did you mean 'simulation'?", "allowed: only the keys"]),
    "top-level unrelated": (_set("zzz", 1), ["'zzz': unknown key; allowed:"]),
    "nested typo": (_set("simulation.dtt", 0.01), ["'simulation.dtt': unknown key", "did you mean 'dt'?"]),
    "deep unknown": (_set("stability.jfp.tolerance", 0.1), ["'stability.jfp.tolerance': unknown key"]),
    "figures section": (_set("figures.fig3", {}), ["'figures.fig3': unknown key", "fig1, fig2"]),
    "missing grid": (lambda cfg, _: cfg.pop("grid"), ["'grid': missing"]),
    # nan and inf
    "J0 nan": (_set("grid.J0[0]", math.nan),
               ["config key 'grid.J0[0]': value nan is not allowed; allowed: a finite number"]),
    "J0 inf": (_set("grid.J0[2]", math.inf), ["'grid.J0[2]': value inf is not allowed"]),
    "J0 -inf": (_set("grid.J0[1]", -math.inf), ["'grid.J0[1]': value -inf is not allowed"]),
    "c nan": (_set("model.c", math.nan), ["'model.c': value nan", "a finite number"]),
    "dt inf": (_set("simulation.dt", math.inf), ["'simulation.dt': value inf", "a finite number"]),
    "dmf.I0 nan": (_set("dmf.I0[1]", math.nan), ["'dmf.I0[1]': value nan"]),
    # grid duplicates and J0 path text
    "duplicate N": (_set("grid.N", [1000, 2000, 1000]), ["'grid.N': value(s) 1000 appear more than once"]),
    "duplicate seeds": (_set("grid.seeds", [1, 2, 2, 3, 3]), ["'grid.seeds': value(s) 2, 3 appear"]),
    "duplicate J0": (_j0(0.5, 1.0, 0.5), ["'grid.J0': value(s) 0.5 appear more than once"]),
    "J0 path collision": (_j0(0.1, 0.10000000001),
                          ["'grid.J0': values 0.1 and 0.10000000001 give the same result path 'J0~0.1'"]),
    "J0 below resolution": (_j0(0.1, 1e-7),
                            ["'grid.J0[1]': value 1e-07 is not allowed; allowed: a multiple of 1e-6",
                             "'J0~0' would be run at 0"]),
    "dmf.J0 collision": (_set("dmf.J0", [1.5, 1.5000000002]), ["'dmf.J0': values 1.5 and 1.5000000002",
                                                              "'J0~1.5'"]),
    "dmf.I0 resolution": (_set("dmf.I0", [0.3, 3e-8]), ["'dmf.I0[1]': value 3e-08", "'I0~0'"]),
    "model.I0 resolution": (_set("model.I0", 0.30000001), ["'model.I0': value 0.30000001",
                                                          "'I0~0.3'"]),
    "correlations.J0 off grid": (_set("correlations.J0", [1.7]),
                                 ["'correlations.J0': value 1.7 is not allowed", "values of grid.J0"]),
    # results
    "results empty": (_set("results", ""), ["'results': value '' is not allowed", "non-empty"]),
    "results root": (_set("results", "/"), ["'results': value '/'", "file-system root"]),
    "results wildcard": (_set("results", "out/{N}"), ["'results': value 'out/{N}'", "wildcards"]),
    "results newline": (_set("results", "out\nx"), ["'results'", "line breaks"]),
    "results is a file": (_set("results", _results_file), ["'results'", "not a folder"]),
    "results dangling link": (_set("results", _dangling_link),
                              ["'results'", "symbolic link to '", "which does not exist"]),
    # numbers YAML reads as text, or too large for the file formats and size arithmetic
    "nested value as text": (_set("simulation", "{dt: 0.1}"),
                             ["'simulation': value '{dt: 0.1}' is not allowed",
                              "Snakemake's --config passes nested values as strings"]),
    "signless exponent": (_set("simulation.dt", "5e-2"),
                          ["'simulation.dt': value '5e-2' is not allowed",
                           "YAML reads '5e-2' as text, not a number: write 5.0e-2"]),
    "N of 1e300": (lambda cfg, _: (cfg["grid"].update(N=[1.0e300]),
                                   cfg["figures"]["fig1"].update(N=1.0e300)),
                   ["'grid.N[0]': value 1e+300 is not allowed", "magnitude at most 2^63 - 1"]),
    "seed beyond int64": (_set("grid.seeds", [2 ** 63]),
                          ["'grid.seeds[0]': value 9223372036854775808 is not allowed"]),
    "subnormal tau_D": (_set("model.tau_D", 1e-320),
                        ["tau_D: invalid value 1e-320", "whose inverse is finite"]),
    # step size
    "dt outside RK4 region": (lambda cfg, _: (_j0(200)(cfg, _), _set("simulation.dt", 0.5)(cfg, _)),
                              ["'simulation.dt': value 0.5 is outside the RK4 stability region",
                               "N = 2000, J0 = 200", "use dt <= 0.001"]),
    "dt outside Euler region": (lambda cfg, _: cfg["simulation"].update(method="euler", dt=0.5),
                                ["outside the Euler stability region", "use dt <="]),
    # the lyapunov section as the jobs read it (not only by the job, after the simulations)
    "delta_t off the step": (_set("lyapunov.delta_t", 0.33),
                             ["config key 'lyapunov.delta_t': invalid value 0.33",
                              "a whole multiple of simulation.dt (0.05)"]),
    "cycle_check within settling": (_set("lyapunov.cycle_check", 10.0),
                                    ["config key 'lyapunov.cycle_check': invalid value 10.0",
                                     "0 (off) or a number of tau > 20.0"]),
}


@pytest.mark.parametrize("mutate, fragments", CASES.values(), ids=CASES.keys())
def test_config_refused_with_message(mutate, fragments, tmp_path):
    cfg = copy.deepcopy(DEFAULT)
    mutate(cfg, tmp_path)
    msg = _error(cfg)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_did_you_mean_only_for_close_keys():
    cfg = copy.deepcopy(DEFAULT)
    cfg["zzz"] = 1
    assert "did you mean" not in _error(cfg)


@pytest.mark.parametrize("results", ["results", "out/sub", "/tmp/stdnet-results", "."])
def test_results_accepted(results):
    cfg = {**copy.deepcopy(DEFAULT), "results": results}
    assert validate_config(cfg, SCHEMA)["results"] == results


def test_results_home_is_expanded():
    cfg = {**copy.deepcopy(DEFAULT), "results": "~/stdnet-results"}
    assert validate_config(cfg, SCHEMA)["results"] == str(Path.home() / "stdnet-results")


def test_default_config_accepted_and_errors_are_input_errors():
    validate_config(DEFAULT, SCHEMA)
    assert issubclass(ConfigError, InputError) and issubclass(ConfigError, ValueError)
    assert ConfigError("x").exit_code == 2


def test_every_schema_mapping_refuses_unknown_keys():
    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                assert node.get("additionalProperties") is False, where
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")
    walk(load_schema(SCHEMA), "schema")


def test_suggested_dt_is_accepted():
    cfg = copy.deepcopy(DEFAULT)
    _j0(200)(cfg, None)
    cfg["simulation"]["dt"] = 0.5
    dt = float(re.search(r"use dt <= ([0-9.e-]+)", _error(cfg)).group(1))
    cfg["simulation"]["dt"] = dt
    assert validate_config(cfg, SCHEMA)["simulation"]["dt"] == dt


# ---- YAML -------------------------------------------------------------------------
YAML_CASES = {
    "duplicate key": ("simulation:\n  dt: 0.05\n  method: rk4\n  dt: 0.1\n",
                      ":4:3: key 'dt' written twice (first at line 2)"),
    "duplicate section": ("grid: {N: [10]}\nresults: a\ngrid: {N: [20]}\n",
                          ":3:1: key 'grid' written twice (first at line 1)"),
    "unclosed list": ("grid:\n  N: [1000, 2000\n",
                      ":3:1: expected ',' or ']', but got '<stream end>' (while parsing a flow "
                      "sequence at line 2, column 6)"),
    "bad indentation": ("a: 1\n b: 2\n", ":2:3: mapping values are not allowed here"),
    "tab": ("grid:\n\tN: 1\n", ":2:1: found character '\\t' that cannot start any token"),
    "top-level list": ("- 1\n- 2\n", "the top level must be a mapping"),
    # 9 levels of 9 aliases: 9^9 values from a 10-line file; refused before any walk over it
    "alias bomb": ("a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
        "expands to more than 100000 values"),
    "alias of itself": ("a: &a [1, *a]\n", "a YAML alias refers to a value that contains it"),
}


@pytest.mark.parametrize("text, fragment", YAML_CASES.values(), ids=YAML_CASES.keys())
def test_yaml_errors_name_file_line_column(text, fragment, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config_file(path, SCHEMA)
    msg = str(e.value)
    assert msg.startswith(f"{path}{fragment}") if fragment.startswith(":") else fragment in msg, msg


def test_missing_and_empty_config_files(tmp_path):
    with pytest.raises(InputFileError, match=r"config file '.*nope\.yaml' not found"):
        load_config_files([ROOT / "config" / "params.yaml", tmp_path / "nope.yaml"], SCHEMA)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert load_yaml(empty) == {}
    with pytest.raises(ConfigError, match=r"'grid': missing"):
        load_config_file(empty, SCHEMA)


def test_check_config_files_lists_every_bad_file(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\nx: 2\n")
    b.write_text("y: [\n")
    with pytest.raises(ConfigError) as e:
        check_config_files([a, ROOT / "config" / "params.yaml", b])
    assert f"{a}:2:1: key 'x' written twice" in str(e.value) and f"{b}:2:1:" in str(e.value)
    assert check_config_files([ROOT / "config" / "params.yaml"])[0]["grid"]["N"] == [1000, 2000]


def test_yaml_merge_keys_still_work(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {dt: 0.05, method: rk4}\nsim:\n  <<: *b\n  dt: 0.1\n")
    assert load_yaml(path)["sim"] == {"dt": 0.1, "method": "rk4"}


# ---- step size --------------------------------------------------------------------
RK4_REAL_LIMIT = 2.785293563405282  # |R(-x)| = 1, R the RK4 polynomial


def test_max_stable_dt_matches_the_analytic_limits():
    # J0 = 0: the homogeneous Jacobian is diagonal, the fastest mode is -1/tau_E
    p = ModelParams(N=1000, J0=0.0, tau_E=0.01)
    assert preflight.max_stable_dt(p, "rk4") == pytest.approx(RK4_REAL_LIMIT / 100, rel=1e-9)
    assert preflight.max_stable_dt(p, "euler") == pytest.approx(2 / 100, rel=1e-9)
    # a mode just left of the imaginary axis: RK4 reaches 2 sqrt(2) there, Euler nothing
    assert preflight.ray_limit(complex(-1e-9, 1.0), "rk4") == pytest.approx(2 * 2 ** 0.5, rel=1e-4)
    assert preflight.ray_limit(complex(-1e-3, 1.0), "euler") == pytest.approx(2e-3, rel=1e-3)
    assert preflight.ray_limit(complex(0.5, 1.0), "rk4") == math.inf  # growing: not checked


def test_dt_problem_names_point_eigenvalue_and_a_stable_dt():
    p = ModelParams(N=2000, J0=200.0)
    msg = preflight.dt_problem(p, RunParams(dt=0.5))
    assert msg.startswith("simulation.dt = 0.5 is outside the RK4 stability region at N = 2000, "
                          "J0 = 200 (eigenvalue -1.74e+03")
    dt = float(re.search(r"use dt <= ([0-9.e-]+)", msg).group(1))
    assert dt <= preflight.DT_SAFETY * preflight.max_stable_dt(p)
    assert preflight.dt_problem(p, RunParams(dt=dt, record_interval=0.5)) is None
    assert preflight.dt_problem(ModelParams(N=2000, J0=1.0), RunParams(dt=0.05)) is None


def test_dt_just_above_the_limit_is_told_apart_from_it():
    """The limit is printed with 6 digits: 0.0205 must not be 'outside ... stable below
    0.0205'."""
    p, run = ModelParams(N=2000, J0=200.0), RunParams(dt=0.05)
    limit = preflight.max_stable_dt(p, run.method)
    dt = float(f"{limit * (1 + 2e-4):.6g}")
    msg = preflight.dt_problem(p, RunParams(dt=dt, record_interval=dt, t_transient=dt * 100,
                                            t_record=dt * 100))
    shown = re.search(r"stable below ([0-9.e-]+)", msg)[1]
    assert float(shown) < dt and f"{dt}" in msg


def test_suggest_dt_divides_the_intervals():
    assert preflight.suggest_dt(0.0411, (0.5, 1.0)) == 0.025  # 0.036 ... 0.026 do not divide 0.5
    assert preflight.suggest_dt(0.0411) == 0.036


# ---- memory -----------------------------------------------------------------------
def test_memory_refusal_names_rule_size_and_machine():
    cfg = validate_config(DEFAULT, SCHEMA)
    assert preflight.memory_problems(cfg, 24 * 1024) == []
    assert preflight.memory_problems(cfg, None) == []
    cfg["grid"]["N"] = [1000, 10 ** 9]
    problems = preflight.memory_problems(cfg, 24 * 1024)
    sim = next(p for p in problems if "a simulate job" in p)
    assert sim.startswith("grid.N = 1000000000: a simulate job needs ~")
    mb = float(re.search(r"needs ~([0-9.e+]+) MB", sim).group(1))
    assert mb > 1e8  # 1e9 neurons x 1e8 inputs x 4-byte indices
    assert "this machine has 24 GB" in sim and "docs/cluster.md" in sim
    with pytest.raises(ResourceError, match="not enough memory") as e:
        preflight.check_memory(cfg, 24 * 1024)
    assert e.value.exit_code == 5
    assert "a node has" in preflight.memory_problems(cfg, 24 * 1024, executor="slurm")[0]


def test_machine_memory_is_positive_or_unknown():
    mb = preflight.machine_memory_mb()
    assert mb is None or mb > 0


@pytest.mark.parametrize("run", [
    RunParams(),  # the pattern and the uniforms block that draws it dominate
    RunParams(n_record=1000, t_transient=200.0, t_record=400.0, precision="float32"),  # recordings
], ids=["default", "long-recording"])
def test_simulation_memory_prediction_matches_tracemalloc(run):
    """tracemalloc peak of building the network and the Simulator (plus a recorded sample
    and the result) at N = 4000 is within -33%/+50% of the prediction (interpreter
    excluded: process=False)."""
    from stdnet.model.network import build_network
    from stdnet.simulation.simulate import Simulator

    small = ModelParams(N=200, J0=1.0)
    # compile the kernels of this precision first: numba's compiler allocates too
    warm = RunParams(t_transient=1.0, t_record=1.0, precision=run.precision)
    Simulator(small, warm, 1).advance_to(20)
    p = ModelParams(N=4000, J0=1.0)
    tracemalloc.start()
    try:
        sim = Simulator(p, run, 1, network=build_network(p, 1))
        sim.advance_to(sim.run.steps_per_record)
        sim.result()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    predicted = preflight.simulation_memory_bytes(p, run, process=False)
    assert 2 / 3 <= peak / predicted <= 1.5, (peak, predicted)  # measured 0.91-1.01
    assert preflight.simulation_memory_bytes(p, run) > predicted  # + the interpreter


def test_points_without_a_fixed_point_are_skipped(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("homogeneous fixed point did not converge")

    # the solvers as preflight holds them (stdnet.theory.meanfield's, imported by name)
    monkeypatch.setattr(preflight, "homogeneous_fixed_point", fail)
    monkeypatch.setattr(preflight, "fixed_point_branch", fail)
    assert preflight.dt_problem(ModelParams(N=2000, J0=200.0), RunParams(dt=0.5)) is None
    cfg = copy.deepcopy(DEFAULT)
    _j0(200)(cfg, None)
    cfg["simulation"]["dt"] = 0.5
    validate_config(cfg, SCHEMA)  # nothing to linearise around: no refusal, no crash
