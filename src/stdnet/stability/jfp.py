"""J_FP of one realization: the J0 where the rightmost eigenvalue of the sparse
(N + N_E)-dimensional Jacobian at the homogeneous fixed point crosses zero, and the kind of
crossing (Hopf or real) (docs/model.md, section 3).

find_jfp brackets the crossing and narrows the bracket: by bisection with the dense solvers
of stdnet.stability.spectrum (N <= DENSE_N_MAX), or by a safeguarded secant with the matrix-free
solver of stdnet.stability.edge_spectrum (any N; stdnet.stability.jfp_matrix_free). search_realization is the
whole search of one (N, seed), started at the bulk-theory estimate (stdnet.theory.bulk).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from stdnet.files.errors import InputError
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.edge_spectrum import KRYLOV_DIM
from stdnet.stability.jfp_matrix_free import find_jfp_matrix_free
from stdnet.stability.jfp_result import JFPResult
from stdnet.stability.spectrum import (
    AUTO_DENSE_N_MAX,
    DEFAULT_TARGETS,
    DENSE_EIG_N_MAX,
    DENSE_N_MAX,
    jacobian_blocks,
    rightmost_eigenvalues,
)
from stdnet.theory.bulk import EDGE_MARGIN, bulk_edge, bulk_jfp, targets_right_of_edge

log = logging.getLogger("stdnet.stability.jfp")


#: find_jfp's eigen-solvers: dense eig of the full Jacobian, shift-invert Arnoldi through a
#: dense N x N Schur complement (stdnet.stability.spectrum), Krylov-Schur on the matrix-free
#: Jacobian (stdnet.stability.edge_spectrum); 'auto' picks by N
JFP_METHODS = ("auto", "dense", "shift_invert", "matrix_free")
#: largest N of the dense solvers (spectrum.dense_eigenvalues, spectrum.DENSE_N_MAX)
JFP_DENSE_N_MAX = {"dense": DENSE_EIG_N_MAX, "shift_invert": DENSE_N_MAX}


def jfp_method(method: str, N: int, dense_max_N: int = AUTO_DENSE_N_MAX) -> str:
    """The solver find_jfp(method=...) runs at size N: 'dense', 'shift_invert' or
    'matrix_free'. 'auto': dense eig up to dense_max_N (every eigenvalue, exact), the
    matrix-free solver above: it is 8-30x faster than shift-invert from N = 300 on (J_FP
    to tol 1e-3, one thread: 0.1 vs 0.9 s at N = 300, 0.4 vs 12 s at N = 2000).
    Errors name the method, N and what is allowed."""
    if method not in JFP_METHODS:
        raise InputError(f"method: invalid value {method!r}; allowed: {', '.join(JFP_METHODS)}")
    if method == "auto":
        if N > dense_max_N:
            return "matrix_free"
        if N > JFP_DENSE_N_MAX["dense"]:
            raise InputError(f"dense_max_N: invalid value {dense_max_N}; it asks for the dense "
                             f"eig of the full Jacobian at N={N}; allowed: at most "
                             f"{JFP_DENSE_N_MAX['dense']}")
        return "dense"
    limit = JFP_DENSE_N_MAX.get(method)
    if limit is not None and N > limit:
        raise InputError(f"method: {method!r} is not allowed for N={N} (dense matrices of "
                         f"order N); allowed: N <= {limit} for {method!r}, or method "
                         "'matrix_free' / 'auto' for any N")
    return method


def jfp_memory_mb(params: ModelParams, method: str, dense_max_N: int = AUTO_DENSE_N_MAX,
                  krylov_dim: int | None = None) -> int:
    """Memory of find_jfp's eigen-solver beyond the network itself (MB).

    Dense solvers: N x N complex Schur complement and its LU, or the dense (N + N_E)^2
    Jacobian and its eig (~40 bytes per N^2). Matrix-free: the Krylov basis (twice, for
    the restart), the Ritz and warm-start vectors: ~2 (m + 1) + 60 vectors of N + N_E.
    """
    if jfp_method(method, params.N, dense_max_N) != "matrix_free":
        return int(40e-6 * params.N ** 2) + 1
    m = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
    return int(8 * params.dim * (2 * (m + 1) + 60) / 1e6) + 1


def find_jfp(params: ModelParams, net, J0_start: float, J0_range=(0.3, 2.0),
             step: float = 0.05, tol: float = 1e-3, targets=None, k: int = 4,
             method: str = "auto", freq_tol: float = 1e-6, maxiter: int = 30,
             dense_max_N: int = AUTO_DENSE_N_MAX, k_track: int = 4, max_restarts: int = 4,
             real_target_max_freq: float = 0.05, edge_margin: float = EDGE_MARGIN,
             eig_tol: float = 1e-8, krylov_dim: int | None = None) -> JFPResult:
    """J_FP of one realization: the J0 in J0_range where the rightmost eigenvalue of the
    Jacobian at the homogeneous fixed point crosses zero, to a bracket of width <= tol.

    method (JFP_METHODS; jfp_method): 'dense' / 'shift_invert' run the grid bracket and
    bisection below; 'matrix_free' runs jfp_matrix_free.find_jfp_matrix_free (any N:
    bracket walk from J0_start, safeguarded secant, warm starts), where k is the number of
    rightmost
    eigenvalues converged per J0, eig_tol their residual tolerance and krylov_dim the
    basis size (targets, maxiter, k_track, real_target_max_freq, edge_margin and
    dense_max_N belong to the dense paths). 'auto' picks by N.

    Dense paths: bracket on a J0 grid (spacing `step`, from J0_start towards the sign
    change), then bisect to a bracket narrower than `tol`.

    Stable means every eigenvalue found has Re < 0. Bisection targets the frequency
    of the unstable eigenvalue at the bracket's upper end (it is the one crossing)
    and the real axis, asking for k_track eigenvalues near each (only the real target
    if that frequency is below real_target_max_freq);
    the final stable end is re-checked with every target, and the search restarts
    below it if something else went unstable there. Outside the bisection the targets'
    real parts are raised to the bulk-theory edge + edge_margin when that lies further
    right (far above J_FP the rightmost eigenvalues are far from the imaginary axis).
    """
    if not J0_range[0] <= J0_start <= J0_range[1]:
        raise ValueError(f"J0_start: {J0_start} outside J0_range {list(J0_range)}")
    if not (step > 0 and 0 < tol < step):
        raise ValueError(f"step/tol: need 0 < tol < step (got step={step}, tol={tol})")
    solver = jfp_method(method, params.N, dense_max_N)
    if solver == "matrix_free":

        return find_jfp_matrix_free(params, net, J0_start, J0_range, step, tol, k=k,
                                    freq_tol=freq_tol, max_restarts=max_restarts,
                                    eig_tol=eig_tol, krylov_dim=krylov_dim)
    method = solver
    targets = tuple(DEFAULT_TARGETS if targets is None else targets)
    res = JFPResult(np.nan, "none", np.nan, np.nan, np.nan, np.nan + 0j, np.nan + 0j)
    cache: dict = {}

    def evaluate(J0, tg, k=k, follow_edge=True):
        p = params.replace(J0=float(J0))
        if follow_edge and method != "dense":
            # shift-invert finds the eigenvalues nearest its targets: keep them just right
            # of the predicted bulk edge, so a far-right unstable eigenvalue is not missed
            tg = targets_right_of_edge(tg, bulk_edge(p)[0], edge_margin)
        ev = rightmost_eigenvalues(jacobian_blocks(p, net), targets=tg, k=k, method=method,
                                   maxiter=maxiter, dense_max_N=dense_max_N)
        lam = ev[0]
        res.evaluations.append((float(J0), float(lam.real), float(abs(lam.imag))))
        cache[float(J0)] = ev
        log.info("J0 = %.5f: rightmost eigenvalue %.5f %+.5fi (%d targets)", J0, lam.real,
                 abs(lam.imag), len(tg))
        return lam

    def bracket():
        lo_J = np.floor(J0_range[0] / step - 1e-9) * step
        grid = np.round(np.arange(lo_J, J0_range[1] + step / 2, step), 12)
        grid = grid[(grid >= J0_range[0] - 1e-12) & (grid <= J0_range[1] + 1e-12)]
        i = int(np.argmin(np.abs(grid - J0_start)))
        lam = evaluate(grid[i], targets)
        if lam.real >= 0:  # unstable: walk down to the first stable grid point
            while i > 0:
                lam_lo = evaluate(grid[i - 1], targets)
                if lam_lo.real < 0:
                    return grid[i - 1], grid[i], lam_lo, lam
                i, lam = i - 1, lam_lo
            return None
        while i < len(grid) - 1:  # stable: walk up to the first unstable grid point
            lam_hi = evaluate(grid[i + 1], targets)
            if lam_hi.real >= 0:
                return grid[i], grid[i + 1], lam, lam_hi
            i, lam = i + 1, lam_hi
        return None

    found = bracket()
    if found is None:
        res.spectra = cache
        return res
    lo, hi, lam_lo, lam_hi = found

    def bisect(lo, hi, lam_lo, lam_hi):
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            # follow the eigenvalue that is unstable at the upper end (a target at its
            # frequency), and keep the real-axis target: slow pairs and real eigenvalues
            # near zero are both nearer to it than the depression cluster
            w = abs(lam_hi.imag)
            re0 = complex(targets[0]).real
            tg = (complex(re0, 0.0),) if w <= real_target_max_freq else (
                complex(re0, 0.0), complex(re0, w))
            lam = evaluate(mid, tg, k_track, follow_edge=False)
            if lam.real >= 0:
                hi, lam_hi = mid, lam
            else:
                lo, lam_lo = mid, lam
        return lo, hi, lam_lo, lam_hi

    for restart in range(max_restarts + 1):
        lo, hi, lam_lo, lam_hi = bisect(lo, hi, lam_lo, lam_hi)
        lam_check = evaluate(lo, targets)
        if lam_check.real < 0:
            lam_lo = lam_check
            break
        # another eigenvalue is unstable at lo: its crossing lies below
        log.info("J0 = %.5f is unstable by another eigenvalue: searching below", lo)
        hi, lam_hi = lo, lam_check
        lo = max(J0_range[0], hi - step)
        lam_lo = evaluate(lo, targets)
        while lam_lo.real >= 0 and lo > J0_range[0]:  # walk down to a stable J0
            hi, lam_hi = lo, lam_lo
            lo = max(J0_range[0], lo - step)
            lam_lo = evaluate(lo, targets)
        if lam_lo.real >= 0 or restart == max_restarts:
            log.warning("J_FP search: gave up after %d restarts; bracket [%g, %g] (stable "
                        "end %s)", restart + 1, lo, hi, lam_lo.real < 0)
            lo, hi, lam_lo, lam_hi = bisect(lo, hi, lam_lo, lam_hi)
            break
    res.close(lo, hi, lam_lo, lam_hi, freq_tol)
    res.spectra = cache
    return res


def check_search_settings(J0_range, step: float, tol: float) -> None:
    """InputError naming the setting where the J_FP search cannot run with it: the check
    of search_realization, which the config check makes before any job."""
    if not J0_range[0] < J0_range[1]:
        raise InputError(f"J0_range: invalid value {list(J0_range)}; allowed: [start, end] "
                         "with start < end")
    if not tol < step:
        raise InputError(f"tol: invalid value {tol}; allowed: a number < step ({step}), the "
                         "bracket's width before the bisection")


def search_realization(params: ModelParams, seed: int, *, J0_range, J0_start, step: float,
                       tol: float, method: str, targets_re: float, targets_im, k: int,
                       maxiter: int, dense_max_N: int, freq_tol: float
                       ) -> tuple[JFPResult, dict]:
    """The J_FP search of one realization (params.N, seed), as the jfp_search rule runs it:
    find_jfp from J0_start (None: the bulk-theory J_FP, bulk.bulk_jfp, else the middle of
    J0_range), shift-invert targets targets_re + i targets_im.

    Returns the JFPResult and the attributes of its file (eigenfile.write_jfp_file): N,
    seed, JFPResult.row(), the bulk-theory J_FP_bulk and frequency_bulk, wall_time_s and
    the solver used. InputError names the argument (J0_range, tol, method) before any
    work.
    """
    N, seed = params.N, int(seed)
    lo, hi = J0_range
    check_search_settings(J0_range, step, tol)
    solver = jfp_method(method, N, dense_max_N)  # the dense solvers refuse large N
    t0 = time.perf_counter()
    J_bulk, w_bulk = bulk_jfp(params, N, J0_range=(lo, hi))
    start = J0_start if J0_start is not None else (J_bulk if np.isfinite(J_bulk)
                                                   else 0.5 * (lo + hi))
    start = min(max(start, lo), hi)
    log.info("N=%d seed=%d: bulk theory J_FP = %.4f (omega %.3f); search starts at %.3f "
             "(solver %s)", N, seed, J_bulk, w_bulk, start, solver)
    net = build_network(params, seed)
    targets = [complex(targets_re, w) for w in targets_im]
    res = find_jfp(params, net, J0_start=start, J0_range=(lo, hi), step=step, tol=tol,
                   targets=targets, k=k, maxiter=maxiter, dense_max_N=dense_max_N,
                   freq_tol=freq_tol, method=solver)
    wall = time.perf_counter() - t0
    log.info("N=%d seed=%d: J_FP = %.5f, crossing %s, frequency %.4f (%d evaluations, "
             "%.1f s)", N, seed, res.J_FP, res.crossing, res.frequency, len(res.evaluations),
             wall)
    attrs = {"N": N, "seed": seed, **res.row(), "J_FP_bulk": J_bulk,
             "frequency_bulk": w_bulk, "wall_time_s": wall, "method": solver}
    return res, attrs
