"""Workflow configuration: JSON-Schema validation with defaults and readable errors.

The schema is split by stage into config/schema/<stage>.yaml (core, stability,
lyapunov, ...); each fragment describes its own top-level sections, and they are
merged here. Every error names the key, the value and what is allowed:

    config key 'grid.N[1]': value -5 is not allowed; allowed: a number >= 10
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
import re
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

from stdnet.files.errors import InputError, InputFileError
from stdnet.lyapunov.run import LyapunovSettings
from stdnet.model.params import (
    HETEROGENEITY_DEFAULTS,
    J0_DECIMALS,
    ModelParams,
    RunParams,
    format_J0,
)
from stdnet.workflow.jobconfig import job_config_problems
from stdnet.workflow.preflight import auto_dt, dt_config_problems

#: src/stdnet, and the checkout it was installed from (pip install -e .)
PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PACKAGE_DIR.parents[1]


class ConfigError(InputError):
    """A configuration value that is not allowed (exit code 2; still a ValueError)."""


# ---- YAML with file, line and column -----------------------------------------------
class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key written twice in one mapping (PyYAML, and so
    Snakemake, keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        first = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node,
                                                                           yaml.ScalarNode):
                continue  # '<<' merges may be overridden; complex keys are not config keys
            key = self.construct_object(key_node)
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} written twice (first at line {first[key] + 1})",
                    key_node.start_mark)
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def load_yaml(path):
    """One YAML file, strictly: ConfigError 'file:line:col: problem' on a syntax error or
    a duplicate key; InputFileError 'config file ... not found' if missing; an empty file
    gives {}."""
    try:
        with open(path, "rb") as fh:  # bytes: yaml reports bad UTF-8 with its position
            data = yaml.load(fh, Loader=StrictLoader)
    except FileNotFoundError:
        raise InputFileError(f"config file '{path}' not found") from None
    except OSError as e:
        raise InputFileError(f"config file '{path}' cannot be read: {e.strerror or e}") from None
    except yaml.MarkedYAMLError as e:
        m, c = e.problem_mark or e.context_mark, e.context_mark
        where = f"{path}:{m.line + 1}:{m.column + 1}" if m else str(path)
        ctx = f" ({e.context} at line {c.line + 1}, column {c.column + 1})" \
            if e.problem and e.context and c else ""
        raise ConfigError(f"{where}: {e.problem or e.context}{ctx}") from None
    except yaml.YAMLError as e:  # e.g. a byte that is not UTF-8
        raise ConfigError(f"{path}: {e}") from None
    except RecursionError:  # nesting deeper than Python's stack
        raise ConfigError(f"{path}: nested too deeply; allowed: a config of at most "
                          f"{MAX_CONFIG_VALUES} values") from None
    size = expanded_size(data)
    if size is None:
        raise ConfigError(f"{path}: a YAML alias refers to a value that contains it (an "
                          "endless value); allowed: aliases of finished values only")
    if size > MAX_CONFIG_VALUES:
        raise ConfigError(f"{path}: expands to more than {MAX_CONFIG_VALUES} values (each "
                          "YAML alias '*name' repeats what its anchor holds); allowed: a "
                          f"config of at most {MAX_CONFIG_VALUES} values")
    return {} if data is None else data


#: a config is a few hundred values; YAML aliases can make a short file expand without
#: bound ("billion laughs"), which every walk over the values would then pay for
MAX_CONFIG_VALUES = 100_000


def expanded_size(data) -> int | None:
    """Values in `data` with every shared (aliased) list and mapping counted each time it is
    reached, computed without expanding it (one count per object); None when a value
    contains itself. Counting stops just above MAX_CONFIG_VALUES."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(v) -> int | None:
        if not isinstance(v, (dict, list)):
            return 1
        if id(v) in memo:
            return memo[id(v)]
        if id(v) in active:
            return None
        active.add(id(v))
        total = 1
        for item in (x for kv in v.items() for x in kv) if isinstance(v, dict) else v:
            n = size(item)
            if n is None:
                return None
            total = min(total + n, MAX_CONFIG_VALUES + 1)
        active.discard(id(v))
        memo[id(v)] = total
        return total

    return size(data)


def _load_config_mapping(path) -> dict:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}': the top level must be a mapping of config "
                          f"keys, not {type(data).__name__}")
    return data


