"""DMF vs simulations: each N is compared with the finite-K DMF of that same N, the
relative errors and their 1/sqrt(K) fits, and the max_lag >= 2 tau_D rule."""
import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stdnet.workflow.config import ConfigError, validate_config
from stdnet.dmf.solver import DMFSettings, network_problem, resolve_solver_config, solve_dmf
from stdnet.dmf.files import read_dmf, write_dmf
from stdnet.dmf.points import dmf_solve_points
from stdnet.dmf.compare import (QUANTITIES, discrepancy_table, dmf_table, error_fits,
                               matching_dmf, simulation_K_E)
from stdnet.model.params import ModelParams

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"
TINY_SOLVER = dict(n_paths=40, t_path=40.0, t_burn=10.0, dt=0.5, max_lag=10.0, max_iter=3)


def fake_dmf(N, J0=1.5, I0=0.0, level=1.0, finite_K=True):
    """A read_dmf-like dict whose every quantity is `level` times a fixed pattern."""
    K_E = ModelParams(N=N, J0=J0).K_E
    return {"info": {"finite_K": finite_K, "N": N if finite_K else 0,
                     "K_E": K_E if finite_K else 0, "J0": J0, "I0": I0},
            "converged": True, "iterations": 5, "wall_time_s": 1.0,
            "x_mean": np.array([0.2 * level, 1.0]),
            "signal_means": np.array([0.8 * level, 0.16 * level, 1.2 * level]),
            "mu": np.array([0.1 * level, -3.0 * level]),
            "delta": np.array([[0.15 * level, 0.1], [38.0 * level, 1.0]]),
            "q": np.array([0.01 * level, 1.0 * level]),
            "decorrelation_time": np.array([3.7 * level, 3.8 * level])}


def simulations_like(dmf, N, seeds=(1, 2), spread=1e-3):
    """Simulation rows at size N whose observables equal the DMF row `dmf` up to a small,
    seed-dependent spread."""
    rows = []
    for s in seeds:
        row = {"N": N, "K_E": ModelParams(N=N, J0=1.5).K_E, "J0": 1.5, "seed": s}
        for q in QUANTITIES:
            row[q] = float(dmf[q]) * (1.0 + spread * (s - 1.5))
        rows.append(row)
    return rows


@pytest.fixture
def two_N():
    """DMF solutions at N = 1000 and N = 4000 that differ by 50 %."""
    return dmf_table([fake_dmf(1000, level=1.0), fake_dmf(4000, level=1.5)])


def test_each_N_is_paired_with_the_dmf_of_that_N(two_N):
    sims = pd.DataFrame(simulations_like(two_N.iloc[0], 1000)
                        + simulations_like(two_N.iloc[1], 4000))
    table, unmatched = discrepancy_table(sims, two_N, I0=0.0)
    assert not unmatched
    assert set(table.N) == {1000, 4000}
    # the DMF named in each row is that of the row's own N ...
    assert (table.dmf_N == table.N).all()
    assert (table.dmf_K_E == table.K_E).all()
    assert set(table.loc[table.N == 4000, "dmf_K_E"]) == {ModelParams(N=4000, J0=1.5).K_E}
    # ... and it is the one the errors were computed against: the simulations equal their
    # own N's DMF (errors ~ 0), while the other N's DMF is 50 % away
    assert table.rel_error.abs().max() < 1e-3
    assert (table.n_seeds == 2).all()


def test_no_fallback_to_another_N(two_N):
    """A simulated N without its own finite-K DMF is reported, never compared with a
    neighbour's DMF."""
    sims = pd.DataFrame(simulations_like(two_N.iloc[0], 2000))
    table, unmatched = discrepancy_table(sims, two_N, I0=0.0)
    assert table.empty and unmatched == [(2000, 1.5)]
    assert matching_dmf(two_N, 2000, 1.5, 0.0) is None
    assert matching_dmf(two_N, 1000, 1.5, 0.3) is None  # nor at another I0


def test_balanced_limit_is_compared_with_every_N():
    dmf = dmf_table([fake_dmf(1000, finite_K=False)])
    assert math.isinf(dmf.dmf_N.iloc[0]) and not dmf.dmf_finite_K.iloc[0]
    for N in (1000, 4000, 16000):
        assert matching_dmf(dmf, N, 1.5, 0.0) is not None
    # a finite-K solve at N next to the limit is ambiguous: an error, not a silent choice
    both = dmf_table([fake_dmf(1000, finite_K=False), fake_dmf(1000)])
    with pytest.raises(ValueError, match="2 DMF solutions match N=1000"):
        matching_dmf(both, 1000, 1.5, 0.0)


def test_solved_files_carry_their_N(tmp_path):
    """Through real solves and files: the DMF written at N carries N and K_E = c N_E of
    that N, and the comparison picks it up by N."""
    files = []
    for N in (1000, 4000):
        res = solve_dmf(network_problem(ModelParams(N=N, J0=1.5)),
                        DMFSettings(seed=1, **TINY_SOLVER))
        write_dmf(tmp_path / f"{N}.h5", res)
        files.append(read_dmf(tmp_path / f"{N}.h5"))
    dmf = dmf_table(files)
    assert list(dmf.dmf_N) == [1000, 4000]
    assert list(dmf.dmf_K_E) == [80, 320]
    # K enters the finite-K mean equation, so the two solutions differ
    assert dmf.mu_E.iloc[0] != dmf.mu_E.iloc[1]
    for N in (1000, 4000):
        assert matching_dmf(dmf, N, 1.5, 0.0).dmf_N == N


