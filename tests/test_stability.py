"""Linear stability: 3x3 homogeneous modes, the sparse network Jacobian, its eigenvalues,
the J_FP search and the bulk theory (issue 4)."""
import numpy as np
import pytest

from stdnet.theory.bulk import bulk_edge, bulk_indicator, gain, variance_matrix
from stdnet.kernels.cpu import network_vector_field
from stdnet.stability.jfp import find_jfp
from stdnet.theory.meanfield import fixed_point_branch, homogeneous_fixed_point, population_vector_field
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.spectrum import (
    dense_eigenvalues,
    jacobian_blocks,
    network_jacobian,
    polish_fixed_point,
    rightmost_eigenvalues,
    shift_invert_eigenvalues,
)
from stdnet.theory.homogeneous import homogeneous_eigenvalues, homogeneous_jacobian


def _fd_jacobian(f, v, eps=1e-6):
    v = np.asarray(v, dtype=float)
    cols = []
    for k in range(v.size):
        e = np.zeros_like(v)
        e[k] = eps * max(1.0, abs(v[k]))
        cols.append((f(v + e) - f(v - e)) / (2 * e[k]))
    return np.array(cols).T


@pytest.mark.parametrize("N,J0,I0,transfer", [(1000, 0.3, 0.0, "softplus"),
                                               (10000, 1.5, 0.0, "softplus"),
                                               (2000, 0.9, 0.4, "sigmoid")])
def test_homogeneous_eigenvalues_match_finite_difference(N, J0, I0, transfer):
    p = ModelParams(N=N, J0=J0, I0=I0, transfer=transfer)
    fp = homogeneous_fixed_point(p)
    v = np.array([fp.h_E, fp.h_I, fp.x])
    J_fd = _fd_jacobian(lambda w: population_vector_field(p, w), v)
    J = homogeneous_jacobian(p, fp)
    assert np.allclose(J, J_fd, rtol=1e-6, atol=1e-7 * np.abs(J).max())
    ev_fd = np.sort_complex(np.linalg.eigvals(J_fd))
    ev = np.sort_complex(homogeneous_eigenvalues(p))
    assert np.allclose(ev, ev_fd, atol=1e-6 * np.abs(ev).max())


def test_fixed_point_branch_matches_full_solver():
    p = ModelParams(N=2000, J0=0.1, I0=0.3)
    J0s = np.linspace(0.1, 2.0, 7)
    for J0, fp in zip(J0s, fixed_point_branch(p, J0s)):
        ref = homogeneous_fixed_point(p.replace(J0=float(J0)))
        assert abs(fp.nu_E - ref.nu_E) < 1e-10 and abs(fp.h_I - ref.h_I) < 1e-10


@pytest.mark.parametrize("where", ["fixed_point", "random_state"])
def test_sparse_jacobian_matches_finite_difference(where):
    """J v against a central difference of the network vector field, relative error < 1e-6."""
    p = ModelParams(N=400, J0=0.9)
    net = build_network(p, 3)
    gen = np.random.default_rng(0)
    y = homogeneous_fixed_point(p).state(p)
    if where == "random_state":  # a generic state: heterogeneous h and x
        y[: p.N] += 0.5 * gen.standard_normal(p.N)
        y[p.N:] = gen.uniform(0.1, 1.0, p.N_E)
    blocks = jacobian_blocks(p, net, y)
    for _ in range(3):
        v = gen.standard_normal(p.dim)
        eps = 1e-5
        fd = (network_vector_field(p, net, y + eps * v)
              - network_vector_field(p, net, y - eps * v)) / (2 * eps)
        for Jv in (blocks.matvec(v), network_jacobian(p, net, y) @ v, blocks.operator() @ v):
            assert np.linalg.norm(Jv - fd) / np.linalg.norm(fd) < 1e-6


def test_jacobian_rejects_mismatched_network():
    p = ModelParams(N=400, J0=0.9)
    net = build_network(ModelParams(N=200, J0=0.9), 1)
    with pytest.raises(ValueError, match="network"):
        jacobian_blocks(p, net)
    with pytest.raises(ValueError, match="y: wrong shape"):
        jacobian_blocks(p, build_network(p, 1), np.zeros(5))


@pytest.mark.parametrize("N,J0,seed", [(400, 0.9, 1), (600, 0.85, 3),
                                         pytest.param(1000, 0.82, 2, marks=pytest.mark.slow)])
