"""J_ch as the zero crossing of lambda_max(J0) (stdnet.onset.estimate): exact on noiseless
data, the N = 1000 seed 1 example of issue 27, fallbacks, old states, and its bias and
coverage on synthetic searches."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from stdnet.onset import search as onset
from stdnet.onset.search import CHAOTIC, NOT_CHAOTIC, UNDECIDED, Probe
from stdnet.onset.estimate import CROSSING, INSUFFICIENT, crossing_estimate, se_from_half_width
from stdnet.onset.synthetic import DEFAULT_SCENARIOS, synthetic_study


def test_noiseless_hinge_is_recovered_exactly():
    Jc = 1.0123
    J = np.round(np.arange(0.9, 1.2001, 0.025), 6)
    lam = np.where(J > Jc, 0.8 * (J - Jc), -0.02)  # fixed point below, slope 0.8 above
    est = crossing_estimate(J, lam, np.full(J.size, 0.002))
    assert est["method"] == CROSSING and est["J_ch"] == pytest.approx(Jc, abs=1e-4)
    assert est["slope"] == pytest.approx(0.8, rel=1e-2)
    assert est["J_ch_ci_lo"] <= Jc <= est["J_ch_ci_hi"] and est["J_ch_se"] > 0
    # a band of lambda = 0 below (periodic orbits) is just as consistent
    lam0 = np.where(J > Jc, 0.8 * (J - Jc), 0.0)
    assert crossing_estimate(J, lam0, np.full(J.size, 0.002))["J_ch"] == pytest.approx(Jc,
                                                                                     abs=1e-4)


def test_se_from_half_width():
    assert se_from_half_width(2.262157, 10) == pytest.approx(1.0, rel=1e-5)  # t_{0.975, 9}
    assert se_from_half_width(1.959964, -1) == pytest.approx(1.0, rel=1e-5)  # B unknown
    assert se_from_half_width(1.959964, 0, envelope=True) == pytest.approx(1.0, rel=1e-5)
    assert math.isinf(se_from_half_width(math.inf, 12))


def _issue_example():
    """N = 1000, seed 1, config/width.yaml: the bisection of issue 27. lambda_max of the
    four probes near the onset are the issue's long (2500 tau) runs, their half widths
    scaled to the search's 1000 tau (x sqrt(2.5), 20 batches); the grid points and 1.0 are
    like the width study's runs (fixed points with envelope half widths, chaos at 1.1)."""
    runs = {0.7: (NOT_CHAOTIC, -0.0978, 0.0008, 0, True),
            0.9: (NOT_CHAOTIC, -0.0944, 0.0054, 0, True),
            1.1: (CHAOTIC, 0.0643, 0.0167, 6, False),
            1.4: (CHAOTIC, 0.1027, 0.0252, 11, False),
            2.0: (CHAOTIC, 0.2338, 0.0398, 18, False),
            1.0: (NOT_CHAOTIC, -0.0300, 0.0030, 0, True),
            1.05: (CHAOTIC, 0.0195, 0.0071, 20, False),
            1.025: (NOT_CHAOTIC, -0.0128, 0.0030, 0, True),
            1.0375: (UNDECIDED, 0.0069, 0.0051, 20, False),
            1.04375: (UNDECIDED, 0.0084, 0.0071, 20, False)}

    def probe(J0):
        d, lam, h, B, env = runs[J0]
        return Probe(J0, d, lam, h, 0, n_batches=B, t_average=1000.0, ci_envelope=env)

    grid = [probe(j) for j in (0.7, 0.9, 1.1, 1.4, 2.0)]
    return onset.serial_search(probe, 1000, 1, grid, resolution=0.01)


