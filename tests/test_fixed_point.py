import numpy as np
import pytest

from stdnet.theory.meanfield import balanced_limit, homogeneous_fixed_point, population_vector_field
from stdnet.model.params import ModelParams
from stdnet.theory.homogeneous import homogeneous_jacobian


@pytest.mark.parametrize("N,J0,I0,transfer", [(1000, 0.1, 0.0, "softplus"),
                                              (10000, 1.5, 0.0, "softplus"),
                                              (4000, 0.87, 0.3, "softplus"),
                                              (2000, 0.5, 0.5, "sigmoid")])
def test_fixed_point_solves_population_equations(N, J0, I0, transfer):
    p = ModelParams(N=N, J0=J0, I0=I0, transfer=transfer)
    fp = homogeneous_fixed_point(p)
    F = population_vector_field(p, [fp.h_E, fp.h_I, fp.x])
    assert np.max(np.abs(F)) < 1e-10
    assert fp.x == pytest.approx(1 / (1 + p.u * p.tau_D * fp.nu_E), rel=1e-14)


def test_balanced_limit_formulas():
    p = ModelParams(N=1000, J0=1.0)
    lim = balanced_limit(p)
    assert lim.x == pytest.approx(0.25 * 1.25 / (0.5 * 4.0))
    assert lim.nu_E == pytest.approx((1 / lim.x - 1) / (p.u * p.tau_D))
    assert lim.nu_I == pytest.approx(p.g_IE * lim.nu_E / (p.gamma * p.g_II))


def test_finite_n_approaches_limit_like_one_over_sqrt_k():
    """The distance to the balanced limit is O(1/sqrt(K)): err * sqrt(K) converges.

    At J0 = 1 the scaled error tends to ~12.4; between K = 8e4 and 8e7 it must change
    by less than 10%, while the error itself shrinks ~sqrt(10) per decade of K.
    """
    base = ModelParams(N=1000, J0=1.0)
    lim = balanced_limit(base)
    errs, scaled = [], []
    for N in (10**6, 10**7, 10**8, 10**9):
        p = base.replace(N=N)
        fp = homogeneous_fixed_point(p)
        err = max(abs(fp.nu_E - lim.nu_E), abs(fp.nu_I - lim.nu_I), abs(fp.x - lim.x))
        errs.append(err)
        scaled.append(err * np.sqrt(p.K))
    assert abs(scaled[-1] / scaled[0] - 1) < 0.1
    for a, b in zip(errs, errs[1:]):
        assert 2.9 < a / b < 3.5  # sqrt(10) = 3.16


def test_homogeneous_jacobian_matches_finite_differences():
    p = ModelParams(N=4000, J0=1.2)
    fp = homogeneous_fixed_point(p)
    v0 = np.array([fp.h_E, fp.h_I, fp.x])
    J = homogeneous_jacobian(p, fp)
    eps = 1e-6
    num = np.empty((3, 3))
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        num[:, k] = (population_vector_field(p, v0 + e) - population_vector_field(p, v0 - e)) / (2 * eps)
    assert np.allclose(J, num, rtol=1e-6, atol=1e-7)


def test_unconverged_solver_raises():
    # the balanced limit needs g_EE g_II > g_EI g_IE
    with pytest.raises(ValueError, match="g_EE\\*g_II > g_EI\\*g_IE"):
        balanced_limit(ModelParams(N=1000, J0=1.0, g_EE=0.05))


def test_fixed_point_branch_along_I0_matches_full_solver():
    from stdnet.theory.meanfield import fixed_point_branch

    p = ModelParams(N=2000, J0=0.5)
    I0s = np.linspace(0.0, 1.0, 6)
    for I0, fp in zip(I0s, fixed_point_branch(p, I0s, key="I0")):
        ref = homogeneous_fixed_point(p.replace(I0=float(I0)))
        assert abs(fp.nu_E - ref.nu_E) < 1e-10 and abs(fp.h_I - ref.h_I) < 1e-10


def test_fixed_point_theory_table_reads_back_exactly(tmp_path):
    """The Fig 2 theory table: its curves, the balanced limit, and an exact round trip."""
    from stdnet.theory.fixed_point_curves import fixed_point_theory, n_list
    from stdnet.files.tables import read_table, write_table

    base = ModelParams(N=400, J0=0.1)
    t = fixed_point_theory(base, N_range=(100, 10000), J0_cut=0.1, I0_cut=0.3,
                           I0_range=(0.0, 1.0), J0_range=(0.05, 2.0), heat_N=400, resolution=5)
    sizes = t.groupby("curve").size()
    assert sizes["heat"] == 25 and sizes["I0"] == sizes["J0"] == 4 * 5 and sizes["limit"] == 1
    assert list(t[t.curve == "I0"].N.unique()) == n_list((100, 10000))
    assert t[t.curve == "limit"].nu_E.iloc[0] == balanced_limit(base).nu_E
    row = t[(t.curve == "J0") & (t.N == 10000)].iloc[-1]
    ref = homogeneous_fixed_point(base.replace(N=10000, I0=0.3, J0=2.0))
    assert abs(row.nu_E - ref.nu_E) < 1e-10
    write_table(t, tmp_path / "theory.csv")
    back = read_table(tmp_path / "theory.csv")
    num = ["J0", "I0", "h_E", "h_I", "nu_E", "nu_I", "x", "residual"]
    assert np.array_equal(back[num].to_numpy(), t[num].to_numpy(dtype=float), equal_nan=True)