def test_simulation_K_E_from_the_stored_parameters():
    params = {**ModelParams(N=2000, J0=1.5).to_dict(), "seed": 3}
    assert simulation_K_E(params) == 160


def _errors(K, e, se, q="nu_E"):
    return pd.DataFrame({"N": K * 12.5, "K_E": K, "J0": 1.5, "I0": 0.0, "quantity": q,
                         "n_seeds": 5, "rel_error": e, "rel_error_se": se, "dmf_chaotic": True,
                         "dmf_finite_K": True})


def test_error_fits_tell_a_vanishing_error_from_an_offset():
    K = np.array([80.0, 160.0, 320.0, 640.0, 1280.0])
    se = np.full(K.size, 0.005)
    noise = np.array([0.3, -0.5, 0.2, 0.4, -0.3]) * se  # fixed, within the error bars
    vanishing = _errors(K, 0.8 / np.sqrt(K) + noise, se, "nu_E")
    offset = _errors(K, 0.05 + 0.8 / np.sqrt(K) + noise, se, "nu_I")
    fits = error_fits(pd.concat([vanishing, offset])).set_index("quantity")
    assert fits.loc["nu_E", "vanishes_like_inv_sqrt_K"]
    assert fits.loc["nu_E", "a_lo"] <= 0 <= fits.loc["nu_E", "a_hi"]
    assert fits.loc["nu_E", "b"] == pytest.approx(0.8, abs=0.1)
    assert not fits.loc["nu_I", "vanishes_like_inv_sqrt_K"]
    assert "offset" in fits.loc["nu_I", "verdict"]
    assert fits.loc["nu_I", "a_lo"] > 0


def test_error_fits_reject_a_bad_shape_and_leave_single_seed_N_out():
    K = np.array([80.0, 160.0, 320.0, 640.0, 1280.0])
    se = np.full(K.size, 0.002)
    wiggle = 0.05 * np.array([1, -1, 1, -1, 1])  # not a + b/sqrt(K) at all
    fits = error_fits(_errors(K, wiggle, se)).iloc[0]
    assert not fits.vanishes_like_inv_sqrt_K and "rejected" in fits.verdict
    # a sixth N with one seed (no standard error) is left out of the weighted fit
    extra = _errors(np.array([2560.0]), np.array([0.0]), np.array([np.nan]))
    fits = error_fits(pd.concat([_errors(K, 0.8 / np.sqrt(K), se), extra])).iloc[0]
    assert fits.status == "ok" and fits.n_points == 5 and fits.N_left_out == "32000"


# ---------------------------------------------------------------------------
# max_lag >= 2 tau_D
# ---------------------------------------------------------------------------
@pytest.fixture
def default_config():
    return yaml.safe_load((ROOT / "config" / "params.yaml").read_text())


def test_default_max_lag_is_two_tau_D(default_config):
    cfg = validate_config(default_config, SCHEMA)
    st = DMFSettings.from_config(cfg["dmf"]["solver"], tau_D=cfg["model"]["tau_D"])
    assert st.max_lag == 2 * cfg["model"]["tau_D"] and st.t_path == 2 * st.max_lag
    assert resolve_solver_config({"max_lag": 0, "t_path": 0}, tau_D=80.0) == {
        "max_lag": 160.0, "t_path": 320.0}


def test_short_max_lag_is_a_config_error(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["dmf"]["solver"]["max_lag"] = 40.0
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    msg = str(err.value)
    assert "'dmf.solver.max_lag'" in msg and "40.0" in msg and ">= 2 model.tau_D = 100" in msg
    # the same rule where the solve is set up from the config
    with pytest.raises(ValueError, match=r"'dmf.solver.max_lag': value 40.0 .* >= 2 model.tau_D"):
        DMFSettings.from_config({"max_lag": 40.0}, tau_D=50.0)
    # a shorter depression time allows it
    cfg["model"]["tau_D"] = 20.0
    validate_config(cfg, SCHEMA)


def test_path_shorter_than_two_max_lag_is_a_config_error(default_config):
    default_config["dmf"]["solver"]["t_path"] = 150.0
    with pytest.raises(ConfigError, match=r"'dmf.solver.t_path': value 150.0 .* >= 2 "
                                          r"dmf.solver.max_lag = 200"):
        validate_config(default_config, SCHEMA)


def test_solve_points_cover_every_simulated_N():
    """Finite K: each simulated N gets its own solves at the J0 simulated there; the extra
    I0 only at the N of Fig 5. Balanced limit: one N-independent solve per (J0, I0)."""
    sims = [(1000, "0.1", 1), (1000, "1.5", 1), (2000, "0.1", 1), (2000, "1.5", 2),
            (8000, "1.5", 1)]  # N = 8000: a correlation recording only
    points = dmf_solve_points(sims, ["0.1", "1.5"], ["0", "0.3"], "0", 2000, True)
    assert points == [(1000, "0.1", "0"), (1000, "1.5", "0"),
                      (2000, "0.1", "0"), (2000, "0.1", "0.3"),
                      (2000, "1.5", "0"), (2000, "1.5", "0.3"), (8000, "1.5", "0")]
    limit = dmf_solve_points(sims, ["0.1", "1.5"], ["0", "0.3"], "0", 2000, False)
    assert {N for N, _, _ in limit} == {"inf"} and len(limit) == 4
