"""Fits in N: sign awareness, recovery of known models, intervals and lack of fit."""
import numpy as np
import pandas as pd
import pytest

from stdnet.stats import (changes_sign, fill_single_realization_se, fit_offset_power,
                          fit_power_law, model_value)

N = np.array([1000, 2000, 4000, 10000, 20000, 40000], dtype=float)


def test_power_law_refuses_a_sign_changing_series():
    y = np.array([0.02, 0.008, -0.001, -0.004, -0.005, -0.006])
    assert changes_sign(y)
    f = fit_power_law(N, y, np.full(6, 1e-3))
    assert f["status"] == "sign_change" and np.isnan(f["exponent"])
    # the linear model takes any sign
    assert fit_offset_power(N, y, np.full(6, 1e-3))["status"] == "ok"
    # an exact zero is no sign either way
    assert fit_power_law(N[:3], [1.0, 0.0, 0.5], None)["status"] == "sign_change"


def test_offset_model_recovers_a_known_saturating_quantity():
    """y = 2 - 30 N^-1/2 with 2 % noise of known sd, 400 replicates: the 95 % intervals of a
    cover the truth in 95 +- 3 % (binomial sd 1.1 %) and the lack-of-fit p is uniform
    (mean 0.5 +- 0.05)."""
    rng = np.random.default_rng(0)
    truth = 2.0 - 30.0 * N ** -0.5
    se = 0.02 * np.abs(truth)
    cover, ps = 0, []
    for _ in range(400):
        f = fit_offset_power(N, truth + se * rng.standard_normal(6), se)
        cover += f["a_lo"] <= 2.0 <= f["a_hi"]
        ps.append(f["p_lack_of_fit"])
    assert 0.92 <= cover / 400 <= 0.98
    assert np.mean(ps) == pytest.approx(0.5, abs=0.05)
    exact = fit_offset_power(N, truth, se)
    assert exact["a"] == pytest.approx(2.0, rel=1e-12) and exact["b"] == pytest.approx(-30.0)
    assert model_value(exact, N) == pytest.approx(truth)


def test_power_law_recovers_a_negative_quantity_and_flags_the_wrong_model():
    y = -3.0 * N ** -0.9
    f = fit_power_law(N, y, 0.01 * np.abs(y))
    assert f["exponent"] == pytest.approx(-0.9, abs=1e-10)
    assert f["prefactor"] == pytest.approx(-3.0, rel=1e-9)
    assert f["p_lack_of_fit"] == pytest.approx(1.0)
    # a saturating quantity fitted as a power law is rejected by its lack of fit
    y = 2.0 - 30.0 * N ** -0.5
    bad = fit_power_law(N, y, 0.005 * y)
    assert bad["p_lack_of_fit"] < 1e-3
    assert fit_offset_power(N, y, 0.005 * y)["p_lack_of_fit"] > 0.99


def test_unweighted_and_too_few():
    f = fit_offset_power(N, 1 + N ** -0.5, None)
    assert f["status"] == "unweighted" and np.isnan(f["p_lack_of_fit"])
    assert fit_offset_power([1000, 1000], [1.0, 2.0], [0.1, 0.1])["status"] == "too_few"


def test_single_realization_se_is_pooled_from_the_other_sizes():
    per = pd.DataFrame({"N": [1000, 2000, 40000], "n": [4, 4, 1], "mean": [10.0, 20.0, 30.0],
                        "se": [1.0, 2.0, np.nan]})
    out = fill_single_realization_se(per)
    # relative sd = se sqrt(n)/|mean| = 0.2 at both multi-seed sizes
    assert out.se.iloc[2] == pytest.approx(0.2 * 30.0)
    assert list(out.se_source) == ["seeds", "seeds", "pooled"]
    # a larger within-run error wins
    assert fill_single_realization_se(per, within=[0, 0, 9.0]).se.iloc[2] == pytest.approx(9.0)
