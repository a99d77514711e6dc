"""J_ch per network of a heterogeneous ensemble (stdnet.heterogeneity.onset) and the width
statistics of the heterogeneity stage (stdnet.heterogeneity.stage): the search against a
known onset, resumption to the same result, the width table and the shrink test on data
whose answer is known, and the stage's onset tables from the tiny workflow."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from stdnet.heterogeneity import onset as het_onset
from stdnet.heterogeneity.settings import OnsetSettings
from stdnet.heterogeneity.stage import shrink_test, width_per_N, width_table
from stdnet.model.params import ModelParams
from stdnet.onset.search import CHAOTIC, NOT_CHAOTIC, RESOLVED, Probe

#: the synthetic onset: lambda_max = SLOPE (J0 - J_C) above it, -0.05 below
J_C, SLOPE, SE = 1.313, 0.8, 0.004


class Interrupted(Exception):
    pass


def _stub(calls, stop_after=None):
    """A probe with a known lambda_max(J0): a hinge at J_C, standard error SE (30 batches)."""
    def probe(params, net, seed, J0, s, dt, step):
        if stop_after is not None and len(calls) >= stop_after:
            raise Interrupted
        calls.append(float(J0))
        lam = SLOPE * (J0 - J_C) if J0 > J_C else -0.05
        half = SE * 2.045  # t_{0.975, 29}
        decision = CHAOTIC if lam - half > s.zero_tol else (
            NOT_CHAOTIC if lam + half < s.zero_tol else "undecided")
        return Probe(J0=float(J0), decision=decision, lambda_max=lam, half_width=half,
                     step=step, n_batches=30, t_average=s.t_average)
    return probe


SETTINGS = OnsetSettings(ensembles=("x",), J0=(1.0, 1.2, 1.4, 1.6), resolution=0.01)
PARAMS = ModelParams(N=400, J0=0.5, connectivity="erdos_renyi")


def test_search_finds_a_known_onset(monkeypatch, tmp_path):
    """Exact hinge lambda_max(J0), no noise: the bisection brackets the demonstrated onset
    (zero_tol + half width)/slope above J_C to the resolution, and the crossing estimator
    (the table's J_ch) recovers J_C itself within its interval and 0.01."""
    calls = []
    monkeypatch.setattr(het_onset, "probe", _stub(calls))
    search = het_onset.search_onset(PARAMS, None, 1, SETTINGS, 0.05,
                                    partial_path=tmp_path / "p.json")
    assert search.status == RESOLVED and search.hi - search.lo <= 0.01 + 1e-9
    shift = (SETTINGS.zero_tol + SE * 2.045) / SLOPE
    assert search.lo <= J_C + shift <= search.hi + 1e-9
    est = search.estimate()
    assert abs(est["J_ch"] - J_C) < 0.01
    assert est["J_ch_ci_lo"] <= J_C <= est["J_ch_ci_hi"]
    assert calls[:4] == list(SETTINGS.J0)  # grid first, in order
    assert len(calls) == len(set(calls))  # no J0 probed twice


@pytest.mark.parametrize("stop_after", [2, 4, 6])
def test_a_stopped_search_resumes_to_the_same_result(monkeypatch, tmp_path, stop_after):
    """Stopped after `stop_after` probes (inside the grid, at its end, in the bisection) and
    started again: the same search (same JSON), and no probe run twice."""
    ref_calls = []
    monkeypatch.setattr(het_onset, "probe", _stub(ref_calls))
    ref = het_onset.search_onset(PARAMS, None, 1, SETTINGS, 0.05)

    calls = []
    partial = tmp_path / "onset.partial.json"
    monkeypatch.setattr(het_onset, "probe", _stub(calls, stop_after))
    with pytest.raises(Interrupted):
        het_onset.search_onset(PARAMS, None, 1, SETTINGS, 0.05, partial_path=partial)
    assert len(calls) == stop_after and partial.exists()
    monkeypatch.setattr(het_onset, "probe", _stub(calls))
    again = het_onset.search_onset(PARAMS, None, 1, SETTINGS, 0.05, partial_path=partial)
    assert again.to_json() == ref.to_json()
    assert calls == ref_calls


def test_a_partial_search_of_other_settings_is_not_resumed(monkeypatch, tmp_path):
    calls = []
    partial = tmp_path / "onset.partial.json"
    monkeypatch.setattr(het_onset, "probe", _stub(calls, 3))
    with pytest.raises(Interrupted):
        het_onset.search_onset(PARAMS, None, 1, SETTINGS, 0.05, partial_path=partial)
    other = OnsetSettings(ensembles=("x",), J0=SETTINGS.J0, resolution=0.02)
    calls.clear()
    monkeypatch.setattr(het_onset, "probe", _stub(calls))
    het_onset.search_onset(PARAMS, None, 1, other, 0.05, partial_path=partial)
    assert calls[:4] == list(SETTINGS.J0)  # started afresh with the grid
    doc = json.loads(partial.read_text())
    assert doc["fingerprint"]["settings"]["resolution"] == 0.02


def test_probe_run_covers_t_transient_and_refuses_a_partial_step():
    run = het_onset.probe_run(SETTINGS, 0.05)
    assert run.total_steps == 4000  # 200 tau at dt 0.05
    with pytest.raises(ValueError, match=r"t_transient: invalid value 200.03; allowed: a whole"):
        het_onset.probe_run(OnsetSettings(t_transient=200.03), 0.05)


def test_a_real_probe_on_a_heterogeneous_network():
    """One real probe (RK4 transient, then lambda_max with the fused tangent step) on a
    small Erdős-Rényi network, deep in the fixed-point regime (J0 = 0.3, well below J_FP):
    a negative lambda_max, decided 'not chaotic', with a finite standard error."""
    from stdnet.model.network import build_network
    p = ModelParams(N=200, J0=0.5, connectivity="erdos_renyi")
    s = OnsetSettings(t_transient=50.0, t_average=40.0, max_extensions=0)
    pr = het_onset.probe(p, build_network(p, 1), 1, 0.3, s, 0.05, 0)
    assert pr.J0 == 0.3 and pr.decision == NOT_CHAOTIC
    assert pr.lambda_max < -s.zero_tol and math.isfinite(pr.se)


def _points(rows):
    return pd.DataFrame([{"ensemble": e, "N": N, "seed": s, "K_E": N // 10 * 0.8,
                          "jfp_J_FP": jfp, "jfp_route": "real", "jfp_J0_stable": jfp - 0.0025,
                          "jfp_J0_unstable": jfp + 0.0025} for e, N, s, jfp, _ in rows])


def _onsets(rows):
    return pd.DataFrame([{"ensemble": e, "N": N, "seed": s, "J_ch": jch, "J_ch_se": 0.005,
                          "J_ch_ci_lo": jch - 0.01, "J_ch_ci_hi": jch + 0.01,
                          "J_ch_method": "crossing", "onset_status": "resolved"}
                         for e, N, s, _, jch in rows])


def test_width_table_keeps_realizations_without_an_end():
    """A realization without J_FP (censored) keeps its row and J_ch, gets no width, and is
    named in the per-N note instead of being dropped."""
    rows = [("a", 1000, 1, 0.80, 1.00), ("a", 1000, 2, float("nan"), 1.05),
            ("a", 2000, 1, 0.85, 0.95), ("a", 2000, 2, 0.84, 0.96)]
    w = width_table(_points(rows), _onsets(rows))
    assert len(w) == 4 and w.width.isna().sum() == 1
    assert np.allclose(w.dropna(subset=["width"]).width, [0.20, 0.10, 0.12])
    assert np.allclose(w.J_FP_resolution.dropna(), 0.005)
    per = width_per_N(w)
    row = per[per.N == 1000].iloc[0]
    assert row.n_total == 2 and row.width_n == 1 and "seeds 2" in row.note
    assert row.J_ch_n == 2  # J_ch statistics keep the realization without J_FP


def test_shrink_test_decides_only_where_the_data_do():
    """Widths 0.30, 0.32, 0.28, 0.31 at N = 1000 and 0.10, 0.12, 0.08, 0.11 at 4000: a
    difference of 0.2 with a t interval far from 0 -> 'shrinks'; the same at both sizes ->
    'undecided'; one realization per size -> undecided (no scatter)."""
    small, large = [0.30, 0.32, 0.28, 0.31], [0.10, 0.12, 0.08, 0.11]

    def per_of(a, b):
        rows = [("e", 1000, i, 1.0, 1.0 + w) for i, w in enumerate(a)]
        rows += [("e", 4000, i, 1.0, 1.0 + w) for i, w in enumerate(b)]
        return width_per_N(width_table(_points(rows), _onsets(rows)))

    t = shrink_test(per_of(small, large))
    assert t["verdict"] == "shrinks" and abs(t["d"] - 0.2) < 1e-9 and t["lo"] > 0.15
    assert shrink_test(per_of(small, small))["verdict"] == "undecided"
    assert shrink_test(per_of(large, small))["verdict"] == "grows"
    assert shrink_test(per_of(small[:1], large[:1]))["verdict"].startswith("undecided")


@pytest.fixture(scope="module")
def onset_tables(tiny_workflow_results):
    t = tiny_workflow_results / "tables"
    return (pd.read_csv(t / "heterogeneity_onset.csv"), pd.read_csv(t / "heterogeneity_width.csv"),
            (t / "heterogeneity_verdict.txt").read_text())


def test_stage_onset_tables_from_the_tiny_workflow(onset_tables, tiny_workflow_results):
    """tests/data/tiny.yaml searches both ensembles at N = 200 and 400: one row per
    network, width = J_ch - J_FP wherever both ends exist, every search finished, and the
    per-N table and the verdict name every searched ensemble."""
    widths, per, verdict = onset_tables
    assert len(widths) == 4 and sorted(set(widths.ensemble)) == ["cv0.2", "fixed"]
    assert set(widths.onset_status) <= {"resolved", "undecided", "no chaos in range",
                                        "chaotic at the lowest J0"}
    # a J_ch exactly where the search found a bracket; a width exactly where both ends are
    found = widths.onset_status.isin(["resolved", "undecided"])
    assert (widths.J_ch.notna() == found).all()
    assert (widths.width.notna() == (found & widths.J_FP.notna())).all()
    assert widths.J_FP.notna().sum() == 2  # jfp.N_max 200: N = 200 only
    both = widths.dropna(subset=["width"])
    assert np.allclose(both.width, both.J_ch - both.J_FP)
    assert sorted(set(per.ensemble)) == ["cv0.2", "fixed"]
    assert "J_ch per realization" in verdict and "[cv0.2]" in verdict.split("J_ch per")[1]
    assert (tiny_workflow_results / "figures" / "heterogeneity_width.png").stat().st_size > 0
    # the partial state of every search is gone once its onset.json is written
    assert not list((tiny_workflow_results / "heterogeneity").rglob("onset.partial.json"))
