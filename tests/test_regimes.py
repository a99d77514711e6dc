"""Regime classification, J_FP / J_ch / width / route, bisection, and the width fit."""
import math

import numpy as np
import pandas as pd
import pytest

from stdnet.regimes import (CHAOS, HET_FP, HOM_FP, PERIODIC, QUASI, Thresholds, bisect_onset,
                            chaos_onset, classify, classify_table, extrapolate, fp_loss,
                            power_law_fit, route, transition_table, width_summary)

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


def test_bisection_brackets_a_step():
    upper, lower, tried = bisect_onset(lambda J: J > 1.234, 1.0, 1.5, 5)
    assert lower < 1.234 <= upper and upper - lower == pytest.approx(0.5 / 2**5)
    assert len(tried) == 5


def test_transition_table_and_jfp_source():
    rows = []
    for seed, jch in ((1, 1.0), (2, 1.5)):
        for J in (0.1, 0.5, 1.0, 1.5, 2.0):
            reg = HOM_FP if J < 0.5 else (CHAOS if J >= jch else PERIODIC)
            rows.append({"N": 100, "seed": seed, "J0": J, "regime": reg})
    t = transition_table(pd.DataFrame(rows))
    assert list(t["J_ch"]) == [1.0, 1.5] and list(t["J_FP"]) == [0.5, 0.5]
    assert list(t["width"]) == [0.5, 1.0] and set(t["J_FP_source"]) == {"regimes"}
    jfp = pd.DataFrame({"N": [100], "seed": [2], "J_FP": [0.8]})
    t2 = transition_table(pd.DataFrame(rows), jfp)
    assert t2.loc[t2["seed"] == 2, "J_FP"].item() == 0.8
    assert t2.loc[t2["seed"] == 2, "J_FP_source"].item() == "stability"
    assert t2.loc[t2["seed"] == 1, "J_FP_source"].item() == "regimes"


def test_power_law_fit_and_extrapolation():
    N = np.repeat([1000, 2000, 4000, 8000], 3)
    gen = np.random.default_rng(0)
    w = 3.0 * N ** -0.4 * np.exp(0.05 * gen.standard_normal(N.size))
    fit = power_law_fit(N, w)
    # 12 points, log-noise sd 0.05 over a factor 8 in N: se(a) ~ 0.02
    assert fit["a"] == pytest.approx(0.4, abs=4 * fit["a_se"]) and 0 < fit["a_se"] < 0.05
    exact = power_law_fit([1000, 4000], [2 * 1000**-0.5, 2 * 4000**-0.5])
    assert exact["a"] == pytest.approx(0.5) and exact["A"] == pytest.approx(2.0)
    assert math.isnan(power_law_fit([1000, 1000], [0.1, 0.2])["a"])  # one N: no fit
    J = 0.9 + 2.0 * N ** -0.4
    assert extrapolate(N, J, 0.4)["J_inf"] == pytest.approx(0.9)


def test_classify_table_and_summary():
    runs = pd.DataFrame({"N": [100, 100], "J0": [0.1, 2.0], "seed": [1, 1],
                         "lambda_1": [-0.1, 0.3], "ci_1": [0.001, 0.01],
                         "lambda_2": [-0.2, 0.0], "ci_2": [0.001, 0.01],
                         "temporal_sd": [0.0, 1.0], "spatial_sd": [0.0, 1.0]})
    out = classify_table(runs, TH)
    assert list(out["regime"]) == [HOM_FP, CHAOS]
    per_N, fit = width_summary(transition_table(out))
    assert per_N["width_mean"].item() == 0.0  # FP lost and chaos at the same grid point
    assert math.isnan(fit["a"])
