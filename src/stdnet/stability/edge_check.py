"""Rightmost eigenvalues of one realization at fixed couplings against the random-matrix
bulk edge (stdnet.theory.bulk) at the same J0: the jacobian_spectrum rule's computation, and the
table of all realizations (tables/spectrum_edge.csv).

spectrum.h5 (eigenfile.write_eigen_file) holds, besides the eigenvalues found at each J0,
root attrs N, seed, n_J0 and per J0 index i: J0_i, lam_re_i, lam_im_i (the rightmost
eigenvalue, |Im|), edge_re_i, edge_im_i (the bulk edge and its frequency).
"""
from __future__ import annotations

import logging
import time

import pandas as pd

from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.stability.eigenfile import read_eigen_file, write_eigen_file
from stdnet.stability.spectrum import AUTO_DENSE_N_MAX, jacobian_blocks, rightmost_eigenvalues
from stdnet.theory.bulk import bulk_edge, targets_right_of_edge

log = logging.getLogger("stdnet.stability.edge_check")

def fixed_j0_spectra(params: ModelParams, seed: int, J0_values, targets, k: int = 4,
                     maxiter: int = 30, dense_max_N: int = AUTO_DENSE_N_MAX
                     ) -> tuple[dict, dict]:
    """Rightmost eigenvalues of realization (params.N, seed) at each J0, with the shift-invert
    targets moved right of the predicted bulk edge (bulk.targets_right_of_edge), so that
    the rightmost eigenvalues are among the nearest.

    Returns (attrs, spectra): the root attrs of spectrum.h5 (module docstring) and
    {J0: eigenvalues}; write_spectrum_file writes them.
    """
    N, seed = params.N, int(seed)
    spectra, attrs = {}, {"N": N, "seed": seed}
    net = None
    for i, J0 in enumerate(J0_values):
        t0 = time.perf_counter()
        model = params.replace(J0=float(J0))
        net = net or build_network(model, seed)
        edge, w = bulk_edge(model)
        ev = rightmost_eigenvalues(jacobian_blocks(model, net), k=k,
                                   targets=targets_right_of_edge(targets, edge),
                                   maxiter=maxiter, dense_max_N=dense_max_N)
        spectra[float(J0)] = ev
        attrs.update({f"J0_{i}": float(J0), f"lam_re_{i}": ev[0].real,
                      f"lam_im_{i}": abs(ev[0].imag), f"edge_re_{i}": edge,
                      f"edge_im_{i}": w})
        log.info("N=%d seed=%d J0=%g: rightmost %.5f%+.5fi, bulk edge %.5f at omega %.3f "
                 "(%.1f s)", N, seed, J0, ev[0].real, abs(ev[0].imag), edge, w,
                 time.perf_counter() - t0)
    attrs["n_J0"] = len(J0_values)
    return attrs, spectra


def write_spectrum_file(path, params: ModelParams, seed: int, attrs: dict, spectra: dict
                        ) -> None:
    """spectrum.h5 of one realization (eigenfile.write_eigen_file; read_eigen_file reads
    it); its /params record the model at the last J0 of attrs."""
    last = params.replace(J0=float(attrs[f"J0_{int(attrs['n_J0']) - 1}"]))
    write_eigen_file(path, last, seed, attrs, spectra)


#: the columns of tables/spectrum_edge.csv
SPECTRUM_COLUMNS = ("N", "seed", "J0", "lam_re", "lam_im", "edge_re", "edge_im")


def spectrum_table(paths) -> pd.DataFrame:
    """tables/spectrum_edge.csv from spectrum.h5 files: one row per (N, seed, J0); no rows,
    but the columns, where no J_FP size is small enough for the fixed-J0 spectra."""
    rows = []
    for path in paths:
        a = read_eigen_file(path)["attrs"]
        for i in range(int(a["n_J0"])):
            rows.append({"N": a["N"], "seed": a["seed"], "J0": a[f"J0_{i}"],
                         "lam_re": a[f"lam_re_{i}"], "lam_im": a[f"lam_im_{i}"],
                         "edge_re": a[f"edge_re_{i}"], "edge_im": a[f"edge_im_{i}"]})
    return pd.DataFrame(rows, columns=list(SPECTRUM_COLUMNS))
