"""Matrix-free rightmost eigenvalues of the homogeneous-FP Jacobian (stdnet.stability.edge_spectrum)
and the matrix-free J_FP search (jfp.find_jfp(method='matrix_free'))."""
import dataclasses

import numpy as np
import pytest

from stdnet.stability import jfp_matrix_free
from stdnet.stability.edge_spectrum import (
    HomogeneousJacobian,
    cluster_exclusion,
    edge_eigenvalues,
    krylov_schur,
)
from stdnet.kernels.cpu import packed_rows
from stdnet.stability.jfp import JFPResult, find_jfp, jfp_memory_mb, jfp_method
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.spectrum import dense_eigenvalues, jacobian_blocks
from stdnet.theory.homogeneous import homogeneous_eigenvalues


@pytest.fixture(scope="module")
def near_crossing():
    """N = 400 just below its J_FP: rightmost eigenvalues near zero, next to the cluster."""
    p = ModelParams(N=400, J0=0.88)
    return p, build_network(p, 1)


def _unit_vectors(J):
    N, N_E = J.N, J.N_E
    u = np.zeros((3, J.dim))
    u[0, :N_E], u[1, N_E:N], u[2, N:] = 1.0, 1.0, 1.0
    return u


@pytest.mark.parametrize("seed,J0", [(1, 0.88), (2, 1.3)])
def test_matvec_matches_sparse_jacobian(seed, J0):
    """J v from the index rows equals the scipy CSR Jacobian of stdnet.stability.spectrum to round-off,
    and packed index rows give the same bits."""
    p = ModelParams(N=400, J0=J0)
    net = build_network(p, seed)
    J = HomogeneousJacobian.build(p, net)
    blocks = jacobian_blocks(p, net)
    gen = np.random.default_rng(seed)
    for _ in range(3):
        v = gen.standard_normal(p.dim)
        ref = blocks.matvec(v)
        assert np.abs(J.matvec(v) - ref).max() <= 1e-13 * np.abs(ref).max()
    packed = dataclasses.replace(J, pre_E=packed_rows(net.pre_E), pre_I=packed_rows(net.pre_I))
    assert packed.pre_E.dtype == np.uint64  # K_E = 32, K_I = 8: packable
    assert np.array_equal(packed.matvec(v), J.matvec(v))


def test_homogeneous_subspace_is_invariant(near_crossing):
    """J maps the population-uniform vectors into their span (fixed in-degree), with the 3x3
    homogeneous-mode Jacobian as its matrix there; Q J Q annihilates that span."""
    p, net = near_crossing
    J = HomogeneousJacobian.build(p, net)
    U = _unit_vectors(J)
    A = J.homogeneous_block()
    for c, u in enumerate(U):
        Ju = J.matvec(u)
        assert np.abs(Ju - A[:, c] @ U).max() < 1e-12  # J u = sum_r A[r, c] u_r exactly
        assert np.abs(J.deflated_matvec(u)).max() < 1e-12
    assert np.allclose(np.sort_complex(np.linalg.eigvals(A)),
                       np.sort_complex(homogeneous_eigenvalues(p)), atol=1e-10)
    # and those 3 are eigenvalues of the full Jacobian
    dense = dense_eigenvalues(jacobian_blocks(p, net))
    for lam in homogeneous_eigenvalues(p):
        assert np.abs(dense - lam).min() < 1e-8


@pytest.mark.parametrize("N,J0,seed", [(400, 0.88, 1), (300, 0.95, 2), (400, 1.2, 3)])
def test_rightmost_eigenvalues_match_dense(N, J0, seed):
    """The k rightmost eigenvalues outside the depression cluster and the homogeneous modes
    agree with dense eig to 1e-8, and no such dense eigenvalue right of the k-th is missed."""
    p = ModelParams(N=N, J0=J0)
    net = build_network(p, seed)
    sp = edge_eigenvalues(p, net, k=6, tol=1e-11)
    assert sp.converged and np.all(np.diff(sp.values.real) <= 0)
    dense = dense_eigenvalues(jacobian_blocks(p, net))
    J = HomogeneousJacobian.build(p, net)
    _, _, exclude = cluster_exclusion(J)
    hom = homogeneous_eigenvalues(p)
    keep = ~exclude(dense) & (np.abs(dense[:, None] - hom[None, :]).min(axis=1) > 1e-8)
    wanted = dense[keep & (dense.real >= sp.values.real.min() - 1e-9)]
    assert len(wanted) == len(sp.values)
    for lam in sp.values:
        assert np.abs(wanted - lam).min() < 1e-8
    # the leading eigenvector, lifted out of the deflated space, is one of J
    x = J.lift(sp.leading, sp.vectors[:, 0])
    Jx = J.matvec(x.real) + 1j * J.matvec(x.imag)
    assert np.linalg.norm(Jx - sp.leading * x) < 1e-8


