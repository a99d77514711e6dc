"""The stable stationary state of one heterogeneous network and where it is lost.

With variable in-degrees (or per-neuron STD constants) no state is homogeneous: the
stationary state is heterogeneous from J0 = 0 on. It is found by brute force (RK4 for
t_settle, then Newton on all N + N_E equations, stability.spectrum.polish_fixed_point) and
followed up in J0 by continuation (Newton from the previous J0's state); J_FP is where its
rightmost eigenvalue crosses zero, narrowed by bisection, or where Newton loses the branch (a
fold). The rightmost eigenvalues come from ARPACK's largest-real-part mode on the sparse
Jacobian: shift-invert near 0 (the homogeneous search's tool) would return the dense
cluster of depression modes just left of 0 and miss an unstable bulk eigenvalue further up
the imaginary axis.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse.linalg as spla

from stdnet.files.errors import DivergenceError
from stdnet.files.progress import ProgressMeter
from stdnet.kernels.cpu import advance, kernel_args, make_work
from stdnet.model.params import ModelParams
from stdnet.stability import jfp as stability_jfp
from stdnet.stability.spectrum import jacobian_blocks, polish_fixed_point
from stdnet.theory.meanfield import homogeneous_fixed_point

log = logging.getLogger("stdnet.heterogeneity.branch")

#: Newton's tolerance on max |F| for a stationary state
NEWTON_TOL = 1e-10
#: steps per call of the integrator while settling (the progress lines' spacing)
SETTLE_CHUNK = 2000
#: Jacobians up to this order get a dense eig (every eigenvalue), larger ones ARPACK
DENSE_DIM_MAX = 600
RIGHTMOST_K = 6
RIGHTMOST_NCV = 60
RIGHTMOST_MAXITER = 5000


def settle(params: ModelParams, net, t_settle: float, dt: float) -> np.ndarray:
    """RK4 for t_settle from the homogeneous fixed point of the paper's network (a state
    close to the heterogeneous one; no kick is needed: the network is not homogeneous)."""
    y = homogeneous_fixed_point(params).state(params)
    n = int(round(t_settle / dt))
    args, work = kernel_args(params, net), make_work(params)
    # the jobs' one progress line (files.progress); the rate counts after the compiling call
    meter = ProgressMeter(log, n, tau_per_unit=dt)
    for start in range(0, n, SETTLE_CHUNK):
        k = min(SETTLE_CHUNK, n - start)
        bad = advance(y, k, 0, dt, *args, work)
        if bad >= 0:
            step = start + bad + 1
            raise DivergenceError(
                f"settling diverged (non-finite state) at step {step}, t = {step * dt:g}, for "
                f"N={params.N}, J0={params.J0}, connectivity={params.connectivity}; lower "
                "heterogeneity.dt")
        meter.update(start + k, force=start + k == n)
    return y


def rightmost(params: ModelParams, net, y: np.ndarray) -> complex:
    """The rightmost eigenvalue of the Jacobian at state y: all of them (dense) up to
    DENSE_DIM_MAX, else ARPACK 'LR' (RIGHTMOST_K values, a Krylov space of RIGHTMOST_NCV)."""
    J = jacobian_blocks(params, net, y).matrix()
    if J.shape[0] <= DENSE_DIM_MAX:
        ev = np.linalg.eigvals(J.toarray())
    else:
        try:
            ev = spla.eigs(J, k=RIGHTMOST_K, which="LR", ncv=RIGHTMOST_NCV, tol=1e-9,
                           maxiter=RIGHTMOST_MAXITER, return_eigenvectors=False)
        except spla.ArpackNoConvergence as e:
            if len(e.eigenvalues) == 0:
                raise RuntimeError(f"rightmost eigenvalue: ARPACK did not converge for "
                                   f"N={params.N}, J0={params.J0}") from None
            ev = e.eigenvalues
    return complex(ev[np.argmax(ev.real)])


def stationary_state(params: ModelParams, net, t_settle: float, dt: float) -> dict:
    """Settle, then Newton: {y, residual, converged, lam} (lam: the rightmost eigenvalue,
    nan where Newton did not converge)."""
    y = settle(params, net, t_settle, dt)
    try:
        y, res = polish_fixed_point(params, net, y, tol=NEWTON_TOL)
    except RuntimeError as e:  # not stationary after t_settle: no brute-force state
        log.warning("%s", e)
        return {"y": y, "residual": math.nan, "converged": False, "lam": complex(math.nan)}
    return {"y": y, "residual": res, "converged": True, "lam": rightmost(params, net, y)}


def _homogeneous_jfp(params: ModelParams, net, *, step: float, J0_max: float, tol: float
                     ) -> dict:
    res = stability_jfp.find_jfp(params, net, J0_start=params.J0,
                                 J0_range=(params.J0, J0_max), step=step, tol=tol)
    route = res.crossing if res.crossing in ("real", "hopf") else "censored"
    log.info("J_FP = %.4f (%s; the homogeneous point, stability.jfp.find_jfp)", res.J_FP, route)
    return {"J_FP": res.J_FP if route != "censored" else math.nan, "route": route,
            "lam_re": complex(res.lam_hi).real, "lam_im": complex(res.lam_hi).imag,
            "J0_stable": res.J0_lo, "J0_unstable": res.J0_hi,
            "evaluations": len(res.evaluations)}


def _state_at(params: ModelParams, net, y_guess):
    """(y, lam) at params.J0 by Newton from y_guess, or None where Newton fails."""
    try:
        y, _ = polish_fixed_point(params, net, y_guess, tol=NEWTON_TOL)
    except RuntimeError:
        return None
    return y, rightmost(params, net, y)


def find_jfp(params: ModelParams, net, y0: np.ndarray, *, step: float, J0_max: float,
             tol: float) -> dict:
    """J_FP of the stationary branch through state y0 (stable, at params.J0).

    Returns {J_FP, route, lam_re, lam_im, J0_stable, J0_unstable, evaluations}: route
    'real' or 'hopf' by the crossing eigenvalue, 'fold' where Newton lost the branch, and
    'censored' (J_FP nan) where the branch is still stable at J0_max.

    The paper's network (net.homogeneous) is handed to the stability stage's search
    (stability.jfp.find_jfp, matrix-free above N = 300): its branch is the homogeneous
    point, and the exactly degenerate depression modes there make ARPACK's largest-real-
    part mode crawl (minutes a J0 at N = 2000)."""
    if net.homogeneous:
        return _homogeneous_jfp(params, net, step=step, J0_max=J0_max, tol=tol)
    return branch_jfp(params, net, y0, step=step, J0_max=J0_max, tol=tol)


def branch_jfp(params: ModelParams, net, y0: np.ndarray, *, step: float, J0_max: float,
               tol: float) -> dict:
    """find_jfp's continuation and bisection, for any network (find_jfp's return)."""
    J_lo, y_lo = params.J0, y0
    n_eval = 0
    J_hi, route, lam_hi = math.nan, "censored", complex(math.nan)
    J = J_lo
    while J < J0_max - 1e-12:
        J = min(J + step, J0_max)
        got = _state_at(params.replace(J0=J), net, y_lo)
        n_eval += 1
        if got is None:
            J_hi, route = J, "fold"
            break
        y, lam = got
        log.info("J_FP search: J0=%.4f rightmost eigenvalue %.5f%+.5fi", J, lam.real, lam.imag)
        if lam.real >= 0:
            J_hi, lam_hi = J, lam
            route = "hopf" if abs(lam.imag) > 1e-6 else "real"
            break
        J_lo, y_lo = J, y
    if route == "censored":
        return {"J_FP": math.nan, "route": route, "lam_re": math.nan, "lam_im": math.nan,
                "J0_stable": J_lo, "J0_unstable": math.nan, "evaluations": n_eval}
    while J_hi - J_lo > tol:  # bisection: Newton always from the last stable state
        J = 0.5 * (J_lo + J_hi)
        got = _state_at(params.replace(J0=J), net, y_lo)
        n_eval += 1
        if got is None or got[1].real >= 0:
            J_hi = J
            if got is not None:
                lam_hi = got[1]
                route = "hopf" if abs(lam_hi.imag) > 1e-6 else "real"
        else:
            J_lo, y_lo = J, got[0]
    log.info("J_FP = %.4f (%s), bracket [%.4f, %.4f], %d Newton solves", 0.5 * (J_lo + J_hi),
             route, J_lo, J_hi, n_eval)
    return {"J_FP": 0.5 * (J_lo + J_hi), "route": route, "lam_re": lam_hi.real,
            "lam_im": lam_hi.imag, "J0_stable": J_lo, "J0_unstable": J_hi,
            "evaluations": n_eval}