def test_shift_invert_agrees_with_dense_eig(N, J0, seed):
    """Every shift-invert eigenvalue is a dense eigenvalue, and the dense eigenvalues to the
    right of the depression cluster (Re > -0.08) and within reach of the default targets
    (|Im| < 0.45) are all found."""
    p = ModelParams(N=N, J0=J0)
    blocks = jacobian_blocks(p, build_network(p, seed))
    dense = dense_eigenvalues(blocks)
    si = rightmost_eigenvalues(blocks, method="shift_invert")
    dist = np.abs(si[:, None] - dense[None, :]).min(axis=1)
    assert dist.max() < 1e-7
    wanted = dense[(dense.real > -0.08) & (np.abs(dense.imag) < 0.45)]
    assert wanted.size >= 1
    for lam in wanted:
        assert np.abs(si - lam).min() < 1e-7
    # the rightmost eigenvalue itself (up to its conjugate)
    assert abs(si[0].real - dense[0].real) < 1e-7
    assert abs(abs(si[0].imag) - abs(dense[0].imag)) < 1e-7


def test_shift_invert_near_target():
    p = ModelParams(N=300, J0=1.0)
    blocks = jacobian_blocks(p, build_network(p, 2))
    dense = dense_eigenvalues(blocks)
    sigma = -0.3 + 0.4j
    near = shift_invert_eigenvalues(blocks, sigma, k=3)
    closest = dense[np.argsort(np.abs(dense - sigma))[:3]]
    for lam in closest:
        assert np.abs(near - lam).min() < 1e-7


def test_find_jfp_brackets_a_crossing_and_agrees_between_solvers():
    p = ModelParams(N=200, J0=1.0)
    net = build_network(p, 1)
    kw = dict(J0_start=0.9, J0_range=(0.4, 1.6), step=0.1, tol=4e-3)
    r_dense = find_jfp(p, net, method="dense", **kw)
    r_si = find_jfp(p, net, method="shift_invert", **kw)
    assert r_dense.crossing in ("hopf", "real")
    assert r_dense.J0_hi - r_dense.J0_lo <= 4e-3
    # independent check with dense eig at the two ends of the bracket
    lo = dense_eigenvalues(jacobian_blocks(p.replace(J0=r_dense.J0_lo), net))
    hi = dense_eigenvalues(jacobian_blocks(p.replace(J0=r_dense.J0_hi), net))
    assert lo[0].real < 0 <= hi[0].real
    assert (abs(hi[0].imag) > 1e-6) == (r_dense.crossing == "hopf")
    assert abs(r_si.J_FP - r_dense.J_FP) <= 4e-3 and r_si.crossing == r_dense.crossing
    if r_dense.crossing == "hopf":
        assert abs(r_dense.frequency - abs(hi[0].imag)) < 1e-9


def test_find_jfp_reports_none_and_bad_input():
    p = ModelParams(N=200, J0=0.3)
    net = build_network(p, 1)
    r = find_jfp(p, net, J0_start=0.3, J0_range=(0.2, 0.4), step=0.1, tol=0.01)
    assert r.crossing == "none" and np.isnan(r.J_FP)
    with pytest.raises(ValueError, match="tol"):
        find_jfp(p, net, J0_start=0.3, step=0.01, tol=0.05)
    with pytest.raises(ValueError, match="J0_start"):
        find_jfp(p, net, J0_start=3.0, J0_range=(0.2, 2.0))
    with pytest.raises(ValueError, match="method"):
        rightmost_eigenvalues(jacobian_blocks(p, net), method="lr")


def test_gain_limits_and_schur_complement():
    """Gamma(0) = x^2, Gamma(inf) -> x, and the E->E entries of the Schur complement of
    (J - sigma) are exactly Jc g_EE phi'_E Gamma(sigma) (eliminating dx by hand)."""
    p = ModelParams(N=300, J0=0.9)
    fp = homogeneous_fixed_point(p)
    assert abs(gain(p, fp, 0.0) - fp.x ** 2) < 1e-14
    assert abs(gain(p, fp, 1e9) - fp.x) < 1e-8
    net = build_network(p, 1)
    blocks = jacobian_blocks(p, net)
    from stdnet.model.transfer import dphi

    for sigma in (0.0, 0.1 + 0.3j):
        S = blocks.schur(sigma)
        i = 0
        j = int(net.pre_E[i, 0])
        expected = p.coupling * p.g_EE * dphi(p.transfer, fp.h_E) * gain(p, fp, sigma)
        assert abs(S[i, j] - expected) < 1e-12


