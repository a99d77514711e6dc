"""Heterogeneous fixed point: the self-consistent Gaussian theory against independent
integrals and against simulations that settle on a stationary heterogeneous state."""
import math

import pytest
from scipy.integrate import quad

from stdnet.theory.meanfield import het_moments, heterogeneous_branch, heterogeneous_fixed_point
from stdnet.theory.meanfield import sampling_variances
from stdnet.model.params import ModelParams
from stdnet.stability.runs import settle_heterogeneous
from stdnet.model.transfer import phi


def test_gauss_hermite_moments_match_quadrature():
    p = ModelParams(N=1000, J0=1.0)
    mu_E, s_E, mu_I, s_I = 0.15, 0.4, -0.2, 1.7
    m = het_moments(p, mu_E, s_E, mu_I, s_I, n_nodes=80)

    def avg(f, mu, s):
        g = lambda z: f(mu + s * z) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa
        return quad(g, -12, 12, epsabs=1e-13, limit=200)[0]

    nu = lambda h: phi(p.transfer, h)  # noqa: E731
    xnu = lambda h: nu(h) / (1 + p.u * p.tau_D * nu(h))  # noqa: E731
    assert abs(m["nu_E"] - avg(nu, mu_E, s_E)) < 1e-10
    assert abs(m["xnu_E"] - avg(xnu, mu_E, s_E)) < 1e-10
    assert abs(m["var_nu_I"] - (avg(lambda h: nu(h) ** 2, mu_I, s_I)
                                - avg(nu, mu_I, s_I) ** 2)) < 1e-9
    assert abs(m["var_xnu_E"] - (avg(lambda h: xnu(h) ** 2, mu_E, s_E)
                                 - avg(xnu, mu_E, s_E) ** 2)) < 1e-10


def test_theory_solves_its_equations_and_is_nontrivial():
    p = ModelParams(N=1000, J0=1.0)
    hp = heterogeneous_fixed_point(p)
    m = het_moments(p, hp.mu_E, hp.sigma_E, hp.mu_I, hp.sigma_I)
    vE, vI = sampling_variances(p)
    assert hp.sigma_E > 1e-3 and hp.sigma_I > 1e-3
    assert abs(hp.mu_E - p.G * (p.g_EE * m["xnu_E"] - p.gamma * p.g_EI * m["nu_I"])) < 1e-9
    assert abs(hp.sigma_I ** 2 - vE * p.g_IE ** 2 * m["var_nu_E"]
               - vI * p.g_II ** 2 * m["var_nu_I"]) < 1e-9
    # far below the transition only the homogeneous state exists
    with pytest.raises(RuntimeError, match="no nontrivial solution"):
        heterogeneous_fixed_point(p.replace(J0=0.5))
    branch = heterogeneous_branch(p, [0.5, 1.0, 1.2])
    assert branch[0] is None and branch[2].sigma_E > branch[1].sigma_E
    # a theory curve from J0 = 0 (stability.hetfp.theory_J0: [0, ...]): no solution there,
    # not a refused job
    assert heterogeneous_branch(p, [0.0, 1.2])[0] is None


@pytest.mark.parametrize("J0", [0.95, 1.0])
def test_theory_matches_simulated_heterogeneous_fixed_point(J0):
    """N = 1000, seed 1 (its homogeneous FP loses stability by a real eigenvalue at
    J0 ~ 0.852): the run settles on a stationary heterogeneous state within 300 tau
    (max|F| < 0.05, then Newton to |F| < 1e-10), which is stable and whose across-neuron
    mean and sd of the inputs match the Gaussian theory. Tolerance:
    finite-K corrections of relative size ~1/sqrt(K_E) (K_E = 80); we allow 2/sqrt(K_E)
    (= 0.22) on sigma_a / sigma_theory - 1 and on (mu_a - mu_theory)/sigma_theory."""
    p = ModelParams(N=1000, J0=J0)
    out = settle_heterogeneous(p, 1, 300.0, settle_tol=0.05)
    s = out["summary"]
    assert s["settled"] and s["heterogeneous"] and s["residual"] < 1e-10
    assert s["lam_re"] < 0  # the heterogeneous fixed point is itself stable
    tol = 2 / math.sqrt(p.K_E)
    for a in ("E", "I"):
        assert abs(s[f"sigma_{a}"] / s[f"theory_sigma_{a}"] - 1) < tol
        assert abs(s[f"mu_{a}"] - s[f"theory_mu_{a}"]) / s[f"theory_sigma_{a}"] < tol


def test_hetfp_files_read_back(tmp_path):
    """write_hetfp / read_hetfp: the table, the theory, and the last heterogeneous run as the
    figure's sample (its E inputs: the first N_E entries of h)."""
    import numpy as np

    from stdnet.stability.hetfp import HetFPComparison, read_hetfp, write_hetfp

    p = ModelParams(N=50, J0=1.0)
    gen = np.random.default_rng(0)
    rows, states = [], []
    for J0, het in ((0.9, True), (1.0, True), (1.1, False)):
        rows.append({"N": p.N, "seed": 1, "J0": J0, "settled": het, "heterogeneous": het,
                     "mu_E": 0.1, "sigma_E": 0.2, "mu_I": 0.3, "sigma_I": 0.4,
                     "theory_mu_E": 0.11, "theory_sigma_E": 0.21})
        states.append(gen.standard_normal(p.dim))
    theory = gen.standard_normal((4, 5))
    write_hetfp(tmp_path / "h.h5", tmp_path / "h.csv", HetFPComparison(rows, states, theory),
                {"N": p.N, "seed": 1})
    out = read_hetfp(tmp_path / "h.h5", tmp_path / "h.csv")
    assert np.array_equal(out["theory"], theory)
    assert list(out["table"].J0) == [0.9, 1.0, 1.1]
    s = out["sample"]
    assert s["J0"] == 1.0 and s["mu"] == 0.11 and s["sigma"] == 0.21
    assert np.array_equal(s["h_E"], states[1][: p.N_E])
    assert np.array_equal(s["x"], states[1][p.N:])
