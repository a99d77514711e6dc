"""Linear stability of the homogeneous fixed point (shared MODEL.md section 3).

- homogeneous perturbations: the 3x3 Jacobian of the population equations and its
  eigenvalues over (N, J0, I0) grids (paper Fig 3);
- heterogeneous perturbations of one realization: J_FP, the J0 where the rightmost
  eigenvalue of the sparse (N + N_E)-dimensional Jacobian (stdnet.spectrum) crosses
  zero, by bracketing and bisection, and the kind of crossing (Hopf or real);
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

    def row(self) -> dict:
        return {"J_FP": self.J_FP, "crossing": self.crossing, "frequency": self.frequency,
                "J0_lo": self.J0_lo, "J0_hi": self.J0_hi,
                "lam_lo_re": self.lam_lo.real, "lam_lo_im": abs(self.lam_lo.imag),
                "lam_hi_re": self.lam_hi.real, "lam_hi_im": abs(self.lam_hi.imag),
                "n_evaluations": len(self.evaluations)}


def find_jfp(params: ModelParams, net, J0_start: float, J0_range=(0.3, 2.0),
             step: float = 0.05, tol: float = 1e-3, targets=None, k: int = 4,
             method: str = "auto", freq_tol: float = 1e-6, maxiter: int = 30,
             dense_max_N: int = 300, k_track: int = 4, max_restarts: int = 4,
             real_target_max_freq: float = 0.05, edge_margin: float = 0.02) -> JFPResult:
    """J_FP of one realization: bracket on a J0 grid (spacing `step`, from J0_start
    towards the sign change), then bisect to a bracket narrower than `tol`.

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
    res.J0_lo, res.J0_hi = float(lo), float(hi)
    res.J_FP = 0.5 * (lo + hi)
    res.lam_lo, res.lam_hi = complex(lam_lo), complex(lam_hi)
    res.frequency = float(abs(lam_hi.imag))
    res.crossing = "hopf" if res.frequency > freq_tol else "real"
    if res.crossing == "real":
        res.frequency = 0.0
    res.spectra = cache
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
    import h5py

    from . import io

    with h5py.File(path, "r") as f:
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