def _random_part(p, seed):
    """D^{-1} W(0) with its block means removed (the rank-2 homogeneous part)."""
    blocks = jacobian_blocks(p, build_network(p, seed))
    W = blocks.schur(0.0) + np.eye(p.N)  # tau = 1
    NE = p.N_E
    for rs in (slice(0, NE), slice(NE, p.N)):
        for cs in (slice(0, NE), slice(NE, p.N)):
            W[rs, cs] -= W[rs, cs].mean(axis=1, keepdims=True)
    return W


def test_variance_profile_matches_jacobian_rows():
    """V(0) is the row variance sum of each block of the eliminated Jacobian W(0) (exact for
    fixed in-degree: every row of a block holds K_b equal nonzeros among N_b entries)."""
    p = ModelParams(N=400, J0=1.0)
    fp = homogeneous_fixed_point(p)
    W = _random_part(p, 2)
    NE = p.N_E
    V = variance_matrix(p, fp, 0.0)
    for a, rs in enumerate((slice(0, NE), slice(NE, p.N))):
        for b, (cs, n) in enumerate(((slice(0, NE), p.N_E), (slice(NE, p.N), p.N_I))):
            # unbiased variance over the N_b columns, summed: matches K w^2 (N_b - K)/(N_b - 1)
            rowsum = (W[rs, cs] ** 2).sum(axis=1) * n / (n - 1)
            assert np.allclose(rowsum, V[a, b], rtol=1e-10)


def test_bulk_radius_matches_random_matrix():
    """The variance-profile radius sqrt(rho(V)) against the measured spectral radius of the
    random part of W(0) (N = 1000, one draw). The circular-law edge of a finite matrix
    fluctuates by O(N^-1/2) and outliers stick out a little: tolerance 10 %."""
    p = ModelParams(N=1000, J0=1.0)
    fp = homogeneous_fixed_point(p)
    radius = np.abs(np.linalg.eigvals(_random_part(p, 4))).max()
    predicted = np.sqrt(bulk_indicator(p, fp, 0.0))
    assert abs(radius / predicted - 1) < 0.10
    assert np.isclose(bulk_indicator(p, fp, 0.0),
                      np.linalg.eigvals(variance_matrix(p, fp, 0.0)).real.max())


def test_bulk_edge_predicts_rightmost_eigenvalue():
    """Above the transition (N = 1000, J0 = 1.0) the theory's edge, Re = 0.160, against the
    rightmost eigenvalue of 2 realizations (shift-invert targets just right of the
    predicted edge). Finite-N rightmost eigenvalues stick out beyond the N -> infinity edge
    (the random part's radius is 2-8 % above sqrt(rho(V)) at this N, i.e. 0.02-0.09 in
    Re lambda): each within 0.1, their mean within 0.08."""
    p = ModelParams(N=1000, J0=1.0)
    edge, _ = bulk_edge(p)
    assert 0.1 < edge < 0.25
    targets = (edge + 0.02, edge + 0.02 + 0.3j)
    lam = [rightmost_eigenvalues(jacobian_blocks(p, build_network(p, seed)), targets=targets,
                                 method="shift_invert")[0].real for seed in (1, 2)]
    assert max(abs(v - edge) for v in lam) < 0.1
    assert abs(np.mean(lam) - edge) < 0.08


def test_polish_fixed_point_recovers_homogeneous_state():
    p = ModelParams(N=300, J0=0.5)
    net = build_network(p, 1)
    y_fp = homogeneous_fixed_point(p).state(p)
    y0 = y_fp + 1e-3 * np.random.default_rng(1).standard_normal(p.dim)
    y, res = polish_fixed_point(p, net, y0)
    assert res < 1e-10 and np.abs(y - y_fp).max() < 1e-9


def test_targets_right_of_edge():
    from stdnet.theory.bulk import EDGE_MARGIN, targets_right_of_edge

    tg = targets_right_of_edge([0.02, 0.02 + 0.3j, 0.5 + 0.1j], edge=0.1)
    assert tg == (complex(0.1 + EDGE_MARGIN, 0.0), complex(0.1 + EDGE_MARGIN, 0.3), 0.5 + 0.1j)


def test_homogeneous_modes_tables():
    from stdnet.stability.scan import homogeneous_modes

    p = ModelParams(N=1000, J0=0.5)
    curves, hmap = homogeneous_modes(p, [1000, 4000], (0.0, 2.0), 5, (0.0, 1.0), 3, 2000)
    assert len(curves) == 2 * 4 and (curves.J0 > 0).all()  # J0 = 0 dropped
    assert len(hmap) == 3 * 4 and set(hmap.N) == {2000}
    r = hmap.iloc[-1]
    ev = homogeneous_eigenvalues(p.replace(N=2000, J0=float(r.J0), I0=float(r.I0)))
    assert abs(r.lam0_re - ev[0].real) < 1e-9 and abs(r.lam0_im - ev[0].imag) < 1e-9


