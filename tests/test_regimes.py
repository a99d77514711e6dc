"""Regime classification, the chaos decision, J_FP / J_ch / width / route per realization."""
import math

import pandas as pd
import pytest

from stdnet.lyapunov.decision import CHAOTIC, NOT_CHAOTIC, UNDECIDED, chaos_decision
from stdnet.transition.regimes import (CHAOS, HET_FP, HOM_FP, PERIODIC, QUASI, Thresholds,
                                       chaos_onset, classify, classify_table, fp_loss, route,
                                       transition_table)

TH = Thresholds(zero_tol=0.005, temporal_sd_tol=1e-3, spatial_sd_tol=1e-3)


@pytest.mark.parametrize("lam,ci,tsd,ssd,expected", [
    ([0.2, 0.05, -0.1], [0.02, 0.02, 0.02], 1.0, 1.0, CHAOS),
    ([0.004, -0.05, -0.1], [0.01, 0.01, 0.01], 1.0, 1.0, PERIODIC),  # not beyond its CI
    ([-0.09, -0.1, -0.1], [1e-5, 1e-5, 1e-5], 1e-9, 1e-9, HOM_FP),
    ([-0.09, -0.1, -0.1], [1e-5, 1e-5, 1e-5], 1e-9, 0.3, HET_FP),
    ([0.0, -0.001, -0.08], [0.002, 0.002, 0.01], 1e-9, 0.3, HET_FP),  # marginal but stationary
    ([0.001, -0.05, -0.1], [0.002, 0.002, 0.01], 0.5, 0.3, PERIODIC),
    ([0.001, -0.002, -0.1], [0.002, 0.002, 0.01], 0.5, 0.3, QUASI),
])
def test_classify(lam, ci, tsd, ssd, expected):
    assert classify(lam, ci, tsd, ssd, TH) == expected


@pytest.mark.parametrize("lam,h,zero_tol,expected", [
    (0.2, 0.05, 0.005, CHAOTIC),
    (0.007, 0.001, 0.005, CHAOTIC),  # lower bound 0.006 above zero_tol
    (0.0, 0.002, 0.005, NOT_CHAOTIC),  # consistent with 0 (periodic), resolved to zero_tol
    (-0.1, 0.01, 0.005, NOT_CHAOTIC),  # fixed point
    (0.003, 0.001, 0.005, NOT_CHAOTIC),  # > 0 but below the resolution: not called chaos
    (0.0044, 0.0035, 0.005, UNDECIDED),  # a periodic orbit's biased estimate (docs/onset.md)
    (0.01, 0.008, 0.005, UNDECIDED),  # interval contains zero_tol
    (0.2, math.inf, 0.005, UNDECIDED),  # too few batches: undecidable, not guessed
    (math.nan, 0.01, 0.005, UNDECIDED),
    (0.2, math.nan, 0.005, UNDECIDED),
    (0.01, 0.005, 0.0, CHAOTIC),  # zero_tol = 0: the plain "interval above 0" rule
    (0.0, 0.0, 0.0, UNDECIDED),  # ... under which a zero exponent is never certified
])
def test_chaos_decision(lam, h, zero_tol, expected):
    assert chaos_decision(lam, h, zero_tol) == expected
    th = Thresholds(zero_tol=zero_tol)
    assert (classify([lam, -0.5], [h, 0.01], 1.0, 1.0, th) == CHAOS) == (expected == CHAOTIC)


def test_chaos_decision_rejects_bad_zero_tol():
    with pytest.raises(ValueError, match="transition.zero_tol.*-0.1"):
        chaos_decision(0.1, 0.01, -0.1)


def test_thresholds_reject_bad_values():
    with pytest.raises(ValueError, match="transition.zero_tol"):
        Thresholds(zero_tol=-1)


def test_onsets_and_route():
    J = [0.1, 0.5, 0.87, 1.0, 1.5, 2.0]
    reg = [HOM_FP, HOM_FP, PERIODIC, CHAOS, PERIODIC, CHAOS]
    assert chaos_onset(J, reg) == (2.0, 1.5)  # every larger grid point must be chaotic
    assert fp_loss(J, reg) == 0.87
    assert route(reg) == "hFP > P > C > P > C"
    assert math.isnan(chaos_onset(J, reg[:-1] + [PERIODIC])[0])
    assert chaos_onset([0.1, 0.2], [CHAOS, CHAOS])[0] == 0.1
    assert math.isnan(chaos_onset([0.1, 0.2], [CHAOS, CHAOS])[1])


