"""The lyapunov and transition config sections: defaults, documented errors, settings."""
from pathlib import Path

import pytest
import yaml

from stdnet.workflow.config import ConfigError, validate_config
from stdnet.lyapunov.run import LyapunovSettings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"


def _base():
    return {"grid": {"N": [200], "J0": [1.0], "seeds": [1]}}


def test_defaults_are_filled():
    cfg = validate_config(_base(), SCHEMA)
    assert cfg["lyapunov"]["n_exponents"] == 8 and cfg["lyapunov"]["delta_t"] == 1.0
    assert cfg["transition"]["onset"]["search"] is True and cfg["transition"]["zero_tol"] == 0.005
    s = LyapunovSettings.from_config(cfg["lyapunov"], cfg["simulation"])
    assert s.dt == cfg["simulation"]["dt"] and s.t_average == 200.0


@pytest.mark.parametrize("section,key,value", [
    ("lyapunov", "n_exponents", 0), ("lyapunov", "delta_t", -1.0),
    ("lyapunov", "n_blocks", 1), ("transition", "jfp_source", "guess"),
    ("transition", "onset", {"resolution": 0}),
])
def test_bad_values_name_the_key(section, key, value):
    cfg = _base()
    cfg[section] = {key: value}
    with pytest.raises(ConfigError, match=f"{section}.{key}"):
        validate_config(cfg, SCHEMA)


def test_unknown_key_is_rejected():
    cfg = _base()
    cfg["lyapunov"] = {"t_averag": 10.0}
    with pytest.raises(ConfigError, match="lyapunov.t_averag"):
        validate_config(cfg, SCHEMA)


@pytest.mark.parametrize("name", ["config/params.yaml", "tests/data/tiny.yaml"])
def test_shipped_configs_validate(name):
    cfg = validate_config(yaml.safe_load((ROOT / name).read_text()), SCHEMA)
    s = LyapunovSettings.from_config(cfg["lyapunov"], cfg["simulation"])
    # the intervals must be whole multiples, as lyapunov_spectrum requires
    for t in (s.delta_t / s.dt, s.t_align / s.delta_t, s.t_average / s.delta_t):
        assert abs(t - round(t)) < 1e-9


def test_settings_reject_intervals_that_are_not_multiples():
    with pytest.raises(ValueError, match="lyapunov.delta_t.*simulation.dt"):
        LyapunovSettings(delta_t=0.07, dt=0.05)
    with pytest.raises(ValueError, match="lyapunov.t_average"):
        LyapunovSettings(delta_t=1.0, t_average=10.5)


def test_spectrum_runs_get_more_exponents():
    section = {"n_exponents": 8, "spectrum_J0": [1.5], "spectrum_exponents": 40}
    assert LyapunovSettings.from_config(section, {"dt": 0.05}, J0=1.5).n_exponents == 40
    assert LyapunovSettings.from_config(section, {"dt": 0.05}, J0=1.0).n_exponents == 8


def test_spectrum_only_up_to_spectrum_N_max():
    """At N above lyapunov.spectrum_N_max the spectrum_J0 runs keep n_exponents; the cost
    model reads the same rule."""
    from stdnet.workflow.costmodel import CostModel

    sec = {"n_exponents": 8, "spectrum_J0": [1.5], "spectrum_exponents": 64,
           "spectrum_N_max": 10000}
    sim = {"dt": 0.05}
    assert LyapunovSettings.from_config(sec, sim, J0=1.5, N=10000).n_exponents == 64
    assert LyapunovSettings.from_config(sec, sim, J0=1.5, N=20000).n_exponents == 8
    assert LyapunovSettings.from_config({**sec, "spectrum_N_max": 0}, sim, J0=1.5,
                                        N=40000).n_exponents == 64
    cfg = validate_config(yaml.safe_load((ROOT / "config" / "paper.yaml").read_text()),
                          ROOT / "config" / "schema")
    model = CostModel(cfg)
    assert model.exponents(1.5, 40000) == cfg["lyapunov"]["n_exponents"]
    assert model.exponents(1.5, 10000) == cfg["lyapunov"]["spectrum_exponents"]
