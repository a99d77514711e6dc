"""Workflow configuration: JSON-Schema validation with defaults and readable errors.

The schema is split by stage into config/schema/<stage>.yaml (core, stability,
lyapunov, ...); each fragment describes its own top-level sections, and they are
merged here. Every error names the key, the value and what is allowed:

    config key 'grid.N[1]': value -5 is not allowed; allowed: a number >= 10
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

from .params import ModelParams, RunParams


class ConfigError(ValueError):
    """A configuration value that is not allowed."""


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
    return merged


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
        return "only the keys " + ", ".join(sorted(err.schema.get("properties", {})))
    if v == "required":
        return "these keys must be present: " + ", ".join(val)
    return err.message


def validate_config(config: dict, schema_dir) -> dict:
    """Validate `config` against the merged schema, fill in defaults, check the model.

    Returns a new dict with defaults filled. Raises ConfigError listing every problem.
    """
    cfg = copy.deepcopy(config) if config is not None else {}
    schema = load_schema(schema_dir)
    problems = []
    for err in sorted(_DefaultFiller(schema).iter_errors(cfg), key=lambda e: list(e.absolute_path)):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            problems.append(f"config key '{_key(path + extra[:1])}': unknown key; allowed: "
                            f"{_allowed(err)}")
        elif err.validator == "required":
            problems.append(f"config key '{_key(path)}': {err.message}")
        else:
            problems.append(f"config key '{_key(path)}': value {err.instance!r} is not allowed; "
                            f"allowed: {_allowed(err)}")
    if not problems:
        problems += _semantic_problems(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return cfg


def _semantic_problems(cfg: dict) -> list[str]:
    """Checks a schema cannot express: every grid point gives a valid network."""
    problems = []
    try:
        RunParams.from_config(cfg.get("simulation", {}))
    except ValueError as e:
        problems.append(f"config key 'simulation.{e}")
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
    problems += _dmf_problems(cfg)
    return problems


def _dmf_problems(cfg: dict) -> list[str]:
    """dmf.solver against model.tau_D: the DMF's lag window must be >= 2 tau_D."""
    if "dmf" not in cfg or "model" not in cfg:
        return []
    from .dmf import solver_config_problems  # the rule lives with the solver

    return solver_config_problems(cfg["dmf"].get("solver", {}), cfg["model"]["tau_D"])


def load_config_file(path, schema_dir) -> dict:
    with open(path) as fh:
        return validate_config(yaml.safe_load(fh), schema_dir)


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
    for path in paths:
        with open(path) as fh:
            cfg = merge_configs(cfg, yaml.safe_load(fh) or {})
    return validate_config(cfg, schema_dir)
