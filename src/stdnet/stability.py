"""Linear stability of the homogeneous fixed point (shared MODEL.md section 3).

- homogeneous perturbations: the 3x3 Jacobian of the population equations and its
  eigenvalues over (N, J0, I0) grids (paper Fig 3);
- heterogeneous perturbations of one realization: J_FP, the J0 where the rightmost
  eigenvalue of the sparse (N + N_E)-dimensional Jacobian crosses zero, and the kind of
  crossing (Hopf or real): bracketing and bisection with the dense solvers of
  stdnet.spectrum (N <= 4000), or bracketing and a safeguarded secant with the
  matrix-free solver of stdnet.edge_spectrum (any N);
- the zero-frequency route: runs that settle on a stationary heterogeneous state,
  polished by Newton, for comparison with the Gaussian theory (stdnet.meanfield);
- the HDF5 files of these results.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .meanfield import FixedPoint, fixed_point_branch, homogeneous_fixed_point
from .params import ModelParams
from .spectrum import DENSE_N_MAX
from .transfer import dphi

log = logging.getLogger("stdnet.stability")


def homogeneous_jacobian(params: ModelParams, fp: FixedPoint | None = None) -> np.ndarray:
    """The 3x3 Jacobian of the population equations in (h_E, h_I, x) at the fixed point."""
    p = params
    if fp is None:
        fp = homogeneous_fixed_point(p)
    G, gam = p.G, p.gamma
    dE = dphi(p.transfer, fp.h_E)
    dI = dphi(p.transfer, fp.h_I)
    return np.array([
        [(-1.0 + G * p.g_EE * fp.x * dE) / p.tau_E, -G * gam * p.g_EI * dI / p.tau_E,
         G * p.g_EE * fp.nu_E / p.tau_E],
        [G * p.g_IE * dE / p.tau_I, (-1.0 - G * gam * p.g_II * dI) / p.tau_I, 0.0],
        [-p.u * fp.x * dE, 0.0, -1.0 / p.tau_D - p.u * fp.nu_E],
    ])


def homogeneous_eigenvalues(params: ModelParams) -> np.ndarray:
    """Eigenvalues of the 3x3 homogeneous-mode Jacobian, sorted by decreasing real part."""
    ev = np.linalg.eigvals(homogeneous_jacobian(params))
    return ev[np.argsort(-ev.real)]


# ---- homogeneous modes over parameter grids -----------------------------------------------


def homogeneous_scan(model: dict, N_values, J0_values, I0_values=None) -> "pandas.DataFrame":  # noqa: F821
    """Leading eigenvalue of the 3x3 homogeneous Jacobian over a (N, J0[, I0]) grid.

    One row per grid point: N, J0, I0, the fixed point, and re/im of the three
    eigenvalues sorted by decreasing real part (lam0 is the leading one).
    """
    import pandas as pd

    base = {k: v for k, v in model.items() if k not in ("N", "J0")}
    I0s = [base.get("I0", 0.0)] if I0_values is None else list(I0_values)
    rows = []
    J0s = sorted(float(j) for j in J0_values)
    for N in N_values:
        for I0 in I0s:
            p0 = ModelParams.from_config({**base, "I0": float(I0)}, N=int(N), J0=J0s[0])
            for J0, fp in zip(J0s, fixed_point_branch(p0, J0s)):
                p = p0.replace(J0=J0)
                ev = np.linalg.eigvals(homogeneous_jacobian(p, fp))
                ev = ev[np.argsort(-ev.real)]
                row = {"N": int(N), "J0": J0, "I0": float(I0), "nu_E": fp.nu_E,
                       "nu_I": fp.nu_I, "x": fp.x, "h_E": fp.h_E, "h_I": fp.h_I}
                for i, lam in enumerate(ev):
                    row[f"lam{i}_re"] = float(lam.real)
                    row[f"lam{i}_im"] = float(lam.imag)
                rows.append(row)
    return pd.DataFrame(rows)


# ---- J_FP: where one realization's homogeneous fixed point loses stability ----------------


@dataclass
class JFPResult:
    """Outcome of the J_FP search for one realization."""

    J_FP: float  # midpoint of the final bracket (nan if no crossing in range)
    crossing: str  # "hopf" | "real" | "none"
    frequency: float  # |Im lambda| of the crossing eigenvalue (0 for real)
    J0_lo: float  # stable end of the final bracket
    J0_hi: float  # unstable end
    lam_lo: complex  # rightmost eigenvalue at J0_lo
    lam_hi: complex  # rightmost eigenvalue at J0_hi (the crossing one)
    evaluations: list = field(default_factory=list)  # (J0, Re, Im) of each rightmost
    spectra: dict = field(default_factory=dict)  # J0 -> eigenvalues found there

    def close(self, lo, hi, lam_lo, lam_hi, freq_tol: float) -> None:
        """Record the final bracket: J_FP its midpoint, the crossing kind and frequency from
        the eigenvalue unstable at its upper end."""
        self.J0_lo, self.J0_hi = float(lo), float(hi)
        self.J_FP = 0.5 * (lo + hi)
        self.lam_lo, self.lam_hi = complex(lam_lo), complex(lam_hi)
        self.frequency = float(abs(lam_hi.imag))
        self.crossing = "hopf" if self.frequency > freq_tol else "real"
        if self.crossing == "real":
            self.frequency = 0.0

    def row(self) -> dict:
        return {"J_FP": self.J_FP, "crossing": self.crossing, "frequency": self.frequency,
                "J0_lo": self.J0_lo, "J0_hi": self.J0_hi,
                "lam_lo_re": self.lam_lo.real, "lam_lo_im": abs(self.lam_lo.imag),
                "lam_hi_re": self.lam_hi.real, "lam_hi_im": abs(self.lam_hi.imag),
                "n_evaluations": len(self.evaluations)}


#: find_jfp's eigen-solvers: dense eig of the full Jacobian, shift-invert Arnoldi through a
#: dense N x N Schur complement (stdnet.spectrum), Krylov-Schur on the matrix-free
#: Jacobian (stdnet.edge_spectrum); 'auto' picks by N
JFP_METHODS = ("auto", "dense", "shift_invert", "matrix_free")
#: largest N of the dense solvers (spectrum.dense_eigenvalues, spectrum.DENSE_N_MAX)
JFP_DENSE_N_MAX = {"dense": 1500, "shift_invert": DENSE_N_MAX}


def jfp_method(method: str, N: int, dense_max_N: int = 300) -> str:
    """The solver find_jfp(method=...) runs at size N: 'dense', 'shift_invert' or
    'matrix_free'. 'auto': dense eig up to dense_max_N (every eigenvalue, exact), the
    matrix-free solver above: it is 8-30x faster than shift-invert from N = 300 on (J_FP
    to tol 1e-3, one thread: 0.1 vs 0.9 s at N = 300, 0.4 vs 12 s at N = 2000).
    Errors name the method, N and what is allowed."""
    if method not in JFP_METHODS:
        raise ValueError(f"method: invalid value {method!r}; allowed: {', '.join(JFP_METHODS)}")
    if method == "auto":
        return "dense" if N <= dense_max_N else "matrix_free"
    limit = JFP_DENSE_N_MAX.get(method)
    if limit is not None and N > limit:
        raise ValueError(f"method: {method!r} is not allowed for N={N} (dense matrices of "
                         f"order N); allowed: N <= {limit} for {method!r}, or method "
                         "'matrix_free' / 'auto' for any N")
    return method


def jfp_memory_mb(params: ModelParams, method: str, dense_max_N: int = 300,
                  krylov_dim: int | None = None) -> int:
    """Memory of find_jfp's eigen-solver beyond the network itself (MB).

    Dense solvers: N x N complex Schur complement and its LU, or the dense (N + N_E)^2
    Jacobian and its eig (~40 bytes per N^2). Matrix-free: the Krylov basis (twice, for
    the restart), the Ritz and warm-start vectors: ~2 (m + 1) + 60 vectors of N + N_E.
    """
    from .edge_spectrum import KRYLOV_DIM

    if jfp_method(method, params.N, dense_max_N) != "matrix_free":
        return int(40e-6 * params.N ** 2) + 1
    m = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
    return int(8 * params.dim * (2 * (m + 1) + 60) / 1e6) + 1


def find_jfp(params: ModelParams, net, J0_start: float, J0_range=(0.3, 2.0),
             step: float = 0.05, tol: float = 1e-3, targets=None, k: int = 4,
             method: str = "auto", freq_tol: float = 1e-6, maxiter: int = 30,
             dense_max_N: int = 300, k_track: int = 4, max_restarts: int = 4,
             real_target_max_freq: float = 0.05, edge_margin: float = 0.02,
             eig_tol: float = 1e-8, krylov_dim: int | None = None) -> JFPResult:
    """J_FP of one realization: the J0 in J0_range where the rightmost eigenvalue of the
    Jacobian at the homogeneous fixed point crosses zero, to a bracket of width <= tol.

    method (JFP_METHODS; jfp_method): 'dense' / 'shift_invert' run the grid bracket and
    bisection below; 'matrix_free' runs _find_jfp_matrix_free (any N: bracket walk from
    J0_start, safeguarded secant, warm starts), where k is the number of rightmost
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
    from .bulk import bulk_edge
    from .spectrum import DEFAULT_TARGETS, jacobian_blocks, rightmost_eigenvalues

    if not J0_range[0] <= J0_start <= J0_range[1]:
        raise ValueError(f"J0_start: {J0_start} outside J0_range {list(J0_range)}")
    if not (step > 0 and 0 < tol < step):
        raise ValueError(f"step/tol: need 0 < tol < step (got step={step}, tol={tol})")
    solver = jfp_method(method, params.N, dense_max_N)
    if solver == "matrix_free":
        return _find_jfp_matrix_free(params, net, J0_start, J0_range, step, tol, k=k,
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
            shift = bulk_edge(p)[0] + edge_margin
            tg = tuple(complex(max(complex(t).real, shift), complex(t).imag) for t in tg)
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


class _EdgeTracker:
    """Matrix-free evaluations of the rightmost eigenvalue along J0 for one realization,
    each warm-started from the evaluated J0 nearest to it (stdnet.edge_spectrum)."""

    def __init__(self, params: ModelParams, net, res: JFPResult, k: int, eig_tol: float,
                 krylov_dim: int | None):
        from .edge_spectrum import KRYLOV_DIM

        self.params, self.net, self.res = params, net, res
        self.k, self.eig_tol = k, eig_tol
        self.m = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
        self.starts: dict = {}  # J0 -> warm-start vector
        self.cold: dict = {}  # J0 -> rightmost eigenvalue of a full (cold) solve
        self.matvecs = 0

    def __call__(self, J0: float, cold: bool = False) -> complex:
        """Rightmost eigenvalue at J0. cold: a full solve, random start and 2k eigenvalues,
        independent of the tracking (the check of a stable end)."""
        from .edge_spectrum import edge_eigenvalues

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


def _secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol):
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