def check_config_files(paths) -> list[dict]:
    """Load every config file strictly (Snakemake's own loader accepts duplicate keys);
    ConfigError lists the problems of all of them."""
    out, problems = [], []
    for path in paths:
        try:
            out.append(_load_config_mapping(path))
        except ConfigError as e:  # a missing file (InputFileError) stops at once
            problems.append(str(e))
    if problems:
        raise ConfigError("invalid configuration file(s):\n  " + "\n  ".join(problems))
    return out


def _extend_with_default(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultFiller = _extend_with_default(Draft202012Validator)


def schema_dir() -> Path:
    """config/schema of the repository this package runs from (an editable install, as
    `make install` makes); the workflow passes its own instead."""
    path = REPO_DIR / "config" / "schema"
    if not path.is_dir():
        raise InputFileError(f"config schema not found at {path}: run stdnet from a checkout "
                             "of the repository (pip install -e .)")
    return path


def load_schema(schema_dir) -> dict:
    """Merge every config/schema/*.yaml fragment into one object schema."""
    schema_dir = Path(schema_dir)
    merged = {"type": "object", "properties": {}, "required": []}
    files = sorted(schema_dir.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no schema fragments in {schema_dir}")
    for path in files:
        frag = yaml.safe_load(path.read_text())
        for key, sub in frag.get("properties", {}).items():
            if key in merged["properties"]:
                raise ValueError(f"schema section {key!r} defined twice (second in {path})")
            merged["properties"][key] = sub
        merged["required"] += frag.get("required", [])
    merged["additionalProperties"] = False  # a misspelt section must not pass silently
    _defaults_from_dataclasses(merged)
    return merged


def _defaults_from_dataclasses(schema: dict) -> None:
    """The defaults of `model` and `simulation` are the dataclasses' (one source): the
    schema fragments describe types and ranges only. The heterogeneity keys are not filled
    in: a config without them keeps the `model` section it had before they existed, so the
    jobs of existing results folders stay up to date (their params are unchanged)."""
    for section, cls in (("model", ModelParams), ("simulation", RunParams)):
        props = schema["properties"].get(section, {}).get("properties", {})
        for f in dataclasses.fields(cls):
            if section == "model" and f.name in HETEROGENEITY_DEFAULTS:
                continue
            if f.name in props:
                if "default" in props[f.name]:
                    raise ValueError(f"schema: {section}.{f.name} has a default; it belongs to "
                                     f"{cls.__name__} only")
                props[f.name]["default"] = f.default


def _key(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _allowed(err) -> str:
    v, val = err.validator, err.validator_value
    if v == "type":
        names = {"integer": "an integer", "number": "a number", "string": "a string",
                 "array": "a list", "object": "a mapping", "boolean": "true or false"}
        vals = val if isinstance(val, list) else [val]
        return " or ".join(names.get(t, t) for t in vals)
    if v == "minimum":
        return f"a number >= {val}"
    if v == "maximum":
        return f"a number <= {val}"
    if v == "exclusiveMinimum":
        return f"a number > {val}"
    if v == "exclusiveMaximum":
        return f"a number < {val}"
    if v == "enum":
        return "one of " + ", ".join(map(str, val))
    if v == "minItems":
        return f"a list of at least {val} item(s)"
    if v == "maxItems":
        return f"a list of at most {val} item(s)"
    if v == "additionalProperties":
        if not err.schema.get("properties") and err.schema.get("patternProperties"):
            return "names matching " + " or ".join(err.schema["patternProperties"])
        return "only the keys " + ", ".join(sorted(err.schema.get("properties", {})))
    if v == "uniqueItems":
        return "distinct values"
    if v == "required":
        return "these keys must be present: " + ", ".join(val)
    if v in ("oneOf", "anyOf"):  # each alternative in words
        return " or ".join(_describe(s) for s in val)
    return err.message


def _describe(schema: dict) -> str:
    """One alternative of a oneOf in words (the forms our schemas use)."""
    if "const" in schema:
        return str(schema["const"])
    if "exclusiveMinimum" in schema:
        return f"a number > {schema['exclusiveMinimum']}"
    if "minimum" in schema:
        return f"a number >= {schema['minimum']}"
    return str(schema.get("type", schema))


#: numbers beyond int64 overflow the HDF5 attributes and the integer arithmetic of sizes
MAX_MAGNITUDE = 2 ** 63 - 1


def _non_finite(value, path=()) -> dict:
    """key -> message for nan and +-inf anywhere (the schema's minimum lets nan through), and
    for numbers of magnitude beyond int64 (a seed or N of 1e300)."""
    if isinstance(value, float) and not math.isfinite(value):
        key = _key(list(path))
        return {key: f"config key '{key}': value {value!r} is not allowed; "
                     "allowed: a finite number"}
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and abs(value) > MAX_MAGNITUDE:
        key = _key(list(path))
        return {key: f"config key '{key}': value {value!r} is not allowed; "
                     f"allowed: a number of magnitude at most 2^63 - 1 ({MAX_MAGNITUDE:.3g})"}
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    return {k: m for key, v in items for k, m in _non_finite(v, (*path, key)).items()}


def _schema_problem(err) -> list[str]:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        out = []
        for extra in sorted(set(err.instance) - set(allowed), key=str):
            close = difflib.get_close_matches(str(extra), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            out.append(f"config key '{_key(path + [extra])}': unknown key; {hint}"
                       f"allowed: {_allowed(err)}")
        return out
    if err.validator == "required":
        return [f"config key '{_key(path + [k])}': missing; this key must be present"
                for k in err.validator_value if k not in err.instance]
    hint = ""
    if isinstance(err.instance, str) and err.instance.strip()[:1] in ("{", "["):
        hint = (" (a mapping or list written as text: Snakemake's --config passes nested "
                "values as strings; put them in an overlay file given with --configfile)")
    elif isinstance(err.instance, str) and _SIGNLESS_EXPONENT.fullmatch(err.instance.strip()):
        mantissa, exponent = re.split("[eE]", err.instance.strip())
        mantissa += "" if "." in mantissa else ".0"
        hint = (f" (YAML reads {err.instance!r} as text, not a number: write "
                f"{mantissa}e{exponent})")
    return [f"config key '{_key(path)}': value {err.instance!r} is not allowed; "
            f"allowed: {_allowed(err)}{hint}"]


#: what YAML 1.1 reads as text although it means a number: an exponent without a dot in the
#: mantissa ("5e-2", "1E3"); PyYAML needs "5.0e-2"
_SIGNLESS_EXPONENT = re.compile(r"[+-]?\d+[eE][+-]?\d+")


def validate_config(config: dict, schema_dir) -> dict:
    """Validate `config` against the merged schema, fill in defaults, check the model.

    Returns a new dict with defaults filled. Raises ConfigError listing every problem.
    """
    cfg = copy.deepcopy(config) if config is not None else {}
    if isinstance(cfg.get("results"), str) and cfg["results"].startswith("~"):
        cfg["results"] = os.path.expanduser(cfg["results"])  # Snakemake would not
    schema = load_schema(schema_dir)
    non_finite = _non_finite(cfg)
    problems = list(non_finite.values())
    errors = sorted(_DefaultFiller(schema).iter_errors(cfg),
                    key=lambda e: list(map(str, e.absolute_path)))
    for err in errors:
        if _key(list(err.absolute_path)) not in non_finite:  # said once is enough
            problems += _schema_problem(err)
    sim = cfg.get("simulation", {})
    auto = isinstance(sim, dict) and sim.get("dt") == "auto"
    if not problems and auto:
        problems += _resolve_auto_dt(cfg)
    if not problems:  # an auto step is inside every limit by construction: not checked twice
        problems += _semantic_problems(cfg, check_dt=not auto)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return cfg


def _resolve_auto_dt(cfg: dict) -> list[str]:
    """simulation.dt: auto becomes a number here, once, so that every rule, fingerprint
    and cost estimate sees the same step (stdnet.workflow.preflight.auto_dt)."""
    try:
        cfg["simulation"]["dt"] = auto_dt(cfg)
    except ValueError as e:
        return [f"config key 'simulation.dt': value 'auto' cannot be resolved: {e}"]
    return []


#: stages whose analysis assumes the paper's network (one in-degree: the homogeneous fixed
#: point, its bulk theory, the DMF's balance, the covariance cancellation)
FIXED_INDEGREE_STAGES = ("stability", "transition", "dmf", "correlations")


def _heterogeneity_problems(cfg: dict) -> list[str]:
    """A heterogeneous `model` only where every selected stage takes it (every integrator
    does: ETD4's step on such a model is bounded by preflight.dt_config_problems)."""
    model = cfg.get("model", {})
    keys = sorted(k for k, v in HETEROGENEITY_DEFAULTS.items() if model.get(k, v) != v)
    if not keys:
        return []
    out = []
    stages = [s for s in cfg.get("stages", []) if s in FIXED_INDEGREE_STAGES]
    if stages:
        out.append(f"config key 'model.{keys[0]}': value {model[keys[0]]!r} is not allowed with "
                   f"the stages {stages}, which assume the paper's fixed in-degree; allowed: "
                   "the defaults there, or stages simulate, figures, lyapunov, onset, "
                   "heterogeneity (the heterogeneity stage's ensembles take these keys)")
    return out


def _semantic_problems(cfg: dict, check_dt: bool = True) -> list[str]:
    """Checks a schema cannot express: every grid point gives a valid network; every value
    the jobs check (stdnet.workflow.jobconfig); with check_dt, simulation.dt inside the
    method's stability region at every simulated point."""
    problems = _results_problems(cfg["results"]) + _grid_problems(cfg)
    try:
        RunParams.from_config(cfg.get("simulation", {}))
    except ValueError as e:  # "key: invalid value ..." from the dataclass
        key, sep, rest = str(e).partition(": ")
        problems.append(f"config key 'simulation.{key}': {rest}" if sep and " " not in key
                        else f"config key 'simulation': {e}")
    problems += _lyapunov_problems(cfg) + _range_problems(cfg) + _heterogeneity_problems(cfg)
    for N in cfg["grid"]["N"]:
        try:
            ModelParams.from_config(cfg.get("model", {}), N=N, J0=1.0)
        except ValueError as e:
            problems.append(f"config key 'model' with grid.N = {N}: {e}")
    fig1 = cfg.get("figures", {}).get("fig1", {})
    for J0 in fig1.get("J0", []):
        if not any(abs(J0 - j) < 1e-12 for j in cfg["grid"]["J0"]):
            problems.append(f"config key 'figures.fig1.J0': value {J0} is not allowed; "
                            f"allowed: values of grid.J0 {cfg['grid']['J0']}")
    if "N" in fig1 and fig1["N"] not in cfg["grid"]["N"]:
        problems.append(f"config key 'figures.fig1.N': value {fig1['N']} is not allowed; "
                        f"allowed: values of grid.N {cfg['grid']['N']}")
    if "seed" in fig1 and fig1["seed"] not in cfg["grid"]["seeds"]:
        problems.append(f"config key 'figures.fig1.seed': value {fig1['seed']} is not allowed; "
                        f"allowed: values of grid.seeds {cfg['grid']['seeds']}")
    if not problems:  # both need a valid model and run
        problems += dt_config_problems(cfg) if check_dt else []
        problems += job_config_problems(cfg)  # what the jobs would refuse
    return problems


def _range_problems(value, path=()) -> list[str]:
    """Every `*_range` pair ([start, end] of an axis or a search) must increase."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if (isinstance(k, str) and k.endswith("_range") and isinstance(v, list)
                    and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)
                    and not v[0] < v[1]):
                out.append(f"config key '{_key([*path, k])}': value {v} is not allowed; "
                           "allowed: [start, end] with start < end")
            else:
                out += _range_problems(v, (*path, k))
    return out


def _results_inside_package(results: str) -> bool:
    here = PACKAGE_DIR
    try:
        Path(os.path.abspath(os.path.expanduser(results))).resolve().relative_to(here)
    except ValueError:
        return False
    return True


def _lyapunov_problems(cfg: dict) -> list[str]:
    """The lyapunov section as the lyapunov jobs will read it (LyapunovSettings: times that
    are whole multiples of simulation.dt and delta_t, cycle_check above its settling time):
    refused here rather than by every job after the simulations have run."""
    try:  # simulation.dt is a number here (validate_config resolves `auto` first)
        LyapunovSettings.from_config(cfg.get("lyapunov", {}), cfg.get("simulation", {}))
    except (ValueError, TypeError) as e:
        key, _, why = str(e).partition(": ")
        return [f"config key '{key}': {why}" if why else f"config key 'lyapunov': {e}"]
    return []


def _results_problems(results: str) -> list[str]:
    """`results` becomes the prefix of every Snakemake path."""
    why = None
    if not results.strip():
        why = "a non-empty folder path"
    elif any(c in results for c in "\0\n\r"):
        why = "a path without NUL or line breaks"
    elif "{" in results or "}" in results:
        why = "a path without '{' or '}' (Snakemake reads them as wildcards)"
    elif os.path.dirname(os.path.abspath(results)) == os.path.abspath(results):
        why = "a folder other than the file-system root"
    elif os.path.exists(results) and not os.path.isdir(results):
        why = "a folder (this path exists and is not a folder)"
    elif _results_inside_package(results):
        why = f"a folder outside the stdnet package ({PACKAGE_DIR})"
    elif os.path.islink(results) and not os.path.exists(results):
        why = (f"a folder (this path is a symbolic link to {os.readlink(results)!r}, which "
               "does not exist)")
    if why is None:
        return []
    return [f"config key 'results': value {results!r} is not allowed; allowed: {why}"]


def _duplicates(values) -> list:
    seen, dups = [], []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.append(v)
    return dups


def _path_value_problems(key: str, values, prefix: str = "J0~", scalar: bool = False) -> list[str]:
    """Values that become result-path text (format_J0): two values must not share a path,
    and the path must read back as the value (it is what the job runs)."""
    out, by_text = [], {}
    for v in values:
        by_text.setdefault(format_J0(v), []).append(v)
    for text, vs in by_text.items():
        distinct = sorted(set(vs))
        if len(distinct) > 1:
            out.append(f"config key '{key}': values {' and '.join(map(repr, distinct))} give the "
                       f"same result path '{prefix}{text}'; allowed: values that differ within "
                       f"{J0_DECIMALS} decimals")
    for i, v in enumerate(values):
        text = format_J0(v)
        if len(set(by_text[text])) == 1 and abs(float(text) - v) > 1e-12 * max(1.0, abs(v)):
            out.append(f"config key '{key if scalar else f'{key}[{i}]'}': value {v!r} is not "
                       f"allowed; allowed: a multiple of 1e-{J0_DECIMALS} (its result path "
                       f"'{prefix}{text}' would be run at {float(text):g})")
    return out


def _grid_problems(cfg: dict) -> list[str]:
    out = []
    for name in ("N", "J0", "seeds"):
        dups = _duplicates(cfg["grid"][name])
        if dups:
            out.append(f"config key 'grid.{name}': value(s) {', '.join(map(repr, dups))} appear "
                       "more than once; allowed: distinct values")
    # every J0 / I0 list that becomes part of a result path (workflow/rules/*.smk)
    lists = [("grid.J0", cfg["grid"]["J0"], "J0~"),
             ("figures.fig1.J0", cfg.get("figures", {}).get("fig1", {}).get("J0", []), "J0~"),
             ("correlations.J0", cfg.get("correlations", {}).get("J0", []), "J0~"),
             ("dmf.J0", cfg.get("dmf", {}).get("J0", []), "J0~"),
             ("dmf.I0", cfg.get("dmf", {}).get("I0", []), "I0~")]
    for key, values, prefix in lists:
        out += _path_value_problems(key, [float(v) for v in values], prefix)
    I0 = float(cfg.get("model", {}).get("I0", 0.0))
    out += _path_value_problems("model.I0", [I0], "I0~", scalar=True)
    grid_text = {format_J0(j) for j in cfg["grid"]["J0"]}
    for j in cfg.get("correlations", {}).get("J0", []):
        if format_J0(j) not in grid_text:
            out.append(f"config key 'correlations.J0': value {j} is not allowed; "
                       f"allowed: values of grid.J0 {cfg['grid']['J0']}")
    return out


def load_config_file(path, schema_dir) -> dict:
    return validate_config(_load_config_mapping(path), schema_dir)


def merge_configs(base: dict, over: dict) -> dict:
    """`over` laid over `base` as Snakemake lays several --configfile's: nested sections
    are merged key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge_configs(base[key], value)
        else:
            out[key] = value
    return out


def load_config_files(paths, schema_dir) -> dict:
    """Several config files laid over one another in order, then validated."""
    cfg: dict = {}
    for data in check_config_files(paths):
        cfg = merge_configs(cfg, data)
    return validate_config(cfg, schema_dir)