def test_jfp_and_spectrum_files_make_their_tables(tmp_path):
    """search_realization -> jfp.h5 -> tables/jfp.csv, and fixed_j0_spectra -> spectrum.h5
    -> tables/spectrum_edge.csv, for one small realization (dense eig)."""
    from stdnet.stability.edge_check import fixed_j0_spectra, spectrum_table, write_spectrum_file
    from stdnet.stability.eigenfile import JFP_TABLE_COLUMNS, jfp_table, read_eigen_file, write_jfp_file
    from stdnet.files.errors import InputError
    from stdnet.stability.jfp import search_realization

    p = ModelParams(N=200, J0=0.4)
    kw = dict(J0_range=(0.4, 1.6), J0_start=None, step=0.1, tol=0.02, method="auto",
              targets_re=0.02, targets_im=[0.0, 0.3], k=4, maxiter=30, dense_max_N=300,
              freq_tol=1e-6)
    res, attrs = search_realization(p, 1, **kw)
    assert attrs["method"] == "dense" and attrs["J_FP"] == res.J_FP
    assert res.J0_lo < attrs["J_FP"] < res.J0_hi
    write_jfp_file(tmp_path / "jfp.h5", p, 1, res, attrs)
    f = read_eigen_file(tmp_path / "jfp.h5")
    assert f["evaluations"].shape == (len(res.evaluations), 3)
    table = jfp_table([tmp_path / "jfp.h5"])
    assert list(table.columns) == JFP_TABLE_COLUMNS and table.J_FP.iloc[0] == res.J_FP
    with pytest.raises(InputError, match="J0_range"):
        search_realization(p, 1, **{**kw, "J0_range": (1.6, 0.4)})
    with pytest.raises(InputError, match="tol"):
        search_realization(p, 1, **{**kw, "tol": 0.2})
    attrs, spectra = fixed_j0_spectra(p, 1, [0.9, 1.1], [0.02, 0.02 + 0.3j])
    write_spectrum_file(tmp_path / "spectrum.h5", p, 1, attrs, spectra)
    assert read_eigen_file(tmp_path / "spectrum.h5")["params"]["J0"] == 1.1
    spec = spectrum_table([tmp_path / "spectrum.h5"])
    assert list(spec.J0) == [0.9, 1.1] and np.allclose(spec.lam_re, [spectra[0.9][0].real,
                                                                     spectra[1.1][0].real])
    # no J_FP size small enough for the dense spectra: a table with its columns and no rows,
    # which the figure reads back (an empty CSV, as before, failed rule stability_jfp)
    from stdnet.files.tables import read_table, write_table

    write_table(spectrum_table([]), tmp_path / "spectrum_edge.csv")
    assert list(read_table(tmp_path / "spectrum_edge.csv").columns) == list(spec.columns)


def test_bulk_edge_curves_follow_bulk_edge():
    from stdnet.theory.bulk import bulk_edge_curves

    p = ModelParams(N=400, J0=1.0)
    c = bulk_edge_curves(p, [400, 800], (0.6, 1.2), n_J0=3)
    assert len(c) == 6 and list(c.columns) == ["N", "J0", "edge_re", "edge_im"]
    assert c.edge_re.iloc[-1] == pytest.approx(bulk_edge(p.replace(N=800, J0=1.2))[0], abs=1e-10)


def test_routes_file_reads_back(tmp_path):
    from stdnet.stability.routes import read_routes, write_routes

    gen = np.random.default_rng(1)
    cases = [{"kind": "real", "seed": 2, "J_FP": 0.9, "J_lo": 0.87, "J_hi": 0.93, "n_E": 2,
              "ev_lo": gen.standard_normal(5) + 1j, "ev_hi": gen.standard_normal(5) - 1j,
              "t": np.arange(4.0), "nu": gen.random((4, 3))}]
    write_routes(tmp_path / "routes.h5", cases, {"N": 200, "dJ": 0.03})
    back = read_routes(tmp_path / "routes.h5")
    assert len(back) == 1 and back[0].keys() == cases[0].keys()
    for k, v in cases[0].items():
        assert np.array_equal(back[0][k], v)