def _find_jfp_matrix_free(params: ModelParams, net, J0_start: float, J0_range, step: float,
                          tol: float, k: int = 4, freq_tol: float = 1e-6,
                          max_restarts: int = 4, eig_tol: float = 1e-8,
                          krylov_dim: int | None = None) -> JFPResult:
    """find_jfp with the matrix-free eigen-solver (stdnet.edge_spectrum), for any N.

    Bracket: a full solve at J0_start (e.g. the bulk-theory J_FP, bulk.bulk_jfp), then
    steps of `step` towards the sign change; refinement: _secant_refine, each solve
    warm-started from the nearest J0 done (the tracked eigenvalues change little). A
    warm start could in principle lose an eigenvalue that crosses first, so the final
    stable end is re-checked by a full solve (random start, 2k eigenvalues); if that
    finds it unstable, the search restarts below it, as in the dense path.
    """
    res = JFPResult(np.nan, "none", np.nan, np.nan, np.nan, np.nan + 0j, np.nan + 0j)
    evaluate = _EdgeTracker(params, net, res, k, eig_tol, krylov_dim)
    found = _walk_to_bracket(evaluate, J0_start, J0_range, step)
    if found is None:
        return res
    lo, hi, lam_lo, lam_hi = found
    for restart in range(max_restarts + 1):
        lo, hi, lam_lo, lam_hi = _secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol)
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
            lo, hi, lam_lo, lam_hi = _secant_refine(evaluate, lo, hi, lam_lo, lam_hi, tol)
            break
    res.close(lo, hi, lam_lo, lam_hi, freq_tol)
    log.info("J_FP = %.6f (%s), %d evaluations, %d matrix-vector products", res.J_FP,
             res.crossing, len(res.evaluations), evaluate.matvecs)
    return res


