"""The heterogeneity stage: J_FP along the stationary branch against the stability stage's
search, and the stage's tables and figures from the tiny workflow (tests/data/tiny.yaml)."""
import math

import numpy as np
import pandas as pd
import pytest

from stdnet.heterogeneity.branch import branch_jfp, find_jfp, stationary_state
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability import jfp as stability_jfp


@pytest.mark.parametrize("N,seed", [(200, 1), (400, 2)])
def test_branch_jfp_of_the_paper_network_is_the_stability_stages(N, seed):
    """For fixed in-degree the stationary branch is the homogeneous fixed point, so the
    continuation's J_FP (branch_jfp: Newton, then every eigenvalue at N = 200, ARPACK's
    rightmost at N = 400; bisection to 0.002), which the heterogeneous networks get, must be
    the J_FP of stability.jfp (dense eig at 200, its matrix-free Krylov-Schur at 400;
    bisection or secant to 0.002) within the two brackets; find_jfp hands the paper's
    network to the latter."""
    p = ModelParams(N=N, J0=0.5)
    net = build_network(p, seed)
    st = stationary_state(p, net, t_settle=50.0, dt=0.05)
    assert st["converged"] and st["lam"].real < 0
    ours = branch_jfp(p, net, st["y"], step=0.05, J0_max=2.0, tol=0.002)
    ref = stability_jfp.find_jfp(p, net, J0_start=0.5, J0_range=(0.3, 2.0), tol=0.002)
    assert abs(ours["J_FP"] - ref.J_FP) < 0.004
    assert ours["route"] == ref.crossing
    handed = find_jfp(p, net, st["y"], step=0.05, J0_max=2.0, tol=0.002)
    assert abs(handed["J_FP"] - ref.J_FP) < 0.004 and handed["route"] == ref.crossing


def test_branch_of_a_heterogeneous_network_is_followed():
    """Gamma in-degrees (CV 0.2, N = 300): a stable stationary state at 0.5, lost at a J_FP
    inside the search range, with the state at the stable end still solving F = 0."""
    p = ModelParams(N=300, J0=0.5, connectivity="indegree_cv", indegree_cv=0.2)
    net = build_network(p, 1)
    st = stationary_state(p, net, t_settle=200.0, dt=0.05)
    assert st["converged"] and st["lam"].real < 0
    out = find_jfp(p, net, st["y"], step=0.1, J0_max=3.0, tol=0.01)
    assert 0.5 < out["J_FP"] < 3.0 and out["route"] in ("real", "hopf", "fold")
    assert out["J0_unstable"] - out["J0_stable"] <= 0.01


@pytest.fixture(scope="module")
def stage_tables(tiny_workflow_results):
    t = tiny_workflow_results / "tables"
    return {k: pd.read_csv(t / f"heterogeneity_{k}.csv") for k in
            ("points", "theory", "phase", "growth", "theory_check")}


def test_stage_tables_cover_every_network(stage_tables, tiny_workflow_results):
    pts = stage_tables["points"]
    assert sorted(set(pts.ensemble)) == ["cv0.2", "fixed"]
    assert sorted(set(pts.N)) == [200, 400] and len(pts) == 4
    assert pts.stat_converged.all() and pts.stat_stable.all()
    fixed = pts[pts.ensemble == "fixed"]
    # the paper's network: the stationary state is the homogeneous point
    assert (fixed.stat_var_h_E < 1e-12).all() and (fixed.stat_var_h_I < 1e-12).all()
    het = pts[pts.ensemble == "cv0.2"]
    assert (het.stat_var_h_I > 0.01).all() and (het.degree_K_E_cv > 0.1).all()
    # J_FP searched up to jfp.N_max = 200 only
    assert np.isfinite(pts[pts.N == 200].jfp_J_FP).all()
    assert (pts[pts.N == 400].jfp_route == "not searched").all()
    verdict = (tiny_workflow_results / "tables" / "heterogeneity_verdict.txt").read_text()
    assert "[cv0.2]" in verdict and "[fixed]" in verdict and "J_ch" in verdict
    for name in ("rates", "scaling", "phase"):
        assert (tiny_workflow_results / "figures" / f"heterogeneity_{name}.png").stat().st_size > 0


def test_stage_theory_check_and_jfp_agree_with_independent_results(stage_tables,
                                                                    tiny_workflow_results):
    """The realization theory within 2/sqrt(K_E) of every heterogeneous stationary state;
    the fixed network's J_FP at N = 200 within the two brackets of the stability stage's
    (tables/jfp.csv, same realization)."""
    dev = stage_tables["theory_check"]
    assert ((dev.mean_dev.abs() < dev.tolerance)
            & (dev.sd_ratio_minus_1.abs() < dev.tolerance))[dev.ensemble == "cv0.2"].all()
    jfp = pd.read_csv(tiny_workflow_results / "tables" / "jfp.csv")
    ref = jfp[(jfp.N == 200) & (jfp.seed == 1)].J_FP.iloc[0]
    pts = stage_tables["points"]
    ours = pts[(pts.ensemble == "fixed") & (pts.N == 200)].jfp_J_FP.iloc[0]
    assert abs(ours - ref) < 0.05 + 0.02 + 1e-9  # heterogeneity.jfp.tol + stability.jfp.tol
    assert math.isfinite(stage_tables["phase"].silent_I.max())
