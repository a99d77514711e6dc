"""The heterogeneous fixed point, simulation against the self-consistent Gaussian theory
(paper Fig 8C-D; rule hetfp_compare): runs of one realization at several J0 that settle
on a stationary heterogeneous state (stability.runs.settle_heterogeneous), and the
theory's branch over J0 (theory.meanfield.heterogeneous_branch).

Files (write_hetfp / read_hetfp):
- tables/hetfp.csv: one row per J0: N, seed, J0 and settle_heterogeneous's summary;
- stability/hetfp.h5: /params attrs (the settings), /J0~<J0> groups (attrs: that row;
  datasets h (N inputs) and x (N_E efficacies) of the end state, gzip), /theory
  (rows J0, mu_E, mu_I, sigma_E, sigma_I; nan where the theory has no solution).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stdnet.files.io import atomic_h5, open_h5, write_attrs
from stdnet.files.tables import read_table, write_table
from stdnet.model.params import ModelParams
from stdnet.stability.runs import settle_heterogeneous
from stdnet.theory.meanfield import heterogeneous_branch

log = logging.getLogger("stdnet.stability.hetfp")

#: columns of /theory in hetfp.h5
THEORY_COLUMNS = ["J0", "mu_E", "mu_I", "sigma_E", "sigma_I"]
#: J0 points of the theory curves
N_THEORY = 60


@dataclass
class HetFPComparison:
    rows: list  # one dict per simulated J0 (the table's rows)
    states: list  # the end state y = (h, x) of each run
    theory: np.ndarray  # (N_THEORY, 5): THEORY_COLUMNS


def hetfp_compare(params: ModelParams, seed: int, J0_values, *, t_sim: float, dt: float,
                  settle_tol: float, perturbation: float, theory_J0, n_nodes: int,
                  method: str = "rk4") -> HetFPComparison:
    """Simulate realization (params.N, seed) at each J0 for t_sim and polish what settled
    (settle_heterogeneous, its theory at the default number of nodes); the theory branch
    at N_THEORY points over theory_J0 with n_nodes Gauss-Hermite nodes."""
    N, seed = params.N, int(seed)
    rows, states = [], []
    for J0 in J0_values:
        out = settle_heterogeneous(params.replace(J0=float(J0)), seed, t_sim=t_sim, dt=dt,
                                   settle_tol=settle_tol, perturbation=perturbation,
                                   method=method)
        row = {"N": N, "seed": seed, "J0": float(J0), **out["summary"]}
        rows.append(row)
        states.append(out["y"])
        log.info("J0=%g: settled=%s het=%s mu_E=%.4f sigma_E=%.4f (theory %.4f, %.4f)", J0,
                 row["settled"], row["heterogeneous"], row["mu_E"], row["sigma_E"],
                 row["theory_mu_E"], row["theory_sigma_E"])
    J0s = np.linspace(*theory_J0, N_THEORY)
    branch = heterogeneous_branch(params, J0s, n_nodes=n_nodes)
    theory = pd.DataFrame([{"J0": J, **(hp.to_dict() if hp else {})} for J, hp in
                           zip(J0s, branch)])
    theory = theory.reindex(columns=THEORY_COLUMNS).to_numpy(dtype=float)
    return HetFPComparison(rows, states, theory)


def write_hetfp(h5_path, table_path, result: HetFPComparison, attrs: dict) -> None:
    """hetfp.h5 (attrs: the settings, into /params) and tables/hetfp.csv."""
    with atomic_h5(h5_path) as f:
        write_attrs(f.create_group("params"), attrs)
        for row, y in zip(result.rows, result.states):
            N = int(row["N"])
            g = f.create_group(f"J0~{row['J0']:g}")
            write_attrs(g, row)
            g.create_dataset("h", data=y[:N], compression="gzip")
            g.create_dataset("x", data=y[N:], compression="gzip")
        f.create_dataset("theory", data=result.theory)
    write_table(pd.DataFrame(result.rows), table_path, "%.8g")


def read_hetfp(h5_path, table_path) -> dict:
    """What the figure draws: table (tables/hetfp.csv), theory (THEORY_COLUMNS rows) and
    sample, the last run that settled on a heterogeneous state (J0, its E inputs h_E, its
    efficacies x, the theory's mu and sigma of the E inputs), or None if none did."""
    table = read_table(table_path)
    sample = None
    with open_h5(h5_path, kind="heterogeneous fixed point file") as f:
        theory = f["theory"][()]
        het = table[table.heterogeneous.astype(bool)]
        if len(het):
            row = het.iloc[-1]
            g = f[f"J0~{row.J0:g}"]
            x = g["x"][()]
            sample = {"J0": float(row.J0), "h_E": g["h"][: x.size], "x": x,
                      "mu": float(row.theory_mu_E), "sigma": float(row.theory_sigma_E)}
    return {"table": table, "theory": theory, "sample": sample}
