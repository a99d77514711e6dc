"""The sweep expanded once (stdnet.workflow.plan): the points of a config, exact, on small
hand-made configs, and the per-point outputs of the stages it selects (what `stdnet status`
lists).
The plan's agreement with the jobs Snakemake schedules is tested through the cost model
(test_costmodel.test_dry_run_counts_match_snakemake), which reads the same plan."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stdnet.workflow.config import validate_config
from stdnet.workflow.plan import SweepPlan, point_name, point_spec, run_dir

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"


def _config(**sections) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "params.yaml").read_text())
    for key, value in sections.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and key in cfg else value
    g = cfg["grid"]  # Fig 1 draws grid points
    cfg["figures"] = {**cfg["figures"], "fig1": {"N": g["N"][0], "J0": g["J0"][:1],
                                                 "seed": g["seeds"][0]}}
    return validate_config(cfg, SCHEMA)


def test_grid_is_the_product_in_config_order():
    plan = SweepPlan(_config(grid={"N": [400, 200], "J0": [1.5, 0.9], "seeds": [2, 1]}))
    assert plan.grid == [(400, "1.5", 2), (400, "1.5", 1), (400, "0.9", 2), (400, "0.9", 1),
                         (200, "1.5", 2), (200, "1.5", 1), (200, "0.9", 2), (200, "0.9", 1)]
    assert (plan.grid_N, plan.grid_J0, plan.grid_seeds) == ([400, 200], ["1.5", "0.9"], [2, 1])


def test_correlation_grid_sorted_by_value_with_its_defaults():
    cfg = _config(grid={"N": [200], "J0": [9.5, 10, 2], "seeds": [1]},
                  correlations={"J0": [], "J0_min": 5.0,
                                "runs": [{"N": [800, 400], "seeds": [3]}]})
    plan = SweepPlan(cfg)
    assert plan.correlation_J0 == ["9.5", "10"]  # grid J0 >= J0_min, in grid order
    # numbers, not strings: "10" after "9.5"
    assert plan.correlation_grid == [(400, "9.5", 3), (400, "10", 3), (800, "9.5", 3),
                                     (800, "10", 3)]
    assert plan.grid_and_recordings[:3] == [(200, "2", 1), (200, "9.5", 1), (200, "10", 1)]
    assert len(plan.grid_and_recordings) == 3 + 4


def test_jfp_sizes_follow_the_solver_and_its_check_names_the_key():
    base = {"N": [], "seeds": [], "method": "dense", "dense_max_N": 2000}
    plan = SweepPlan(_config(grid={"N": [200, 5000]}, stability={"jfp": base}))
    assert plan.jfp_sizes == [200]  # the dense solver stops at its largest N
    assert plan.jfp_seeds == plan.grid_seeds
    assert plan.spectrum_sizes == [200]
    plan.check_jfp_methods()
    stab = plan.config["stability"]
    forced = SweepPlan({**plan.config, "stability": {
        **stab, "jfp": {**stab["jfp"], "N": [5000], "seeds": [7]}}})
    assert forced.jfp_sizes == [5000] and forced.jfp_seeds == [7]
    with pytest.raises(ValueError, match="config key 'stability.jfp.method'"):
        forced.check_jfp_methods()
    with pytest.raises(ValueError, match="config key 'stability.jfp.method'"):  # at the start
        _config(grid={"N": [200, 5000]}, stability={"jfp": {**base, "N": [5000]}})


def test_simulated_points_of_the_selected_stages():
    cfg = _config(grid={"N": [200], "J0": [0.5, 1.0], "seeds": [1]},
                  correlations={"J0": [1.0], "runs": [{"N": [400], "seeds": [1]}]},
                  stages=["simulate"])
    assert SweepPlan(cfg).simulated_points() == {200: {0.5, 1.0}}
    with_corr = SweepPlan({**cfg, "stages": ["simulate", "correlations"]})
    assert with_corr.simulated_points() == {200: {0.5, 1.0}, 400: {1.0}}
    het = cfg["stability"]["hetfp"]
    with_stab = SweepPlan({**cfg, "stages": ["stability"]}).simulated_points()
    assert with_stab[int(het["N"])] >= {float(j) for j in het["J0"]}


def test_run_folder_patterns():
    assert run_dir("res", 200, "0.9", 3) == "res/N~200/J0~0.9/seed~3"
    assert run_dir("res", "{N}", "{J0}", "{seed}") == "res/N~{N}/J0~{J0}/seed~{seed}"
    assert point_name(200, "0.9", 3) == "N~200_J0~0.9_seed~3"
    spec = point_spec("res", "lyapunov", "lyapunov.h5")
    assert spec == {"rule": "lyapunov", "output": "res/N~{N}/J0~{J0}/seed~{seed}/lyapunov.h5",
                    "log": "res/logs/lyapunov/N~{N}_J0~{J0}_seed~{seed}.log",
                    "benchmark": "res/benchmarks/lyapunov/N~{N}_J0~{J0}_seed~{seed}.tsv"}


@pytest.mark.parametrize("stages, outputs", [
    (["simulate"], ["simulation.h5"]),
    (["lyapunov"], ["simulation.h5", "lyapunov.h5"]),
    (["correlations"], ["simulation.h5", "inputs.h5"]),
])
def test_point_outputs_of_the_stages(stages, outputs):
    """What `stdnet status` lists and missing per-point files are redone from."""
    cfg = _config(grid={"N": [200], "J0": [0.5], "seeds": [1]},
                  correlations={"J0": [0.5], "runs": [{"N": [400], "seeds": [2]}]})
    listed = SweepPlan({**cfg, "stages": stages}).point_outputs()
    assert [name for _, name, _ in listed] == outputs
    assert [rule for rule, _, _ in listed] == [
        {"simulation.h5": "simulate", "lyapunov.h5": "lyapunov",
         "inputs.h5": "record_inputs"}[name] for name in outputs]
    points = {name: pts for _, name, pts in listed}
    if "inputs.h5" in points:
        assert points["inputs.h5"] == [(400, "0.5", 2)]
        assert points["simulation.h5"] == [(200, "0.5", 1), (400, "0.5", 2)]
    else:
        assert points["simulation.h5"] == [(200, "0.5", 1)]