def test_issue_example_lies_in_the_true_onset_bracket():
    s = _issue_example()
    assert [p.J0 for p in s.probes if p.step] == [1.0, 1.05, 1.025, 1.0375, 1.04375]
    row = s.row()
    assert row["J_ch_demonstrated"] == pytest.approx(1.046875)  # the old, biased J_ch
    assert row["J_ch_method"] == CROSSING
    assert 1.025 < row["J_ch"] <= 1.0375
    assert row["J_ch_ci_lo"] < row["J_ch"] < row["J_ch_ci_hi"] < row["J_ch_demonstrated"]
    old = s.row(estimator="demonstrated")
    assert old["J_ch"] == row["J_ch_demonstrated"] and old["J_ch_method"] == "demonstrated"
    table = onset.onset_table([s])
    assert {"J_ch", "J_ch_se", "J_ch_ci_lo", "J_ch_ci_hi", "J_ch_method",
            "J_ch_demonstrated", "J_ch_weak", "n_undecided"} <= set(table.columns)
    with pytest.raises(ValueError, match="transition.onset.estimator.*'median'.*crossing"):
        onset.onset_table([s], estimator="median")


def test_too_few_probes_fall_back_to_the_bracket():
    grid = [Probe(0.5, NOT_CHAOTIC, -0.05, 0.001, 0), Probe(1.0, CHAOTIC, 0.05, 0.01, 0)]
    # every probe without an interval: nothing to fit
    s = onset.serial_search(lambda J0: Probe(J0, CHAOTIC if J0 > 0.8 else NOT_CHAOTIC,
                                             0.01 if J0 > 0.8 else -0.01, math.inf, 0),
                            1000, 1, grid, resolution=0.1)
    row = s.row()
    assert row["J_ch_method"] == "bracket (fallback)" and "positive probe" in row["J_ch_note"]
    assert (row["J_ch_ci_lo"], row["J_ch_ci_hi"]) == (s.lo, s.hi)
    assert row["J_ch"] == pytest.approx(0.5 * (s.lo + s.hi))
    assert crossing_estimate([], [], [])["method"] == INSUFFICIENT
    none = onset.start(1000, 1, [Probe(0.5, NOT_CHAOTIC, -0.05, 0.001, 0)], 0.01)
    assert none.row()["J_ch_method"] == "none" and math.isnan(none.row()["J_ch"])


def test_states_without_the_new_probe_fields_still_load(tmp_path):
    """A step JSON written before Probe had n_batches / t_average / ci_envelope."""
    s = _issue_example()
    d = json.loads(s.to_json())
    for p in d["probes"]:
        for k in ("n_batches", "t_average", "ci_envelope"):
            del p[k]
    (tmp_path / "old.json").write_text(json.dumps(d))
    old = onset.read_search(tmp_path / "old.json")
    assert old.probes[0].n_batches == -1 and not old.probes[0].ci_envelope
    assert old.probes[0].se == pytest.approx(old.probes[0].half_width / 1.959964, rel=1e-5)
    row = old.row()  # unknown B: se = h / z, wider than h / t; still the same conclusion
    assert row["J_ch_method"] == CROSSING and 1.025 < row["J_ch"] <= 1.0375
    assert list(onset.probes_table([old])["n_batches"].unique()) == [-1]


def test_transition_table_carries_the_estimate():
    from stdnet.transition.regimes import CHAOS, HOM_FP, PERIODIC, transition_table

    rows = [{"N": 1000, "seed": 1, "J0": J, "regime": HOM_FP if J < 0.9 else
             (CHAOS if J > 1 else PERIODIC)} for J in (0.7, 0.9, 1.1, 1.4)]
    table = onset.onset_table([_issue_example()])
    t = transition_table(pd.DataFrame(rows), None, table).iloc[0]
    assert t["J_ch"] == table["J_ch"][0] and t["J_ch_se"] == table["J_ch_se"][0]
    assert t["J_ch_method"] == CROSSING and t["J_ch_demonstrated"] == pytest.approx(1.046875)
    grid_only = transition_table(pd.DataFrame(rows)).iloc[0]
    assert grid_only["J_ch_method"] == "grid"
    assert grid_only["J_ch_se"] == pytest.approx(0.2 / math.sqrt(12))


