"""Configuration errors name the key, the value and what is allowed."""
import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stdnet.workflow.config import ConfigError, validate_config
from stdnet.model.params import ModelParams, RunParams

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"


@pytest.fixture
def default_config():
    return yaml.safe_load((ROOT / "config" / "params.yaml").read_text())


def _error(cfg):
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, SCHEMA)
    return str(e.value)


def test_default_and_paper_configs_are_valid(default_config):
    validate_config(default_config, SCHEMA)
    paper = ROOT / "config" / "paper.yaml"
    if paper.exists():
        validate_config(yaml.safe_load(paper.read_text()), SCHEMA)


def test_defaults_are_filled(default_config):
    cfg = copy.deepcopy(default_config)
    del cfg["simulation"]
    out = validate_config(cfg, SCHEMA)
    assert out["simulation"]["dt"] == 0.05 and out["simulation"]["method"] == "rk4"


def test_negative_n(default_config):
    default_config["grid"]["N"] = [1000, -5]
    msg = _error(default_config)
    assert "'grid.N[1]'" in msg and "-5" in msg and ">= 10" in msg


def test_unknown_transfer_function(default_config):
    default_config["model"]["transfer"] = "heaviside"
    msg = _error(default_config)
    assert "'model.transfer'" in msg and "heaviside" in msg and "softplus" in msg


def test_string_in_j0_list(default_config):
    default_config["grid"]["J0"] = [0.1, "strong", 1.5]
    msg = _error(default_config)
    assert "'grid.J0[1]'" in msg and "'strong'" in msg and "a number" in msg


def test_onset_estimator_default_and_error(default_config):
    assert validate_config(default_config, SCHEMA)["transition"]["onset"]["estimator"] == \
        "crossing"
    default_config.setdefault("transition", {}).setdefault("onset", {})["estimator"] = "median"
    msg = _error(default_config)
    assert "'transition.onset.estimator'" in msg and "'median'" in msg
    assert "crossing" in msg and "demonstrated" in msg


def test_unknown_key(default_config):
    default_config["model"]["tau_x"] = 3
    msg = _error(default_config)
    assert "'model.tau_x'" in msg and "unknown key" in msg and "tau_D" in msg


def test_semantic_errors(default_config):
    default_config["simulation"]["record_interval"] = 0.07
    default_config["figures"]["fig1"]["J0"] = [0.3]
    msg = _error(default_config)
    assert "record_interval" in msg and "whole multiple of dt" in msg
    assert "'figures.fig1.J0'" in msg and "0.3" in msg


def test_dataclass_errors_name_key_value_and_allowed():
    with pytest.raises(ValueError, match=r"transfer: invalid value 'bogus'; allowed: softplus"):
        ModelParams(N=1000, J0=1.0, transfer="bogus")
    with pytest.raises(ValueError, match=r"N: invalid value -3; allowed: an integer >= 4"):
        ModelParams(N=-3, J0=1.0)
    with pytest.raises(ValueError, match=r"c: .*K_E"):
        ModelParams(N=20, J0=1.0, c=0.01)
    with pytest.raises(ValueError, match=r"method: invalid value 'rk45'"):
        RunParams(method="rk45")


def test_snakemake_reports_config_errors(tmp_path):
    """A bad --config value stops the workflow at start with the message."""
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1",
                          "--config", "model={'transfer': 'heaviside'}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "model.transfer" in out.stdout + out.stderr


def test_model_and_simulation_defaults_have_one_source():
    """The schema takes its model/simulation defaults from the dataclasses, and the default
    config (config/params.yaml) writes out exactly those values: one place to change one."""
    import dataclasses

    import yaml

    from stdnet.workflow.config import load_schema
    from stdnet.model.params import HETEROGENEITY_DEFAULTS, ModelParams, RunParams

    root = Path(__file__).resolve().parents[1]
    schema = load_schema(root / "config" / "schema")
    params_yaml = yaml.safe_load((root / "config" / "params.yaml").read_text())
    for section, cls in (("model", ModelParams), ("simulation", RunParams)):
        props = schema["properties"][section]["properties"]
        fields = {f.name: f.default for f in dataclasses.fields(cls)
                  if f.default is not dataclasses.MISSING}
        assert set(props) <= set(fields), section
        for key in props:
            if section == "model" and key in HETEROGENEITY_DEFAULTS:
                # never filled in: configs without them keep their model section
                assert "default" not in props[key] and key not in params_yaml[section]
                assert HETEROGENEITY_DEFAULTS[key] == fields[key], key
                continue
            assert props[key]["default"] == fields[key], (section, key)
            assert params_yaml[section][key] == fields[key], (section, key)


def test_stage_settings_defaults_agree_with_their_dataclasses():
    """lyapunov and dmf.solver: the schema's defaults are the settings dataclasses' defaults
    (t_path and max_lag default to 0 in the schema: 'derived from tau_D', resolved by
    dmf.settings.resolve_solver_config), and params.yaml writes the same values."""
    import dataclasses

    import yaml

    from stdnet.workflow.config import load_schema
    from stdnet.dmf.settings import DMFSettings
    from stdnet.lyapunov.run import LyapunovSettings

    root = Path(__file__).resolve().parents[1]
    schema = load_schema(root / "config" / "schema")["properties"]
    params_yaml = yaml.safe_load((root / "config" / "params.yaml").read_text())
    cases = [(schema["lyapunov"]["properties"], LyapunovSettings, params_yaml["lyapunov"], ()),
             (schema["dmf"]["properties"]["solver"]["properties"], DMFSettings,
              params_yaml.get("dmf", {}).get("solver", {}), ("t_path", "max_lag"))]
    for props, cls, written, derived in cases:
        fields = {f.name: f.default for f in dataclasses.fields(cls)}
        shared = [k for k in props if k in fields and k not in derived]
        assert len(shared) >= 5, cls
        for key in shared:
            assert props[key]["default"] == fields[key], (cls.__name__, key)
            if key in written:
                assert written[key] == fields[key], (cls.__name__, key)
