"""Jacobian of one network realization and its rightmost eigenvalues (docs/model.md).

State y = (h (N), x (N_E)). The Jacobian has the block form

    J = [ J_hh  J_hx ]      J_hh: N x N sparse (the synaptic pattern, scaled by phi'),
        [ J_xh  D_x  ]      J_hx: E rows x E columns (x-dependence of the E->E input),
                            J_xh = [diag(q), 0], D_x diagonal,

with q_j = -u x_j phi'(h_j) and D_x = -1/tau_D - u nu_j. It is built from the
Network index arrays as a scipy CSR matrix (never dense).

Eigenvalues: at a stable fixed point the N_E depression modes form a dense
cluster near -(1/tau_D + u nu_E), so ARPACK's 'LR' mode crawls. We use a
shift-invert spectral transformation around targets near the imaginary axis
instead. Because D_x is diagonal, (J - sigma) is inverted through its N x N
Schur complement S(sigma) = J_hh - sigma - J_hx diag(1/(D_x - sigma)) J_xh,
factorised densely (N x N, not (N + N_E)^2).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from stdnet.kernels.cpu import network_vector_field
from stdnet.model.network import Network
from stdnet.model.params import ModelParams
from stdnet.model.transfer import dphi, phi
from stdnet.theory.meanfield import homogeneous_fixed_point

log = logging.getLogger("stdnet.stability.spectrum")

#: largest N for which a dense N x N factorisation (the Schur complement) is allowed
DENSE_N_MAX = 4000
#: largest N for a dense eig of the full (N + N_E)-dimensional Jacobian (dense_eigenvalues)
DENSE_EIG_N_MAX = 1500
#: rightmost_eigenvalues(method='auto') uses dense eig up to this N (the default dense_max_N)
AUTO_DENSE_N_MAX = 300


@dataclass
class JacobianBlocks:
    """The four blocks of the network Jacobian (see module docstring)."""

    hh: sp.csr_matrix  # (N, N)
    hx: sp.csr_matrix  # (N, N_E)
    q: np.ndarray  # (N_E,) diagonal of J_xh on the E columns
    d: np.ndarray  # (N_E,) diagonal of J_xx
    N: int
    N_E: int

    @property
    def dim(self) -> int:
        return self.N + self.N_E

    def matrix(self) -> sp.csr_matrix:
        """The full (N + N_E)-dimensional Jacobian as a sparse CSR matrix."""
        N, N_E = self.N, self.N_E
        xh = sp.csr_matrix((self.q, (np.arange(N_E), np.arange(N_E))), shape=(N_E, N))
        xx = sp.diags(self.d, format="csr")
        return sp.bmat([[self.hh, self.hx], [xh, xx]], format="csr")

    def matvec(self, v: np.ndarray) -> np.ndarray:
        N = self.N
        h, x = v[:N], v[N:]
        out = np.empty(self.dim, dtype=np.result_type(v, np.float64))
        out[:N] = self.hh @ h + self.hx @ x
        out[N:] = self.q * h[: self.N_E] + self.d * x
        return out

    def operator(self) -> spla.LinearOperator:
        """J as a LinearOperator (matrix-free use in Arnoldi)."""
        return spla.LinearOperator((self.dim, self.dim), matvec=self.matvec, dtype=np.float64)

    def schur(self, sigma: complex) -> np.ndarray:
        """Dense N x N Schur complement S(sigma) of (J - sigma I) on the h block."""
        if self.N > DENSE_N_MAX:
            raise ValueError(f"N: {self.N} too large for a dense Schur complement; "
                             f"allowed: N <= {DENSE_N_MAX}")
        dtype = np.complex128 if np.iscomplexobj(sigma) and sigma.imag != 0 else np.float64
        sigma = sigma if dtype == np.complex128 else float(np.real(sigma))
        S = self.hh.toarray().astype(dtype)
        S[np.diag_indices(self.N)] -= sigma
        # J_hx diag(1/(d - sigma)) J_xh only touches the E x E block
        w = self.q / (self.d - sigma)
        S[:, : self.N_E] -= (self.hx @ sp.diags(w)).toarray()
        return S


def jacobian_blocks(params: ModelParams, net: Network, y: np.ndarray | None = None
                    ) -> JacobianBlocks:
    """Jacobian blocks of the network vector field at state y (default: the homogeneous FP)."""
    p = params
    fixed_shape = (not net.fixed_indegree
                   or (net.pre_E.shape[1], net.pre_I.shape[1]) == (p.K_E, p.K_I))
    if net.N != p.N or net.N_E != p.N_E or not fixed_shape:
        raise ValueError(f"network: shape (N={net.N}, N_E={net.N_E}, in-degrees "
                         f"{net.in_degree_E.mean():g}, {net.in_degree_I.mean():g}) does not "
                         f"match params (N={p.N}, N_E={p.N_E}, K_E={p.K_E}, K_I={p.K_I})")
    if y is None:
        y = homogeneous_fixed_point(p).state(p)
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (p.dim,):
        raise ValueError(f"y: wrong shape {y.shape}; allowed: ({p.dim},)")
    N, N_E = p.N, p.N_E
    h, x = y[:N], y[N:]
    nu = phi(p.transfer, h)
    dnu = dphi(p.transfer, h)
    Jc = p.coupling
    rows_E = np.arange(N) < N_E
    inv_tau = np.where(rows_E, 1.0 / p.tau_E, 1.0 / p.tau_I)
    g_exc = np.where(rows_E, p.g_EE, p.g_IE) * Jc * inv_tau  # per row
    g_inh = np.where(rows_E, p.g_EI, p.g_II) * Jc * inv_tau

    # one entry per synapse, flat over the rows (fixed or variable in-degree)
    deg_E, deg_I = net.in_degree_E, net.in_degree_I
    rowE, rowI = np.repeat(np.arange(N), deg_E), np.repeat(np.arange(N), deg_I)
    colE = net.pre_E.astype(np.int64).ravel()
    colI = net.pre_I.astype(np.int64).ravel() + N_E
    # d(input_i)/dh_j: E columns carry x_j phi'_j for E rows (depressed), phi'_j for I rows
    valE = g_exc[rowE] * dnu[colE] * np.where(rows_E[rowE], x[colE], 1.0)
    valI = -g_inh[rowI] * dnu[colI]
    # each row's E entries, then its I entries: the storage order, hence the summation
    # order of every product with this matrix, is that of the fixed-in-degree layout
    order = np.argsort(np.concatenate([rowE, rowI]), kind="stable")
    rows = np.concatenate([rowE, rowI])[order]
    cols = np.concatenate([colE, colI])[order]
    vals = np.concatenate([valE, valI])[order]
    hh = sp.csr_matrix((vals, (rows, cols)), shape=(N, N))
    hh = hh - sp.diags(inv_tau)
    # d(input_i)/dx_j for E rows: g_EE Jc nu_j / tau_E (the E rows' synapses come first)
    n_EE = int(deg_E[:N_E].sum())
    rx, cx = rowE[:n_EE], colE[:n_EE]
    vx = g_exc[rx] * nu[cx]
    hx = sp.csr_matrix((vx, (rx, cx)), shape=(N, N_E))
    u, tau_D = net.u_of(p), net.tau_D_of(p)  # scalars, or one per E neuron
    q = -u * x * dnu[:N_E]
    d = -1.0 / tau_D - u * nu[:N_E]
    return JacobianBlocks(hh=hh.tocsr(), hx=hx, q=q, d=d, N=N, N_E=N_E)


def network_jacobian(params: ModelParams, net: Network, y: np.ndarray | None = None
                     ) -> sp.csr_matrix:
    """The (N + N_E)-dimensional Jacobian of one realization as a sparse CSR matrix."""
    return jacobian_blocks(params, net, y).matrix()


# ---- eigenvalues -------------------------------------------------------------------------


def dense_eigenvalues(blocks: JacobianBlocks) -> np.ndarray:
    """All eigenvalues by dense eig (small systems only), sorted by decreasing real part."""
    if blocks.N > DENSE_EIG_N_MAX:
        raise ValueError(f"N: {blocks.N} too large for a dense eig of the full Jacobian; "
                         f"allowed: N <= {DENSE_EIG_N_MAX} (use shift_invert_eigenvalues)")
    ev = np.linalg.eigvals(blocks.matrix().toarray())
    return ev[np.argsort(-ev.real)]


def _shift_invert_operator(blocks: JacobianBlocks, sigma: complex) -> spla.LinearOperator:
    """v -> (J - sigma)^{-1} v, through the dense LU of the Schur complement."""
    N, N_E = blocks.N, blocks.N_E
    S = blocks.schur(sigma)
    lu = sla.lu_factor(S, overwrite_a=True, check_finite=False)
    dtype = S.dtype
    dx = (blocks.d - sigma).astype(dtype)

    def solve(r):
        r = np.asarray(r).ravel()
        rh, rx = r[:N].astype(dtype), r[N:].astype(dtype)
        rhs = rh - blocks.hx @ (rx / dx)
        h = sla.lu_solve(lu, rhs, check_finite=False)
        x = (rx - blocks.q * h[:N_E]) / dx
        return np.concatenate([h, x])

    return spla.LinearOperator((blocks.dim, blocks.dim), matvec=solve, dtype=dtype)


def shift_invert_eigenvalues(blocks: JacobianBlocks, sigma: complex, k: int = 4,
                             tol: float = 1e-8, maxiter: int = 30, seed: int = 0
                             ) -> np.ndarray:
    """Up to k eigenvalues of J closest to sigma (Arnoldi on (J - sigma)^{-1}).

    When the k-th closest lies in the dense cluster of depression modes, ARPACK
    converges slowly; after `maxiter` restarts we keep the Ritz values that did
    converge (the isolated ones, which are those we want). Conjugates are added
    (J is real), so the result may hold more than k values.
    """
    sigma = complex(sigma)
    sigma = sigma if sigma.imag != 0 else sigma.real
    op = _shift_invert_operator(blocks, sigma)
    k = max(1, min(k, blocks.dim - 2))
    v0 = np.random.default_rng(seed).standard_normal(blocks.dim).astype(op.dtype)
    ncv = min(blocks.dim - 1, max(2 * k + 1, 20))
    try:
        mu = spla.eigs(op, k=k, which="LM", tol=tol, v0=v0, ncv=ncv, maxiter=maxiter,
                       return_eigenvectors=False)
    except spla.ArpackNoConvergence as err:
        mu = np.asarray(err.eigenvalues)
        log.debug("shift-invert at %s: %d of %d converged", sigma, mu.size, k)
    lam = sigma + 1.0 / mu
    lam = np.concatenate([lam, np.conj(lam[np.abs(lam.imag) > 1e-12])])
    return _merge(lam)


def _merge(values: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Unique eigenvalues sorted by decreasing real part (values from two targets that
    agree to tol are one eigenvalue)."""
    values = np.asarray(values, dtype=complex)
    out: list[complex] = []
    for v in values[np.argsort(-values.real, kind="stable")]:
        if not any(abs(v - w) <= tol * max(1.0, abs(v)) for w in out):
            out.append(v)
    return np.array(out, dtype=complex)


