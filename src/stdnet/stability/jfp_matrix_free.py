"""The J_FP search with the matrix-free eigen-solver (stdnet.stability.edge_spectrum), for any N
(jfp.find_jfp(method='matrix_free')): a walk in J0 steps to a sign change of the rightmost
eigenvalue's real part, then a safeguarded secant (Illinois regula falsi), each solve
warm-started from the nearest J0 already done.
"""
from __future__ import annotations

import logging

import numpy as np

from stdnet.model.params import ModelParams
from stdnet.stability.edge_spectrum import KRYLOV_DIM, edge_eigenvalues, krylov_basis_size
from stdnet.stability.jfp_result import JFPResult

log = logging.getLogger("stdnet.stability.jfp")


class _EdgeTracker:
    """Matrix-free evaluations of the rightmost eigenvalue along J0 for one realization,
    each warm-started from the evaluated J0 nearest to it (stdnet.stability.edge_spectrum)."""

    def __init__(self, params: ModelParams, net, res: JFPResult, k: int, eig_tol: float,
                 krylov_dim: int | None):
        self.params, self.net, self.res = params, net, res
        self.k, self.eig_tol = k, eig_tol
        self.m = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
        self.starts: dict = {}  # J0 -> warm-start vector
        self.cold: dict = {}  # J0 -> rightmost eigenvalue of a full (cold) solve
        self.matvecs = 0

    def __call__(self, J0: float, cold: bool = False) -> complex:
        """Rightmost eigenvalue at J0. cold: a full solve, random start and 2k eigenvalues,
        independent of the tracking (the check of a stable end)."""
        J0 = float(J0)
        if cold and J0 in self.cold:
            return self.cold[J0]
        v0 = None
        if not cold and self.starts:
            v0 = self.starts[min(self.starts, key=lambda j: abs(j - J0))]
        sp = edge_eigenvalues(self.params.replace(J0=J0), self.net,
                              k=2 * self.k if cold else self.k, v0=v0, tol=self.eig_tol,
                              m=self.m)
        self.matvecs += sp.matvecs
        self.starts[J0] = sp.warm_start()
        self.res.spectra[J0] = sp.values
        lam = sp.leading
        if cold:
            self.cold[J0] = lam
        self.res.evaluations.append((J0, float(lam.real), float(abs(lam.imag))))
        log.info("J0 = %.6f: rightmost eigenvalue %.6f %+.6fi (%s, %d products)", J0,
                 lam.real, abs(lam.imag), "full solve" if cold else "tracked", sp.matvecs)
        return lam


def _walk_to_bracket(evaluate, J0_start, J0_range, step):
    """From J0_start, step by `step` towards the sign change of Re lambda (a full solve at
    the start). Returns (lo, hi, lam_lo, lam_hi), or None if no sign change in range."""
    lo_lim, hi_lim = float(J0_range[0]), float(J0_range[1])
    J, lam = float(J0_start), evaluate(J0_start, cold=True)
    if lam.real >= 0:  # unstable: walk down to a stable J0
        while J > lo_lim:
            J_next = max(lo_lim, J - step)
            lam_next = evaluate(J_next)
            if lam_next.real < 0:
                return J_next, J, lam_next, lam
            J, lam = J_next, lam_next
        return None
    while J < hi_lim:  # stable: walk up to an unstable J0
        J_next = min(hi_lim, J + step)
        lam_next = evaluate(J_next)
        if lam_next.real >= 0:
            return J, J_next, lam, lam_next
        J, lam = J_next, lam_next
    return None


def secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol):
    """Shrink the bracket [lo, hi] (Re lambda < 0 at lo, >= 0 at hi) to width <= tol.

    Illinois regula falsi on f(J0) = Re lambda_max(J0): the secant estimate s of the
    root, with the weight of an end that survives twice halved. Each point is put 0.4 tol
    past s into the larger part of the bracket: once s is accurate, two points (one each
    side) close the bracket, where plain regula falsi only ever moves one end. If two
    evaluations did not halve the bracket, the next point is the midpoint (bisection's
    guarantee; f is continuous but has kinks where the rightmost branch changes).
    """
    f_lo, f_hi = lam_lo.real, lam_hi.real
    w_lo = w_hi = 1.0
    last = None
    widths = []
    while hi - lo > tol:
        width = hi - lo
        widths.append(width)
        a, b = w_lo * f_lo, w_hi * f_hi  # a < 0 <= b
        s = lo + width * (-a) / (b - a)
        t = s - 0.4 * tol if s - lo > hi - s else s + 0.4 * tol
        if len(widths) >= 3 and width > 0.5 * widths[-3]:
            t = 0.5 * (lo + hi)
        t = min(max(t, lo + 0.25 * tol), hi - 0.25 * tol)
        lam = evaluate(t)
        if lam.real >= 0:
            hi, lam_hi, f_hi, w_hi = t, lam, lam.real, 1.0
            w_lo = 0.5 * w_lo if last == "hi" else w_lo
            last = "hi"
        else:
            lo, lam_lo, f_lo, w_lo = t, lam, lam.real, 1.0
            w_hi = 0.5 * w_hi if last == "lo" else w_hi
            last = "lo"
    return lo, hi, lam_lo, lam_hi


def check_eigen_count(params: ModelParams, k: int, krylov_dim: int | None = None) -> None:
    """ValueError naming k where the search's largest solve, 2k eigenvalues (the re-check
    of a stable end), does not fit the (N + N_E)-dimensional Jacobian: checked before the
    search, and by the config check before any job."""
    m = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
    try:
        krylov_basis_size(2 * int(k), m, params.dim)
    except ValueError:
        raise ValueError(f"k: invalid value {k}; allowed: at most {(params.dim - 5) // 2} at "
                         f"N={params.N} (the re-check of a stable end converges 2k "
                         f"eigenvalues of the {params.dim}-dimensional Jacobian)") from None


def find_jfp_matrix_free(params: ModelParams, net, J0_start: float, J0_range, step: float,
                         tol: float, k: int = 4, freq_tol: float = 1e-6,
                         max_restarts: int = 4, eig_tol: float = 1e-8,
                         krylov_dim: int | None = None) -> JFPResult:
    """find_jfp with the matrix-free eigen-solver (stdnet.stability.edge_spectrum), for any N.

    Bracket: a full solve at J0_start (e.g. the bulk-theory J_FP, bulk.bulk_jfp), then
    steps of `step` towards the sign change; refinement: secant_refine, each solve
    warm-started from the nearest J0 done (the tracked eigenvalues change little). A
    warm start could in principle lose an eigenvalue that crosses first, so the final
    stable end is re-checked by a full solve (random start, 2k eigenvalues); if that
    finds it unstable, the search restarts below it, as in the dense path.
    """
    check_eigen_count(params, k, krylov_dim)
    res = JFPResult(np.nan, "none", np.nan, np.nan, np.nan, np.nan + 0j, np.nan + 0j)
    evaluate = _EdgeTracker(params, net, res, k, eig_tol, krylov_dim)
    found = _walk_to_bracket(evaluate, J0_start, J0_range, step)
    if found is None:
        return res
    lo, hi, lam_lo, lam_hi = found
    for restart in range(max_restarts + 1):
        lo, hi, lam_lo, lam_hi = secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol)
        lam_check = evaluate(lo, cold=True)
        if lam_check.real < 0:
            lam_lo = lam_check
            break
        log.info("J0 = %.6f is unstable by an eigenvalue the tracking missed: searching "
                 "below", lo)
        below = _walk_to_bracket(evaluate, lo, (J0_range[0], lo), step)
        if below is None:
            log.warning("J_FP search: unstable down to J0 = %g (the range's lower end)",
                        J0_range[0])
            return res
        lo, hi, lam_lo, lam_hi = below
        if restart == max_restarts:
            log.warning("J_FP search: after %d restarts the stable end is not confirmed "
                        "by a full solve", restart + 1)
            lo, hi, lam_lo, lam_hi = secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol)
            break
    res.close(lo, hi, lam_lo, lam_hi, freq_tol)
    log.info("J_FP = %.6f (%s), %d evaluations, %d matrix-vector products", res.J_FP,
             res.crossing, len(res.evaluations), evaluate.matvecs)
    return res