# ---- files ----------------------------------------------------------------------------------


def write_eigen_file(path, params: ModelParams, seed: int, attrs: dict, spectra: dict,
                     extra: dict | None = None) -> None:
    """One realization's eigenvalue results, atomically: /params attrs, /meta provenance,
    root attrs (`attrs`), /spectra/<i> complex eigenvalue sets with their J0 as attribute,
    and optional extra datasets."""
    from . import io

    with io.atomic_h5(path) as f:
        io.write_attrs(f.create_group("params"), {**params.to_dict(), "seed": int(seed),
                                                  "N_E": params.N_E, "K_E": params.K_E,
                                                  "K_I": params.K_I})
        io.write_attrs(f.create_group("meta"), io.provenance())
        io.write_attrs(f, attrs)
        g = f.create_group("spectra")
        for i, J0 in enumerate(sorted(spectra)):
            d = g.create_dataset(f"{i:03d}", data=np.asarray(spectra[J0], dtype=complex))
            d.attrs["J0"] = float(J0)
        for key, value in (extra or {}).items():
            f.create_dataset(key, data=value)


def read_eigen_file(path) -> dict:
    """Read back a file written by write_eigen_file: attrs, params, spectra {J0: values}."""
    from . import io

    with io.open_h5(path, kind="eigenvalue file") as f:
        out = {"attrs": io.read_attrs(f), "params": io.read_attrs(f["params"])}
        out["spectra"] = {float(d.attrs["J0"]): d[()] for d in f["spectra"].values()}
        for key in f:
            if key not in ("params", "meta", "spectra"):
                out[key] = f[key][()]
    return out