#: default shift-invert targets: just right of the imaginary axis, where crossings happen
DEFAULT_TARGETS = (0.02, 0.02 + 0.3j)


def rightmost_eigenvalues(blocks: JacobianBlocks, targets=DEFAULT_TARGETS, k: int = 4,
                          method: str = "auto", tol: float = 1e-8, maxiter: int = 30,
                          dense_max_N: int = AUTO_DENSE_N_MAX) -> np.ndarray:
    """Eigenvalues near the right edge of the spectrum, sorted by decreasing real part.

    method 'dense' computes all of them (small N); 'shift_invert' those closest to each
    target (conjugates added, duplicates merged); 'auto' picks dense for N <= dense_max_N.
    """
    if method not in ("auto", "dense", "shift_invert"):
        raise ValueError(f"method: {method!r}; allowed: auto, dense, shift_invert")
    if method == "dense" or (method == "auto" and blocks.N <= dense_max_N):
        return dense_eigenvalues(blocks)
    found = [shift_invert_eigenvalues(blocks, t, k=k, tol=tol, maxiter=maxiter)
             for t in targets]
    return _merge(np.concatenate(found))


# ---- fixed points of one realization ---------------------------------------------------


def solve_linear(blocks: JacobianBlocks, r: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """(J - sigma)^{-1} r through the dense Schur complement (one factorisation)."""
    return _shift_invert_operator(blocks, sigma).matvec(r).real


def polish_fixed_point(params: ModelParams, net: Network, y0: np.ndarray, tol: float = 1e-10,
                       maxiter: int = 30) -> tuple[np.ndarray, float]:
    """Newton's method on F(y) = 0 from y0 (e.g. the end of a simulation that settled).

    Returns (y, max |F(y)|); raises RuntimeError if it does not reach `tol`.
    """
    y = np.array(y0, dtype=np.float64)
    res = np.inf
    for it in range(maxiter):
        F = network_vector_field(params, net, y)
        res = float(np.max(np.abs(F)))
        if res < tol:
            return y, res
        y = y - solve_linear(jacobian_blocks(params, net, y), F)
        if not np.all(np.isfinite(y)):
            break
    raise RuntimeError(f"Newton polish did not converge for N={params.N}, J0={params.J0}: "
                       f"max|F| = {res:.3g} after {maxiter} iterations")
