"""The DMF solution file (HDF5): write_dmf and its reader read_dmf.

Layout: root attributes populations, converged, iterations, wall_time_s,
clipped_fraction; groups info (problem and settings) and meta (provenance);
datasets lags, delta (pop x lag), q, delta_xi, mu, signal_means, signal_acov,
x_mean, residuals, mu_history, delta0_history, decorrelation_time; per population
hist/{name} with the h and nu histograms (counts, edges).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from stdnet.files import io

if TYPE_CHECKING:
    from stdnet.dmf.solver import DMFResult


def write_dmf(path, res: DMFResult) -> None:
    """HDF5, atomically: /lags, /delta (pop x lag), ..., attrs with settings and flags."""
    with io.atomic_h5(path) as f:
        io.write_attrs(f, {"populations": ",".join(res.names), "converged": bool(res.converged),
                           "iterations": res.iterations, "wall_time_s": res.wall_time_s,
                           "clipped_fraction": res.clipped_fraction})
        io.write_attrs(f.create_group("info"), res.info)
        io.write_attrs(f.create_group("meta"), io.provenance())
        io.write_datasets(f, {"lags": res.lags, "delta": res.delta, "q": res.q,
                              "delta_xi": res.delta_xi, "mu": res.mu,
                              "signal_means": res.signal_means, "signal_acov": res.signal_acov,
                              "x_mean": res.x_mean, "residuals": res.residuals,
                              "mu_history": res.mu_history,
                              "delta0_history": res.delta0_history,
                              "decorrelation_time": res.decorrelation_time()}, compress=False)
        for a, name in enumerate(res.names):
            g = f.create_group(f"hist/{name}")
            g["h_counts"], g["h_edges"] = res.hist_h[a]
            g["nu_counts"], g["nu_edges"] = res.hist_nu[a]


def read_dmf(path) -> dict:
    """The dict of a write_dmf file: datasets and root attributes, info as a dict,
    hist as nested dicts, populations as a list."""
    with io.open_h5(path, kind="DMF solution") as f:
        out = io.read_group(f)
        out.update(io.read_attrs(f))
        out["info"] = io.read_attrs(f["info"])
    out["populations"] = out["populations"].split(",")
    return out