# ---- the zero-frequency route: stationary heterogeneous states --------------------------


def short_run(params: ModelParams, seed: int, t_sim: float, dt: float = 0.05,
              perturbation: float = 1e-3, n_record: int = 4, record_every: float = 1.0,
              network=None):
    """A Simulator run of t_sim (tau) from the kicked homogeneous state; returns the
    finished Simulator (its .state.y is the end state, .result() the traces)."""
    from .params import RunParams
    from .simulate import Simulator

    rec = dt * max(1, int(round(record_every / dt)))
    n_rec = max(1, int(np.ceil(t_sim / rec)))
    run = RunParams(dt=dt, t_transient=0.0, t_record=n_rec * rec, record_interval=rec,
                    n_record=n_record, perturbation=perturbation)
    sim = Simulator(params, run, seed, network=network)
    sim.advance_to(run.total_steps)
    return sim


def settle_heterogeneous(params: ModelParams, seed: int, t_sim: float, dt: float = 0.05,
                         settle_tol: float = 1e-3, perturbation: float = 1e-3,
                         n_nodes: int = 80) -> dict:
    """Simulate one realization; if it has settled (max |F| < settle_tol) polish the end
    state to a fixed point by Newton, and compare its input statistics with the Gaussian
    theory. Returns {"y": state, "summary": {...}} (summary values are nan when unsettled).
    """
    from .integrate import network_vector_field
    from .meanfield import heterogeneous_fixed_point
    from .spectrum import jacobian_blocks, polish_fixed_point, rightmost_eigenvalues

    p = params
    sim = short_run(p, seed, t_sim, dt=dt, perturbation=perturbation)
    y = sim.state.y.copy()
    F_end = float(np.max(np.abs(network_vector_field(p, sim.net, y))))
    s = {"t_sim": float(t_sim), "F_end": F_end, "settled": False, "residual": np.nan,
         "heterogeneous": False}
    if F_end < settle_tol:
        try:
            y_fp, res = polish_fixed_point(p, sim.net, y)
            move = float(np.max(np.abs(y_fp - y)))
            # settled: Newton lands next to where the run ended (not on another branch):
            # within a fifth of the across-neuron spread of the inputs (at least 0.1)
            if move < max(0.1, 0.2 * float(np.std(y[: p.N]))):
                y = y_fp
                s.update(settled=True, residual=res)
            else:
                log.warning("Newton moved the end state by %.3g: not settled", move)
        except RuntimeError as err:
            log.warning("%s", err)
    N, N_E = p.N, p.N_E
    h, x = y[:N], y[N:]
    s.update(mu_E=float(h[:N_E].mean()), sigma_E=float(h[:N_E].std()),
             mu_I=float(h[N_E:].mean()), sigma_I=float(h[N_E:].std()),
             x_mean=float(x.mean()), x_sd=float(x.std()))
    s["heterogeneous"] = bool(s["settled"] and s["sigma_E"] > 1e-6)
    lam = np.nan + 0j
    if s["settled"]:
        lam = rightmost_eigenvalues(jacobian_blocks(p, sim.net, y))[0]
    s.update(lam_re=float(lam.real), lam_im=float(abs(lam.imag)))
    try:
        th = heterogeneous_fixed_point(p, n_nodes=n_nodes)
        s.update(theory_mu_E=th.mu_E, theory_sigma_E=th.sigma_E, theory_mu_I=th.mu_I,
                 theory_sigma_I=th.sigma_I)
    except RuntimeError:
        s.update(theory_mu_E=np.nan, theory_sigma_E=np.nan, theory_mu_I=np.nan,
                 theory_sigma_I=np.nan)
    s["heterogeneous"] = bool(s["heterogeneous"] and s["lam_re"] < 0)  # a stable het. FP
    return {"y": y, "summary": s}