def test_warm_start_finds_the_same_eigenvalues(near_crossing):
    p, net = near_crossing
    cold = edge_eigenvalues(p, net, k=4, tol=1e-11)
    moved = p.replace(J0=p.J0 + 2e-3)
    ref = edge_eigenvalues(moved, net, k=4, tol=1e-11, seed=5)
    warm = edge_eigenvalues(moved, net, k=4, tol=1e-11, v0=cold.warm_start())
    assert np.allclose(warm.values, ref.values, atol=1e-9)
    assert warm.matvecs < ref.matvecs


def test_krylov_schur_on_a_known_spectrum():
    """A = Q T Q^T, T upper triangular with a known diagonal including a tight cluster near
    -0.1 that is excluded: the 5 rightmost eigenvalues outside it, to round-off."""
    gen = np.random.default_rng(3)
    n = 300
    diag = np.concatenate([[0.05, -0.02, -0.03], -0.1 + 1e-3 * gen.standard_normal(150),
                           -0.3 - gen.random(n - 153)])
    T = np.triu(0.2 / n * gen.standard_normal((n, n)), 1) + np.diag(diag)  # mildly non-normal
    Q, _ = np.linalg.qr(gen.standard_normal((n, n)))
    A = Q @ T @ Q.T
    exclude = lambda th: np.abs(th + 0.1) < 0.02  # noqa: E731
    theta, X, res, ok, n_mv, _ = krylov_schur(lambda v: A @ v, gen.standard_normal(n), k=5,
                                              m=40, tol=1e-12, exclude=exclude)
    expected = np.sort(diag[np.abs(diag + 0.1) >= 0.02])[::-1][:5]
    assert ok and np.allclose(np.sort(theta.real)[::-1], expected, atol=1e-10)
    assert np.abs(theta.imag).max() < 1e-10
    with pytest.raises(ValueError, match="k"):
        krylov_schur(lambda v: A @ v, np.ones(6), k=4)


def test_cluster_radius_and_bad_start(near_crossing):
    p, net = near_crossing
    J = HomogeneousJacobian.build(p, net)
    with pytest.raises(ValueError, match="cluster_radius"):
        cluster_exclusion(J, abs(J.d))
    with pytest.raises(ValueError, match="v0"):
        edge_eigenvalues(p, net, v0=np.ones(J.dim))  # all in the homogeneous modes
    with pytest.raises(ValueError, match="v0"):
        edge_eigenvalues(p, net, v0=np.ones(5))


@pytest.mark.parametrize("seed,crossing", [(1, "hopf"), (2, "real")])
def test_find_jfp_matrix_free_agrees_with_dense(seed, crossing):
    """N = 200: seed 1 loses stability by a Hopf, seed 2 by a real eigenvalue. The two
    brackets (width <= tol each) overlap, so |J_FP difference| <= tol; same kind and
    frequency; dense eig confirms the matrix-free bracket's ends."""
    p = ModelParams(N=200, J0=0.9)
    net = build_network(p, seed)
    kw = dict(J0_start=0.9, J0_range=(0.4, 1.6), step=0.05, tol=1e-3)
    mf = find_jfp(p, net, method="matrix_free", **kw)
    dn = find_jfp(p, net, method="dense", **kw)
    assert mf.crossing == dn.crossing == crossing
    assert mf.J0_hi - mf.J0_lo <= 1e-3
    assert max(mf.J0_lo, dn.J0_lo) < min(mf.J0_hi, dn.J0_hi)
    assert abs(mf.J_FP - dn.J_FP) <= 1e-3
    assert abs(mf.frequency - dn.frequency) < 1e-3
    lo = dense_eigenvalues(jacobian_blocks(p.replace(J0=mf.J0_lo), net))
    hi = dense_eigenvalues(jacobian_blocks(p.replace(J0=mf.J0_hi), net))
    assert lo[0].real < 0 <= hi[0].real
    assert abs(mf.lam_hi - hi[0]) < 1e-7 or abs(mf.lam_hi - np.conj(hi[0])) < 1e-7
    assert len(mf.evaluations) < len(dn.evaluations)
    assert set(mf.spectra) == {J0 for J0, _, _ in mf.evaluations}


