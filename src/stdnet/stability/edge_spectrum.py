"""Rightmost eigenvalues of the homogeneous-fixed-point Jacobian without dense matrices.

At the homogeneous fixed point every neuron of a population has the same input h,
rate nu, slope phi' and efficacy x, so the Jacobian (stdnet.stability.spectrum, docs/model.md
section 3) of y = (h, x) is fixed by the index rows of the Network and a handful
of scalars:

    (J v)_i     = -v_i / tau_E + sum_{j in pre_E(i)} (w_EE v_j + b v_{N+j})
                  + w_EI sum_{j in pre_I(i)} v_j                        (E rows i)
    (J v)_i     = -v_i / tau_I + w_IE sum_{j in pre_E(i)} v_j
                  + w_II sum_{j in pre_I(i)} v_j                        (I rows i)
    (J v)_{N+j} = q v_j + d v_{N+j}                                     (E neurons j)

(the depressed E->E synapse also feels the efficacy x_j, hence b). A
matrix-vector product is one pass over the index rows (`_jacobian_rows`,
numba, rows in parallel, each row summed in the fixed order of
stdnet.kernels.cpu.row_sum, so the result does not depend on the thread count).
Memory is the pattern (~N (K_E + K_I) uint16) plus the Krylov basis; nothing of
size N x N is ever formed.

Eigen-solver: Krylov-Schur (Stewart 2002) for the eigenvalues of largest real part,
on the full linear (N + N_E)-dimensional Jacobian, with two twists:

- deflation of the homogeneous modes. With fixed in-degree every row of a block has
  the same sum, so U = span{1_E, 1_I, 1_x} (population-uniform h_E, h_I and x) is
  exactly invariant under J; its 3 eigenvalues are the homogeneous modes
  (theory.homogeneous.homogeneous_eigenvalues), one of them far left at large N (-15 at
  N = 1e4, growing like sqrt(K)). We work on Q J Q with Q the orthogonal projector
  onto the complement of U (subtract the population means), whose spectrum on
  range(Q) is that of J minus those 3 modes: this shrinks the spread of the spectrum
  that the Krylov polynomial must damp.
- the depression cluster. N_E eigenvalues sit within ~0.01 of
  d = -(1/tau_D + u nu_E) (the efficacy modes), right next to the edge of the bulk
  when the network is near its instability. ARPACK must converge all k wanted
  eigenvalues, and when the k-th one falls into the cluster it crawls (measured:
  N = 1000, k = 8: no convergence in 5000 restarts). Here Ritz values inside the
  disc |theta - d| < cluster_radius (default 0.3 |d|, which lies in Re < 0.7 d < 0:
  nothing there can ever cross the imaginary axis) are neither wanted nor kept at a
  restart: they serve as filter shifts, and the k rightmost eigenvalues outside the
  disc are converged.

The convergence test is on the absolute residual ||J x - theta x|| (unit Ritz vectors)
scaled by max(1, max |theta|): ARPACK's relative test ||r|| <= tol |theta| becomes
needlessly strict exactly where we look, at eigenvalues near zero.

Why not the alternatives. Eliminating dx gives an N-dimensional nonlinear problem
(1 + tau lambda) dh = W(lambda) dh, nonlinear through Gamma(lambda) on the E->E block
(stdnet.theory.bulk). It has no cluster, but at fixed Gamma ARPACK needed as many products
as on the full linear problem (N = 1e4: 588 vs 550 for the rightmost eigenvalue at
tol 1e-8), and the outer iteration on lambda (complex Gamma for Hopf crossings, a
pole at -a where dGamma/dlambda ~ 8) would multiply that; so the linear problem it
is. Shift-invert needs (J - sigma)^{-1}, i.e. inner iterative solves that converge
as slowly as Arnoldi itself near the edge.

(Just over 400 lines, kept whole: the matrix-free operator, its deflation and the
Krylov-Schur solver with the cluster exclusion are written for each other.)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from numba import njit, prange
from scipy.linalg.lapack import dtrsen

from stdnet.kernels.cpu import packed_rows, packing_pays, row_sum
from stdnet.model.network import Network
from stdnet.model.params import ModelParams
from stdnet.model.transfer import dphi
from stdnet.theory.meanfield import homogeneous_fixed_point

log = logging.getLogger("stdnet.stability.edge_spectrum")


# ---- the matrix-free Jacobian ------------------------------------------------------------


@njit(cache=True, parallel=True)
def _jacobian_rows(pre_E, pre_I, N_E, src_EE, src_E, src_I, v, diag_E, diag_I,
                   c_EI, c_IE, c_II, out):
    """The h rows of J v: out_i = diag_a v_i + (E sum) + c_aI (I sum).

    E rows gather src_EE (already weighted: w_EE v_h + b v_x), I rows c_IE * src_E;
    both gather src_I. Each row's sums use row_sum's fixed order (thread-count
    independent); index rows may be packed (kernels.cpu.packed_rows).
    """
    N = pre_E.shape[0]
    for i in prange(N):
        inh = row_sum(src_I, pre_I[i])
        if i < N_E:
            out[i] = diag_E * v[i] + row_sum(src_EE, pre_E[i]) + c_EI * inh
        else:
            out[i] = diag_I * v[i] + c_IE * row_sum(src_E, pre_E[i]) + c_II * inh


@dataclass
class HomogeneousJacobian:
    """J at the homogeneous fixed point of one realization, as index rows + 9 scalars."""

    pre_E: np.ndarray  # index rows, packed four to a word where that pays
    pre_I: np.ndarray
    N: int
    N_E: int
    K_E: int
    K_I: int
    w_EE: float  # dh_E / dh_E per synapse: g_EE Jc phi'_E x / tau_E
    w_EI: float  # dh_E / dh_I: -g_EI Jc phi'_I / tau_E
    w_IE: float  # dh_I / dh_E: g_IE Jc phi'_E / tau_I
    w_II: float  # dh_I / dh_I: -g_II Jc phi'_I / tau_I
    b: float  # dh_E / dx_E per synapse: g_EE Jc nu_E / tau_E
    q: float  # dx / dh (own neuron): -u x phi'_E
    d: float  # dx / dx: -(1/tau_D + u nu_E), the centre of the depression cluster
    diag_E: float  # -1/tau_E
    diag_I: float  # -1/tau_I

    @classmethod
    def build(cls, params: ModelParams, net: Network) -> "HomogeneousJacobian":
        p = params
        net.require_homogeneous("the homogeneous-point edge spectrum")
        if net.N != p.N or net.N_E != p.N_E or net.K_E != p.K_E or net.K_I != p.K_I:
            raise ValueError(f"network: shape (N={net.N}, N_E={net.N_E}, K_E={net.K_E}, "
                             f"K_I={net.K_I}) does not match params (N={p.N}, N_E={p.N_E}, "
                             f"K_E={p.K_E}, K_I={p.K_I})")
        fp = homogeneous_fixed_point(p)
        dE, dI = dphi(p.transfer, fp.h_E), dphi(p.transfer, fp.h_I)
        Jc = p.coupling
        pre_E, pre_I = net.pre_E, net.pre_I
        if packing_pays(p.N_E):  # same bits either way (kernels.cpu.row_sum)
            pre_E, pre_I = packed_rows(pre_E), packed_rows(pre_I)
        return cls(pre_E=pre_E, pre_I=pre_I, N=p.N, N_E=p.N_E, K_E=p.K_E, K_I=p.K_I,
                   w_EE=p.g_EE * Jc * dE * fp.x / p.tau_E,
                   w_EI=-p.g_EI * Jc * dI / p.tau_E,
                   w_IE=p.g_IE * Jc * dE / p.tau_I,
                   w_II=-p.g_II * Jc * dI / p.tau_I,
                   b=p.g_EE * Jc * fp.nu_E / p.tau_E,
                   q=-p.u * fp.x * dE,
                   d=-1.0 / p.tau_D - p.u * fp.nu_E,
                   diag_E=-1.0 / p.tau_E, diag_I=-1.0 / p.tau_I)

    @property
    def dim(self) -> int:
        return self.N + self.N_E

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """J v for a real vector of length N + N_E."""
        v = np.ascontiguousarray(v, dtype=np.float64)
        if v.shape != (self.dim,):
            raise ValueError(f"v: wrong shape {v.shape}; allowed: ({self.dim},)")
        N, N_E = self.N, self.N_E
        h, x = v[:N], v[N:]
        out = np.empty(self.dim)
        src_EE = self.w_EE * h[:N_E] + self.b * x
        _jacobian_rows(self.pre_E, self.pre_I, N_E, src_EE, h[:N_E], h[N_E:], h,
                       self.diag_E, self.diag_I, self.w_EI, self.w_IE, self.w_II, out[:N])
        out[N:] = self.q * h[:N_E] + self.d * x
        return out

    # ---- the invariant subspace of homogeneous modes ----

    def _blocks(self):
        N, N_E = self.N, self.N_E
        return (slice(0, N_E), slice(N_E, N), slice(N, N + N_E))

    def deflate(self, v: np.ndarray) -> np.ndarray:
        """Q v: v minus its population means (h_E, h_I and x separately), in place."""
        for s in self._blocks():
            v[s] -= v[s].mean()
        return v

    def deflated_matvec(self, v: np.ndarray) -> np.ndarray:
        """Q J Q v: J on the complement of the homogeneous modes."""
        return self.deflate(self.matvec(self.deflate(np.array(v, dtype=np.float64))))

    def homogeneous_block(self) -> np.ndarray:
        """The 3x3 matrix of J on U in the basis (1_E, 1_I, 1_x) (the homogeneous modes)."""
        K_E, K_I = self.K_E, self.K_I
        return np.array([[self.diag_E + self.w_EE * K_E, self.w_EI * K_I, self.b * K_E],
                         [self.w_IE * K_E, self.diag_I + self.w_II * K_I, 0.0],
                         [self.q, 0.0, self.d]])

    def lift(self, lam: complex, w: np.ndarray) -> np.ndarray:
        """The eigenvector of J for an eigenpair (lam, w) of Q J Q (w orthogonal to U).

        J w = lam w + U c' with U c' the population means of J w; then x = w + U a
        with (lam - A) a = c' (A the homogeneous block) is an eigenvector of J.
        """
        w = np.asarray(w, dtype=complex)
        Jw = self.matvec(w.real) + 1j * self.matvec(w.imag)
        means = np.array([Jw[s].mean() for s in self._blocks()])
        a = np.linalg.solve(lam * np.eye(3) - self.homogeneous_block(), means)
        x = w.copy()
        for s, ak in zip(self._blocks(), a):
            x[s] += ak
        return x / np.linalg.norm(x)


# ---- Krylov-Schur for the rightmost eigenvalues ------------------------------------------


@dataclass
class EdgeSpectrum:
    """Rightmost eigenvalues of J (outside the depression cluster) and what it took."""

    values: np.ndarray  # sorted by decreasing real part (conjugate pairs both present);
    # none from the depression cluster's disc (whose eigenvalues have Re ~ d < 0)
    vectors: np.ndarray  # (dim, k) unit Ritz vectors of Q J Q (orthogonal to U)
    residuals: np.ndarray  # ||Q J Q x - theta x|| of each
    converged: bool
    matvecs: int
    restarts: int
    cluster_centre: float
    cluster_radius: float

    @property
    def leading(self) -> complex:
        return complex(self.values[0])

    def warm_start(self) -> np.ndarray:
        """A real start vector for a nearby problem: the sum of the unit real and imaginary
        parts of the Ritz vectors (one of each conjugate pair: the other one's parts are
        the same up to sign), so that each eigen-direction found has weight ~1."""
        v = np.zeros(self.vectors.shape[0])
        for lam, x in zip(self.values, self.vectors.T):
            if lam.imag < 0:
                continue
            for part in (x.real, x.imag):
                n = np.linalg.norm(part)
                if n > 1e-8:
                    v += part / n
        return v


def _complete_pairs(order, theta, count):
    """The first `count` indices of `order`, extended so that no conjugate pair is split."""
    if count >= len(order):
        return list(order)
    chosen = list(order[:count])
    last = theta[order[count - 1]]
    if abs(last.imag) > 0 and abs(theta[order[count]] - np.conj(last)) <= 1e-8 * max(
            1.0, abs(last)):
        chosen.append(order[count])
    return chosen


def krylov_basis_size(k: int, m: int, n: int) -> int:
    """The basis krylov_schur builds for k wanted eigenvalues of an operator of dimension n
    (m asked for): room for the kept Ritz vectors plus new directions at every restart.
    ValueError naming k where n leaves no such room."""
    if k < 1:
        raise ValueError(f"k: invalid value {k}; allowed: an integer >= 1")
    size = int(min(max(m, 2 * k + 4), n - 1))
    if size < k + 4:
        raise ValueError(f"k: {k} too large for an operator of dimension {n}; "
                         f"allowed: k <= {n - 5}")
    return size


def krylov_schur(matvec, v0: np.ndarray, k: int = 6, m: int = 60, tol: float = 1e-9,
                 max_matvecs: int = 20000, exclude=None, project=None):
    """Eigenvalues of largest real part of a real operator by Krylov-Schur.

    matvec: x -> A x (real); v0: start vector; k: eigenvalues wanted (a conjugate pair is
    not split, so up to k + 1 come back); m: basis size; exclude(theta) -> bool array:
    Ritz values that are neither wanted nor kept (used as filter shifts); project: applied
    to every new basis vector (keeps the basis in an invariant subspace against rounding).

    Converged when each wanted Ritz pair has ||A x - theta x|| <= tol * max(1, max|theta|).
    Returns (theta, X, residuals, converged, matvecs, restarts).
    """
    n = v0.shape[0]
    m = krylov_basis_size(k, m, n)
    project = project or (lambda x: x)
    exclude = exclude or (lambda th: np.zeros(th.shape, dtype=bool))
    rng = np.random.default_rng(12345)
    V = np.empty((m + 1, n))
    H = np.zeros((m + 1, m))
    v = project(np.array(v0, dtype=np.float64))
    V[0] = v / np.linalg.norm(v)
    p, n_mv, restarts = 0, 0, 0
    while True:
        for j in range(p, m):
            w = project(matvec(V[j]))
            n_mv += 1
            H[: j + 1, j], H[j + 1, j], V[j + 1] = _orthonormalise(V[: j + 1], w, rng, project)
        theta, Y = sla.eig(H[:m, :m])
        res = np.abs(H[m] @ Y)
        scale = max(1.0, float(np.abs(theta).max()))
        out = exclude(theta)
        order = [i for i in np.argsort(-theta.real, kind="stable") if not out[i]]
        wanted = _complete_pairs(order, theta, k)
        done = bool(wanted) and bool(np.all(res[wanted] <= tol * scale))
        if done or n_mv >= max_matvecs:
            X = V[:m].T @ Y[:, wanted]
            return theta[wanted], X, res[wanted], done, n_mv, restarts
        p = _restart(V, H, m, theta, order, k, exclude)
        restarts += 1


def _orthonormalise(B, w, rng, project):
    """Gram-Schmidt of w against the rows of B, twice (enough for full working accuracy);
    returns (coefficients, norm, unit vector). On breakdown (an invariant subspace) a new
    random direction is returned with norm 0, so the decomposition stays exact."""
    h = B @ w
    w = w - h @ B
    h2 = B @ w
    w -= h2 @ B
    h += h2
    # near convergence w is almost in span(B) and its rounding errors, U included, are
    # amplified by the normalisation: project again
    w = project(w)
    beta = float(np.linalg.norm(w))
    if beta > 1e-12 * max(1.0, float(np.linalg.norm(h))):
        return h, beta, w / beta
    for _ in range(3):
        r = project(rng.standard_normal(B.shape[1]))
        r -= (B @ r) @ B
        r -= (B @ r) @ B
        nr = np.linalg.norm(r)
        if nr > 1e-8:
            return h, 0.0, r / nr
    raise RuntimeError("Krylov-Schur: no new direction outside the basis "
                       "(the operator's range is exhausted)")


def _restart(V, H, m, theta, order, k, exclude):
    """Keep the rightmost (m + k) // 2 non-excluded Ritz values (a sorted real Schur form
    of the Rayleigh matrix); the others become filter shifts. Returns the kept count p."""
    keep = _complete_pairs(order, theta, max(k + 2, (m + k) // 2))
    if not keep:  # every Ritz value is excluded: go on from the residual direction alone
        V[0] = V[m]
        H[:] = 0.0
        return 0
    T, Z = sla.schur(H[:m, :m], output="real")
    # select on T's own eigenvalues (eig and Schur round differently): the kept ones are
    # those not excluded and at least as far right as the last one kept
    diag = _diagonal_eigenvalues(T)
    cutoff = theta[keep].real.min() - 1e-10 * max(1.0, float(np.abs(theta).max()))
    select = ((diag.real >= cutoff) & ~exclude(diag)).astype(np.int32)
    Ts, Zs, _, _, p, _, _, info = dtrsen(select, T, Z, job="N")
    if info != 0 or p < 1:
        raise RuntimeError(f"Krylov-Schur restart: reordering the Schur form failed "
                           f"(LAPACK dtrsen info={info}, kept {p})")
    b = H[m, :m] @ Zs[:, :p]  # residual row of the truncated decomposition
    V[:p] = Zs[:, :p].T @ V[:m]
    V[p] = V[m]
    H[:] = 0.0
    H[:p, :p] = Ts[:p, :p]
    H[p, :p] = b
    return p


def _diagonal_eigenvalues(T):
    """The eigenvalue at each diagonal position of a real quasi-triangular T (a 2x2 block
    gives its pair to both positions)."""
    m = T.shape[0]
    out = np.empty(m, dtype=complex)
    i = 0
    while i < m:
        if i + 1 < m and T[i + 1, i] != 0.0:
            a, bb, c, dd = T[i, i], T[i, i + 1], T[i + 1, i], T[i + 1, i + 1]
            tr, det = 0.5 * (a + dd), a * dd - bb * c
            disc = np.sqrt(complex(tr * tr - det))
            out[i], out[i + 1] = tr + disc, tr - disc
            i += 2
        else:
            out[i] = T[i, i]
            i += 1
    return out


# ---- the rightmost eigenvalues of one realization --------------------------------------------

#: default Krylov basis size: 60 vectors of N + N_E doubles (35 MB at N = 4e4)
KRYLOV_DIM = 60


def cluster_exclusion(J: HomogeneousJacobian, radius: float | None = None):
    """(centre, radius, exclude): the disc of depression modes around d; default radius
    0.3 |d|, so the disc stays in Re < 0.7 d < 0."""
    r = 0.3 * abs(J.d) if radius is None else float(radius)
    if not 0 <= r < abs(J.d):
        raise ValueError(f"cluster_radius: {radius}; allowed: 0 <= radius < |d| = "
                         f"{abs(J.d):.4g} (the disc must stay left of the imaginary axis)")
    return J.d, r, lambda theta: np.abs(np.asarray(theta) - J.d) < r


def edge_eigenvalues(params: ModelParams, net: Network, k: int = 6, v0=None,
                     tol: float = 1e-9, m: int = KRYLOV_DIM, max_matvecs: int = 30000,
                     cluster_radius: float | None = None, seed: int = 0) -> EdgeSpectrum:
    """The k rightmost eigenvalues of the Jacobian at the homogeneous fixed point, outside
    the depression cluster and the 3 homogeneous modes (see the module docstring).

    v0: start vector (e.g. EdgeSpectrum.warm_start() of a nearby J0); None = random
    (from `seed`). A warm start is mixed with 1 % of a random vector, so that no
    eigen-direction is missing from the Krylov space.
    """
    J = HomogeneousJacobian.build(params, net)
    centre, radius, exclude = cluster_exclusion(J, cluster_radius)
    gen = np.random.default_rng(seed)
    start = J.deflate(gen.standard_normal(J.dim))
    start /= np.linalg.norm(start)
    if v0 is not None:
        v0 = np.array(v0, dtype=np.float64)
        nv = np.linalg.norm(J.deflate(v0)) if v0.shape == (J.dim,) else np.nan
        if not np.isfinite(nv) or nv == 0:
            raise ValueError(f"v0: needs {J.dim} finite values, not all in the homogeneous "
                             f"modes (got shape {v0.shape}, norm outside them {nv:.3g})")
        start = v0 / nv + 0.01 * start
    theta, X, res, ok, n_mv, restarts = krylov_schur(
        J.deflated_matvec, start, k=k, m=m, tol=tol, max_matvecs=max_matvecs,
        exclude=exclude, project=J.deflate)
    if theta.size == 0:
        raise RuntimeError(f"matrix-free eigenvalues (N={params.N}, J0={params.J0}): every "
                           f"Ritz value lies in the depression cluster's disc (|theta - "
                           f"{centre:.4g}| < {radius:.4g}); allowed: a smaller cluster_radius")
    order = np.argsort(-theta.real, kind="stable")
    if not ok:
        log.warning("matrix-free eigenvalues (N=%d, J0=%g): not converged after %d "
                    "products (largest residual %.2g, tol %.2g)", params.N, params.J0, n_mv,
                    res.max(), tol)
    return EdgeSpectrum(values=theta[order], vectors=X[:, order], residuals=res[order],
                        converged=ok, matvecs=n_mv, restarts=restarts,
                        cluster_centre=centre, cluster_radius=radius)