def test_calibration_on_synthetic_searches():
    """Bias and coverage of the 95 % interval on 4 x 100 synthetic searches through the
    real bisection (width study settings; slopes 1 and 2, linear and concave, fixed points
    and lambda = 0 bands below). Fails when a scenario's |bias| reaches 0.003 or the pooled
    coverage leaves [0.93, 0.99]; the old demonstrated midpoint must fail the bias test."""
    names = ("linear b=1 fp", "concave b=1 band", "concave b=2 fp slow", "linear b=2 band")
    scenarios = [s for s in DEFAULT_SCENARIOS if s.name in names]
    per = synthetic_study(scenarios, n_searches=100, seed=3, details=True)
    assert (per["J_ch_method"] == CROSSING).mean() > 0.95
    fit = per[per["J_ch_method"] == CROSSING]
    bias = (fit["J_ch"] - fit["Jc"]).groupby(fit["scenario"]).mean()
    cover = ((fit["J_ch_ci_lo"] <= fit["Jc"]) & (fit["Jc"] <= fit["J_ch_ci_hi"])).mean()
    assert len(bias) == 4 and (bias.abs() < 0.003).all(), bias
    assert 0.93 <= cover <= 0.99, cover
    old = (per["J_ch_demonstrated"] - per["Jc"]).groupby(per["scenario"]).mean()
    assert (old > 0.003).all()  # the test can tell a biased estimator


def test_reanalyse_tool_reads_old_states_and_lyapunov_files(tmp_path):
    """tools/onset_reanalyse.py on a results folder whose step states predate the interval
    diagnostics: it fills them in from lyapunov.h5 where that exists (t / B instead of z)."""
    import importlib.util
    from pathlib import Path

    from stdnet.files import io
    from stdnet.model.params import format_J0

    spec = importlib.util.spec_from_file_location(
        "onset_reanalyse", Path(__file__).resolve().parents[1] / "tools/onset_reanalyse.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    final = _issue_example()
    folder = tmp_path / "onset/N~1000/seed~1"
    folder.mkdir(parents=True)
    for k in range(final.step + 1):  # the chain of states, old format
        d = json.loads(final.to_json())
        d.update(step=k, probes=[p for p in d["probes"] if p["step"] <= k])
        for p in d["probes"]:
            del p["n_batches"], p["t_average"], p["ci_envelope"]
        (folder / f"step~{k}.json").write_text(json.dumps(d))
    for p in final.probes:  # lyapunov.h5 of the probes near the onset only
        if 1.03 < p.J0 < 1.06:
            path = tmp_path / f"N~1000/J0~{format_J0(p.J0)}/seed~1/lyapunov.h5"
            path.parent.mkdir(parents=True)
            with io.atomic_h5(path) as f:
                f.create_group("params").attrs["J0"] = p.J0
                for g in ("settings", "meta", "observables"):
                    f.create_group(g)
                io.write_attrs(f.create_group("summary"), {
                    "lambda_max": p.lambda_max, "lambda_max_ci": p.half_width,
                    "n_batches": p.n_batches, "t_average_total": p.t_average,
                    "ci_envelope": p.ci_envelope})
    table = tool.reanalyse(tmp_path)
    row = table.iloc[0]
    assert row["n_reread"] == 3 and row["J_ch_method"] == CROSSING
    assert row["J_ch_demonstrated"] == pytest.approx(1.046875)
    # the last state of the chain, not a replay: the states as the workflow wrote them
    assert row["J_ch"] == pytest.approx(final.row()["J_ch"], abs=2e-4)
    assert 1.025 < row["J_ch"] <= 1.0375
    assert tool.main([str(tmp_path), "--csv", str(tmp_path / "t.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "t.csv")) == 1