def test_transition_table_ends_and_sources():
    rows = []
    for seed, jch in ((1, 1.0), (2, 1.5)):
        for J in (0.1, 0.5, 1.0, 1.5, 2.0):
            reg = HOM_FP if J < 0.5 else (CHAOS if J >= jch else PERIODIC)
            rows.append({"N": 100, "seed": seed, "J0": J, "regime": reg})
    t = transition_table(pd.DataFrame(rows))
    assert list(t["J_ch"]) == [1.0, 1.5] and list(t["J_FP"]) == [0.5, 0.5]
    assert list(t["width"]) == [0.5, 1.0] and set(t["J_FP_source"]) == {"regimes"}
    # grid ends: resolution is the grid step below them
    assert list(t["J_ch_resolution"]) == [0.5, 0.5] and list(t["J_FP_resolution"]) == [0.4, 0.4]
    jfp = pd.DataFrame({"N": [100], "seed": [2], "J_FP": [0.8], "J0_lo": [0.799],
                        "J0_hi": [0.801], "crossing": ["hopf"]})
    onset = pd.DataFrame({"N": [100], "seed": [2], "J_ch": [1.2], "J_ch_lo": [1.19],
                          "J_ch_hi": [1.21], "J_ch_resolution": [0.02],
                          "onset_status": ["resolved"]})
    t2 = transition_table(pd.DataFrame(rows), jfp, onset).set_index("seed")
    assert t2.loc[2, "J_FP"] == 0.8 and t2.loc[2, "J_FP_source"] == "stability"
    assert t2.loc[2, "J_FP_resolution"] == pytest.approx(0.002)
    assert t2.loc[2, "J_ch"] == 1.2 and t2.loc[2, "J_ch_source"] == "onset search"
    assert t2.loc[2, "width"] == pytest.approx(0.4)  # kept whatever its sign
    assert t2.loc[1, "J_FP_source"] == "regimes" and t2.loc[1, "J_ch_source"] == "grid"
    # the onset search found no chaos: no width, never a grid value in its place
    onset.loc[0, ["J_ch", "J_ch_hi", "J_ch_resolution", "onset_status"]] = [
        math.nan, math.nan, math.nan, "no chaos in range"]
    t3 = transition_table(pd.DataFrame(rows), jfp, onset).set_index("seed")
    assert math.isnan(t3.loc[2, "width"])


def test_classify_table_and_summary():
    runs = pd.DataFrame({"N": [100, 100], "J0": [0.1, 2.0], "seed": [1, 1],
                         "lambda_1": [-0.1, 0.3], "ci_1": [0.001, 0.01],
                         "lambda_2": [-0.2, 0.0], "ci_2": [0.001, 0.01],
                         "temporal_sd": [0.0, 1.0], "spatial_sd": [0.0, 1.0]})
    out = classify_table(runs, TH)
    assert list(out["regime"]) == [HOM_FP, CHAOS]
    t = transition_table(out)
    assert t["width"].item() == 0.0  # FP lost and chaos at the same grid point


def test_check_covers_refuses_a_table_older_than_the_grid():
    """A stage table without some realization of the grid (here jfp.csv made before N = 4000
    was added) is refused with the missing (N, seed), the file and the rule to rerun, instead
    of transition_table silently taking the grid value; sizes the stage does not compute
    (N_values) and a complete table pass."""
    from stdnet.files.errors import InputFileError
    from stdnet.transition.regimes import check_covers

    reg = pd.DataFrame({"N": [1000, 1000, 4000, 4000], "seed": [1, 2, 1, 2]})
    old = pd.DataFrame({"N": [1000, 1000], "seed": [1, 2]})
    with pytest.raises(InputFileError, match=r"jfp\.csv has no row for 2 realization.*"
                       r"\(N=4000, seed=1\).*--forcerun jfp_table"):
        check_covers(reg, old, "tables/jfp.csv", "jfp_table", [1000, 4000])
    check_covers(reg, old, "tables/jfp.csv", "jfp_table", [1000])
    check_covers(reg, reg, "tables/onset.csv", "onset_table")
    check_covers(reg, None, "tables/onset.csv", "onset_table")
    # stability.jfp.seeds: [1] searches J_FP of seed 1 only; seed 2 keeps the grid value
    seed_1 = pd.DataFrame({"N": [1000, 4000], "seed": [1, 1]})
    check_covers(reg, seed_1, "tables/jfp.csv", "jfp_table", [1000, 4000], [1])
    with pytest.raises(InputFileError, match=r"no row for 2 realization.*\(N=1000, seed=2\)"):
        check_covers(reg, seed_1, "tables/jfp.csv", "jfp_table", [1000, 4000])