class _TwoBranches:
    """A stand-in for the eigen-solver: branch A crosses at J0 = 1 (real), branch B at 0.97
    (frequency 0.2); the tracked (warm) solves miss B for J0 >= 0.99, full solves never do."""

    def __init__(self, params, net, res, k, eig_tol, krylov_dim):
        self.res, self.matvecs = res, 0

    def __call__(self, J0, cold=False):
        a, b = complex(J0 - 1.0, 0.0), complex(J0 - 0.97, 0.2)
        lam = b if (cold or J0 < 0.99) and b.real > a.real else a
        self.res.evaluations.append((J0, lam.real, abs(lam.imag)))
        self.res.spectra[J0] = np.array([lam])
        return lam


def test_find_jfp_restarts_below_a_missed_crossing(monkeypatch):
    monkeypatch.setattr(jfp_matrix_free, "_EdgeTracker", _TwoBranches)
    p = ModelParams(N=2000, J0=1.0)
    r = find_jfp(p, None, J0_start=1.05, J0_range=(0.4, 1.6), step=0.05, tol=1e-3,
                 method="matrix_free")
    assert isinstance(r, JFPResult)
    assert r.J0_lo < 0.97 <= r.J0_hi and r.J0_hi - r.J0_lo <= 1e-3
    assert r.crossing == "hopf" and r.frequency == pytest.approx(0.2)


def test_secant_refine_needs_few_evaluations():
    """The safeguarded secant closes a 0.05 bracket to 1e-4 in 3 evaluations on a smooth f
    (bisection: 9), and no worse than bisection on f with a kink (the rightmost branch
    changes, the secant is misled)."""
    for f, root, most in ((lambda J: 1.3 * (J - 0.8123) + 2 * (J - 0.8123) ** 2, 0.8123, 3),
                          (lambda J: max(J - 0.8123, 5 * (J - 0.8150)), 0.8123, 9)):
        calls = []

        def evaluate(J0, cold=False, f=f):
            calls.append(J0)
            return complex(f(J0), 0.0)

        lo, hi, _, _ = jfp_matrix_free.secant_refine(evaluate, 0.79, 0.84, evaluate(0.79),
                                                       evaluate(0.84), 1e-4)
        assert lo < root <= hi and hi - lo <= 1e-4
        assert len(calls) - 2 <= most


def test_method_choice_and_limits():
    assert jfp_method("auto", 200) == "dense"
    assert jfp_method("auto", 40000) == "matrix_free"
    assert jfp_method("shift_invert", 4000) == "shift_invert"
    with pytest.raises(ValueError, match=r"'shift_invert' is not allowed for N=5000.*4000"):
        jfp_method("shift_invert", 5000)
    with pytest.raises(ValueError, match=r"'dense' is not allowed for N=2000.*1500"):
        jfp_method("dense", 2000)
    with pytest.raises(ValueError, match="method: invalid value 'lr'; allowed: auto"):
        jfp_method("lr", 1000)
    with pytest.raises(ValueError, match="shift_invert"):  # refused before any work
        find_jfp(ModelParams(N=5000, J0=1.0), None, J0_start=1.0, method="shift_invert")
    big = ModelParams(N=40000, J0=1.0)
    assert jfp_memory_mb(big, "matrix_free") < 200  # vectors of N + N_E only
    assert jfp_memory_mb(ModelParams(N=4000, J0=1.0), "shift_invert") > 600


def test_config_key_stability_jfp_method():
    from pathlib import Path

    from stdnet.workflow.config import ConfigError, validate_config

    schema = Path(__file__).resolve().parents[1] / "config" / "schema"
    cfg = {"grid": {"N": [1000], "J0": [1.0], "seeds": [1]}}
    assert validate_config(cfg, schema)["stability"]["jfp"]["method"] == "auto"
    with pytest.raises(ConfigError, match=r"stability\.jfp\.method.*matrix_free"):
        validate_config({**cfg, "stability": {"jfp": {"method": "arpack"}}}, schema)
