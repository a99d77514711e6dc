"""The two routes out of the homogeneous fixed point (paper Fig 8A-B; rule stability_routes):
for the first realization (by seed) of each crossing kind in the J_FP table, the spectrum
just below and above its J_FP, and a short run just above it.

stability/routes.h5 (write_routes / read_routes): /params attrs (the settings), one group
per kind found ("hopf", "real"), attrs seed, J_FP, J_lo, J_hi, n_E (recorded E neurons,
the first columns of nu) and datasets ev_lo, ev_hi (eigenvalues at J_lo, J_hi), t, nu
(rates of the recorded neurons).
"""
from __future__ import annotations

import logging

import numpy as np

from stdnet.files.io import atomic_h5, open_h5, read_attrs, write_attrs
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.runs import short_run
from stdnet.stability.spectrum import (
    DENSE_EIG_N_MAX,
    DENSE_N_MAX,
    jacobian_blocks,
    rightmost_eigenvalues,
)

log = logging.getLogger("stdnet.stability.routes")

KINDS = ("hopf", "real")
_ATTRS = ("seed", "J_FP", "J_lo", "J_hi", "n_E")
_DATA = ("ev_lo", "ev_hi", "t", "nu")


def route_eigen_method(N: int) -> str:
    """The eigen-solver of the routes' spectra at size N: dense eig up to DENSE_EIG_N_MAX,
    shift-invert (a dense N x N Schur complement) up to DENSE_N_MAX; ValueError naming N
    above (route_cases' check, which the config check makes before any job)."""
    if N > DENSE_N_MAX:
        raise ValueError(f"N: invalid value {N}; allowed: at most {DENSE_N_MAX} (the spectra "
                         "around J_FP are dense solves)")
    return "dense" if N <= DENSE_EIG_N_MAX else "shift_invert"


def route_cases(params: ModelParams, jfp, dJ: float, t_sim: float, dt: float,
                method: str = "rk4") -> list[dict]:
    """One case per crossing kind found at N = params.N in the J_FP table `jfp`: its
    realization's rightmost eigenvalues at J_FP -+ dJ (dense eig up to DENSE_EIG_N_MAX,
    shift-invert above) and a run of t_sim at J_FP + dJ (time step dt, `method`)."""
    N = params.N
    eig = route_eigen_method(N)
    cases = []
    for kind in KINDS:
        g = jfp[(jfp.N == N) & (jfp.crossing == kind)].sort_values("seed")
        if g.empty:
            log.info("N=%d: no realization with a %s crossing", N, kind)
            continue
        row = g.iloc[0]
        seed = int(row.seed)
        J_lo, J_hi = float(row.J_FP) - dJ, float(row.J_FP) + dJ
        base = params.replace(J0=J_lo)
        net = build_network(base, seed)
        ev = {J: rightmost_eigenvalues(jacobian_blocks(base.replace(J0=J), net), method=eig)
              for J in (J_lo, J_hi)}
        sim = short_run(base.replace(J0=J_hi), seed, t_sim, dt=dt, network=net, method=method)
        res = sim.result()
        cases.append({"kind": kind, "seed": seed, "J_FP": float(row.J_FP), "J_lo": J_lo,
                      "J_hi": J_hi, "ev_lo": ev[J_lo], "ev_hi": ev[J_hi], "t": res["time"],
                      "nu": res["recorded"]["nu"], "n_E": int(sim.rec_E.size)})
        log.info("%s: seed %d, J_FP %.4f; rightmost above %.4f%+.4fi", kind, seed, row.J_FP,
                 ev[J_hi][0].real, abs(ev[J_hi][0].imag))
    return cases


def write_routes(path, cases: list, attrs: dict) -> None:
    """routes.h5 from route_cases' cases; attrs (the settings) go to /params."""
    with atomic_h5(path) as f:
        write_attrs(f.create_group("params"), attrs)
        for c in cases:
            g = f.create_group(c["kind"])
            write_attrs(g, {k: c[k] for k in _ATTRS})
            for k in _DATA:
                g.create_dataset(k, data=np.asarray(c[k]))


def read_routes(path) -> list[dict]:
    """The cases of a routes.h5 file, as route_cases returned them."""
    cases = []
    with open_h5(path, kind="routes file") as f:
        for kind in KINDS:
            if kind in f:
                g = f[kind]
                a = read_attrs(g)
                cases.append({"kind": kind, **{k: a[k] for k in _ATTRS},
                              **{k: g[k][()] for k in _DATA}})
    return cases
