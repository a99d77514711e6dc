"""The HDF5 files of eigenvalue results (one realization each: rule jfp_search writes
jfp.h5, rule jacobian_spectrum spectrum.h5) and the J_FP table made from them.

Layout (write_eigen_file / read_eigen_file): /params attrs (the model, seed, N_E, K_E,
K_I), /meta provenance, root attrs (the results: JFPResult.row() and more for jfp.h5,
edge_check's per-J0 attrs for spectrum.h5), /spectra/<i> complex eigenvalue sets with
their J0 as attribute, and optional extra datasets (jfp.h5: /evaluations, rows J0, Re, Im
of the rightmost eigenvalue of each solve).

tables/jfp.csv (jfp_table, written with tables.write_table at TABLE_FLOAT_FORMAT): one row
per (N, seed) with JFP_COLUMNS first; the transition stage reads N, seed, J_FP, crossing,
frequency.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stdnet.files import io
from stdnet.model.params import ModelParams

#: leading columns of tables/jfp.csv (the interface to the transition stage)
JFP_COLUMNS = ["N", "seed", "J_FP", "crossing", "frequency"]
#: float format of the tables of this stage made from eigenvalue files (jfp, spectrum_edge)
TABLE_FLOAT_FORMAT = "%.8g"
#: every column of tables/jfp.csv: root attrs of jfp.h5
JFP_TABLE_COLUMNS = JFP_COLUMNS + ["J0_lo", "J0_hi", "lam_lo_re", "lam_lo_im", "lam_hi_re",
                                   "lam_hi_im", "n_evaluations", "J_FP_bulk",
                                   "frequency_bulk", "wall_time_s"]


def write_eigen_file(path, params: ModelParams, seed: int, attrs: dict, spectra: dict,
                     extra: dict | None = None) -> None:
    """One realization's eigenvalue results, atomically: /params attrs, /meta provenance,
    root attrs (`attrs`), /spectra/<i> complex eigenvalue sets with their J0 as attribute,
    and optional extra datasets."""
    with io.atomic_h5(path) as f:
        io.write_params(f, params, seed)
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
    with io.open_h5(path, kind="eigenvalue file") as f:
        out = {"attrs": io.read_attrs(f), "params": io.read_attrs(f["params"])}
        out["spectra"] = {float(d.attrs["J0"]): d[()] for d in f["spectra"].values()}
        for key in f:
            if key not in ("params", "meta", "spectra"):
                out[key] = f[key][()]
    return out


def write_jfp_file(path, params: ModelParams, seed: int, result, attrs: dict) -> None:
    """jfp.h5 of one realization: attrs (jfp.search_realization), the spectra found at each
    J0 and /evaluations of the jfp.JFPResult `result`."""
    write_eigen_file(path, params, seed, attrs, result.spectra,
                     extra={"evaluations": np.array(result.evaluations).reshape(-1, 3)})


def jfp_table(paths) -> pd.DataFrame:
    """One row per jfp.h5 file (JFP_TABLE_COLUMNS), sorted by N and seed."""
    rows = [{k: a[k] for k in JFP_TABLE_COLUMNS}
            for a in (read_eigen_file(path)["attrs"] for path in paths)]
    return pd.DataFrame(rows, columns=JFP_COLUMNS if not rows else None).sort_values(
        ["N", "seed"])
