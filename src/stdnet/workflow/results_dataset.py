"""A results folder in one line: the per-run summaries of its tables as one xarray.Dataset
over (N, J0, seed).

    >>> import stdnet
    >>> ds = stdnet.open_results("results")
    >>> ds.lambda_max.sel(N=2000, seed=1)           # lambda_max vs J0 of one realization
    >>> ds.nu_E.mean("seed")                         # the E rate, mean over realizations
    >>> ds.J_ch - ds.J_FP                            # per realization (N, seed): the width
    >>> ds.attrs["missing_runs"]            # expected points without a row in runs.csv

Variables (each with `units` and `description` in its attrs), read from what the results
folder has; a table that is not there leaves its variables out (attrs "tables_read" and
"tables_absent" say which), a run absent from a table leaves NaN:

    tables/runs.csv          rates, mean inputs, variances, chi_E, the homogeneous fixed
                             point, settled_homogeneous, simulation_wall_s
    tables/regimes.csv       lambda_max with its interval (lambda_max_half_width, _lo, _hi),
    (else lyapunov.csv)      decision, converged, kaplan_yorke, ..., regime (regimes.csv),
                             every exponent with its half width (dimension `exponent`)
    tables/transition.csv    per realization (N, seed): J_FP, crossing, J_ch with its
    (else jfp.csv, onset.csv)  standard error and interval, width, route, onset_status
    tables/correlation_terms.csv  per recording, dimensions target (E, I) x block (E, I,
                             cross, total): the input covariance's shared-input and
                             correlation terms, the measured covariance, the fraction
                             cancelled and the input variance, with standard errors

Booleans are 1.0 / 0.0 (NaN where the run is absent), strings objects (NaN where absent).

Missing runs: the expected points are those the config simulates (open_results(...,
config=...)), else the product of the N, J0 and seed values of the per-run tables (runs,
regimes or lyapunov, correlation_terms), else, before any table is written, the run
folders N~*/J0~*/seed~*. An expected point without a row in runs.csv is missing (variable
`missing`, attrs "missing_runs"): not run, failed, or not summarised yet (without a config,
a product point the config never asked for, where its points are not a full product, e.g.
correlations.runs blocks, counts too). Run folders off these points (the onset search's
probes, tables/onset_probes.csv) are not part of the dataset.

Trajectories stay on disk and load lazily: `simulation_file` holds each run's
simulation.h5 ('' where there is none), whose groups open as datasets with named
dimensions (h5netcdf, in the test extra: pip install h5netcdf); nothing is read until used:

    >>> import xarray as xr
    >>> path = ds.simulation_file.sel(N=2000, J0=1.5, seed=1).item()
    >>> time = xr.open_dataset(path, engine="h5netcdf", phony_dims="sort").time  # tau
    >>> pop = xr.open_dataset(path, engine="h5netcdf", group="population",
    ...                       phony_dims="sort").assign_coords(time=time)
    >>> pop.nu_E.sel(time=slice(100, 200)).mean()   # reads these samples only
    >>> rec = xr.open_dataset(path, engine="h5netcdf", group="recorded", phony_dims="sort")
    >>> rec.nu.sel(index=0)   # the rate trace of neuron 0 (index: the recorded neurons)

(`phony_dims="sort"` names any dimension a foreign file leaves anonymous; stdnet's files
name all of theirs.)
"""
from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from stdnet.files.errors import InputFileError
from stdnet.files.tables import read_table
from stdnet.model.params import format_J0
from stdnet.transition.regimes import REGIMES
from stdnet.workflow.config import load_config_files, schema_dir
from stdnet.workflow.plan import SweepPlan, run_dir

RUN = ["N", "J0", "seed"]
REALIZATION = ["N", "seed"]

#: runs.csv: column -> (variable, units, description) (stdnet.simulation.summary)
RUN_COLUMNS = {
    "I0": ("I0", "1", "external current"),
    "nu_E": ("nu_E", "1/tau", "mean rate of the E neurons after the transient"),
    "nu_I": ("nu_I", "1/tau", "mean rate of the I neurons after the transient"),
    "h_E": ("h_E", "1", "mean input of the E neurons after the transient"),
    "h_I": ("h_I", "1", "mean input of the I neurons after the transient"),
    "x": ("x", "1", "mean depression variable of the E neurons (1: no depression)"),
    "h_E_var_temporal": ("h_E_var_temporal", "1",
                         "mean over the E neurons of each one's variance of h over time"),
    "h_E_var_spatial": ("h_E_var_spatial", "1", "variance over the E neurons of their mean h"),
    "h_I_var_temporal": ("h_I_var_temporal", "1",
                         "mean over the I neurons of each one's variance of h over time"),
    "h_I_var_spatial": ("h_I_var_spatial", "1", "variance over the I neurons of their mean h"),
    "nu_E_var_temporal": ("nu_E_var_temporal", "1/tau^2",
                          "mean over the E neurons of each one's variance of the rate over time"),
    "nu_E_var_spatial": ("nu_E_var_spatial", "1/tau^2",
                         "variance over the E neurons of their mean rate"),
    "nu_I_var_temporal": ("nu_I_var_temporal", "1/tau^2",
                          "mean over the I neurons of each one's variance of the rate over time"),
    "nu_I_var_spatial": ("nu_I_var_spatial", "1/tau^2",
                         "variance over the I neurons of their mean rate"),
    "x_var_spatial": ("x_var_spatial", "1", "variance over the E neurons of their mean x"),
    "chi_E": ("chi_E", "1", "synchrony: sd of the population-mean E rate over the rms "
              "single-neuron sd (~1 synchronous, ~1/sqrt(N) asynchronous)"),
    "fp_nu_E": ("fp_nu_E", "1/tau", "E rate at the homogeneous fixed point of the network"),
    "fp_nu_I": ("fp_nu_I", "1/tau", "I rate at the homogeneous fixed point of the network"),
    "fp_x": ("fp_x", "1", "x at the homogeneous fixed point of the network"),
    "final_deviation_from_fp": ("final_deviation_from_fp", "1", "largest distance (max norm "
                                "on h and x) of the final state from the homogeneous fixed point"),
    "settled_homogeneous": ("settled_homogeneous", "1", "the run ended on the homogeneous "
                            "fixed point (within summary.fp_tolerance): 1.0 yes, 0.0 no"),
    "wall_time_s": ("simulation_wall_s", "s", "wall time of the simulation"),
}

#: regimes.csv / lyapunov.csv: column -> (variable, units, description)
LYAPUNOV_COLUMNS = {
    "lambda_max": ("lambda_max", "1/tau", "largest Lyapunov exponent"),
    "ci_max": ("lambda_max_half_width", "1/tau",
               "half width of lambda_max's confidence interval (batch means; docs/onset.md)"),
    "decision": ("decision", "", "chaos decision: chaotic, not chaotic or undecided "
                 "(the interval against transition.zero_tol)"),
    "converged": ("converged", "1", "lambda_max's interval met the tolerance: 1.0 yes, 0.0 no"),
    "m": ("n_exponents", "1", "number of exponents computed"),
    "kaplan_yorke": ("kaplan_yorke", "1", "Kaplan-Yorke dimension of the computed exponents"),
    "t_average_total": ("t_average_total", "tau", "averaging time, extensions included"),
    "n_extensions": ("n_extensions", "1", "extensions while undecided"),
    "wall_time_s": ("lyapunov_wall_s", "s", "wall time of the Lyapunov run"),
    "regime": ("regime", "", f"regime of the run: {', '.join(REGIMES)} "
               "(stdnet.transition.regimes)"),
}

#: transition.csv (else jfp.csv and onset.csv): column -> (variable, units, description)
REALIZATION_COLUMNS = {
    "J_FP": ("J_FP", "1", "J0 where the homogeneous fixed point loses stability"),
    "crossing": ("crossing", "", "how it loses stability: hopf or real (zero frequency)"),
    "J_ch": ("J_ch", "1", "onset of chaos: zero crossing of lambda_max(J0) over the probes"),
    "J_ch_se": ("J_ch_se", "1", "standard error of J_ch"),
    "J_ch_ci_lo": ("J_ch_ci_lo", "1", "lower end of J_ch's confidence interval"),
    "J_ch_ci_hi": ("J_ch_ci_hi", "1", "upper end of J_ch's confidence interval"),
    "onset_status": ("onset_status", "", "outcome of the onset search"),
    "width": ("width", "1", "width of the transition region, J_ch - J_FP"),
    "route": ("route", "", "regimes crossed along the grid's J0, e.g. 'hFP > P > C'"),
}

#: correlation_terms.csv '<target>.<block>.<term>' -> (variable, units, description)
CORRELATION_TERMS = {
    "shared": ("input_cov_shared", "1", "shared-input term of the mean pairwise covariance "
               "of the targets' block inputs"),
    "corr": ("input_cov_corr", "1", "correlation term of the mean pairwise input covariance"),
    "measured": ("input_cov_measured", "1", "measured mean pairwise input covariance "
                 "(shared + corr up to round-off)"),
    "fraction": ("cancelled_fraction", "1", "fraction of the shared-input term cancelled, "
                 "1 - measured / shared"),
    "var": ("input_var", "1", "mean variance of a target's block input"),
}
TARGETS, BLOCKS = ("E", "I"), ("E", "I", "cross", "total")

_FOLDER = re.compile(r"N~(\d+)/J0~([^/]+)/seed~(\d+)$")


def open_results(results_dir, config=None) -> xr.Dataset:
    """The per-run summaries of the results folder `results_dir` as an xarray.Dataset over
    (N, J0, seed), per-realization numbers over (N, seed); which runs are missing, and how
    to open a run's trajectory lazily: this module's docstring.

    config: the config file(s) of the run (a path or a list, laid over one another as
    `stdnet status` does, e.g. ["config/params.yaml", "config/width.yaml"]): the points
    it simulates are the ones expected, so a point the tables have not reached yet counts
    as missing too. Without it, the expected points are the product of the N, J0 and seed
    values of the per-run tables (or of the run folders, where there are no tables yet).

    InputFileError (exit code 8) naming the folder where it does not exist, is not a
    folder, or holds neither tables nor run folders."""
    root = Path(results_dir)
    if not root.exists():
        raise InputFileError(f"results folder {str(root)!r} does not exist; allowed: the "
                             "`results:` folder of a workflow run (e.g. results/)")
    if not root.is_dir():
        raise InputFileError(f"results folder {str(root)!r} is not a folder")
    tables = root / "tables"
    read, absent = [], []

    def table(name: str) -> pd.DataFrame | None:
        path = tables / name
        if not path.exists():
            absent.append(name)
            return None
        read.append(name)
        return _canonical(read_table(path))

    runs = table("runs.csv")
    regimes = table("regimes.csv")
    if regimes is None:
        regimes = table("lyapunov.csv")
    realizations = _realizations(table)
    correlations = table("correlation_terms.csv")
    files = _simulation_files(root)
    if not read and files.empty and config is None:
        raise InputFileError(f"results folder {str(root)!r} holds no results: neither "
                             "tables/*.csv nor run folders N~*/J0~*/seed~*")

    per_run = [t for t in (runs, regimes, correlations) if t is not None]
    expected, source = _expected_points(config, per_run, files)
    points = pd.DataFrame(sorted(expected), columns=RUN)
    coords = {"N": _values([t["N"] for t in [points, *per_run, *realizations]], int),
              "J0": _values([t["J0"] for t in [points, *per_run]], float),
              "seed": _values([t["seed"] for t in [points, *per_run, *realizations]], int)}
    ds = xr.Dataset(coords=coords)
    if runs is not None:
        ds = ds.merge(_variables(runs, RUN, RUN_COLUMNS, coords))
    if regimes is not None:
        ds = ds.merge(_variables(regimes, RUN, LYAPUNOV_COLUMNS, coords))
        ds = ds.merge(_lyapunov_interval(ds))
        ds = ds.merge(_exponents(regimes, coords))
    for t in realizations:
        ds = ds.merge(_variables(t, REALIZATION, REALIZATION_COLUMNS, coords))
    if "J_ch" in ds and "J_FP" in ds and "width" not in ds:  # onset.csv and jfp.csv
        ds["width"] = _described(ds["J_ch"] - ds["J_FP"], *REALIZATION_COLUMNS["width"][1:])
    if correlations is not None:
        ds = ds.merge(_correlation_terms(correlations, coords))
    ds["simulation_file"] = _described(_file_paths(files, coords), "",
                                       "the run's simulation.h5 ('' where there is none)")
    missing = _present(points, coords) & ~_present(runs, coords)
    ds["missing"] = _described(missing, "1", "an expected point (attrs 'expected_points') "
                               "without a row in tables/runs.csv")
    ds.attrs.update({
        "results_dir": str(root),
        "tables_read": read, "tables_absent": absent,
        "expected_points": source,
        "missing_runs": [f"N={N}, J0={format_J0(J0)}, seed={s}" for N, J0, s in
                         _points(ds["missing"])],
    })
    return ds


def _expected_points(config, per_run: list, files: pd.DataFrame) -> tuple[set, str]:
    """The (N, J0, seed) a run should have, and where they come from (open_results)."""
    if config is not None:
        paths = [config] if isinstance(config, (str, Path)) else list(config)
        plan = SweepPlan(load_config_files(paths, schema_dir()))
        simulated = dict((rule, pts) for rule, _, pts in plan.point_outputs())["simulate"]
        return ({(int(N), float(J0), int(s)) for N, J0, s in simulated},
                f"the points simulated by {' + '.join(str(p) for p in paths)}")
    if per_run:
        values = [_values([t[k] for t in per_run], kind)
                  for k, kind in zip(RUN, (int, float, int))]
        return (set(itertools.product(*values)),
                "the product of the N, J0 and seed values of the per-run tables")
    return ({(int(r.N), float(r.J0), int(r.seed)) for r in files.itertuples()},
            "the run folders (no per-run table yet; onset probes included)")


# ---- tables -------------------------------------------------------------------------------
def _canonical(table: pd.DataFrame) -> pd.DataFrame:
    """J0 as the value of its canonical text (the run folders' names), so tables match."""
    if "J0" in table:
        table = table.assign(J0=[float(format_J0(j)) for j in table["J0"]])
    return table


def _realizations(table) -> list[pd.DataFrame]:
    """The per-realization tables: transition.csv, else jfp.csv and onset.csv."""
    transition = table("transition.csv")
    if transition is not None:
        return [transition]
    return [t for t in (table("jfp.csv"), table("onset.csv")) if t is not None]


def _values(columns, kind) -> list:
    values = set()
    for col in columns:
        values.update(kind(v) for v in col if not (isinstance(v, float) and math.isnan(v)))
    return sorted(values)


def _described(da: xr.DataArray, units: str, description: str) -> xr.DataArray:
    return da.assign_attrs(units=units, description=description)


def _as_values(column: pd.Series) -> pd.Series:
    """Booleans as 1.0 / 0.0 (so that an absent run can be NaN), the rest as it is."""
    if column.dtype == bool:
        return column.astype(float)
    return column


def _variables(table: pd.DataFrame, keys: list, columns: dict, coords: dict) -> xr.Dataset:
    """The columns of `table` named in `columns`, over `keys`, on the coordinates."""
    present = {c: spec for c, spec in columns.items() if c in table}
    frame = table.drop_duplicates(keys, keep="last").set_index(keys)
    data = {}
    for column, (name, units, description) in present.items():
        values = _as_values(frame[column])
        da = xr.DataArray.from_series(values).reindex({k: coords[k] for k in keys})
        data[name] = _described(da, units, description)
    return xr.Dataset(data)


def _lyapunov_interval(ds: xr.Dataset) -> xr.Dataset:
    lam, half = ds["lambda_max"], ds["lambda_max_half_width"]
    return xr.Dataset({
        "lambda_max_lo": _described(lam - half, "1/tau", "lower end of lambda_max's interval"),
        "lambda_max_hi": _described(lam + half, "1/tau", "upper end of lambda_max's interval")})


def _exponents(table: pd.DataFrame, coords: dict) -> xr.Dataset:
    """lambda_k and ci_k (k = 1, 2, ...) over a dimension `exponent`."""
    ks = sorted(int(c.split("_")[1]) for c in table if re.fullmatch(r"lambda_\d+", c))
    if not ks:
        return xr.Dataset()
    frame = table.drop_duplicates(RUN, keep="last").set_index(RUN)
    out = {}
    for prefix, name, description in (
            ("lambda", "exponents", "the Lyapunov exponents, largest first"),
            ("ci", "exponents_half_width", "half width of each exponent's interval")):
        cols = [f"{prefix}_{k}" for k in ks if f"{prefix}_{k}" in frame]
        if len(cols) != len(ks):
            continue
        da = xr.DataArray.from_series(
            frame[cols].set_axis(ks, axis=1).rename_axis("exponent", axis=1).stack(
                future_stack=True))
        da = da.reindex({k: coords[k] for k in RUN} | {"exponent": ks})
        out[name] = _described(da.transpose(*RUN, "exponent"), "1/tau", description)
    return xr.Dataset(out)


def _correlation_terms(table: pd.DataFrame, coords: dict) -> xr.Dataset:
    """The terms '<target>.<block>.<term>' (and '..._se') over (target, block)."""
    frame = table.drop_duplicates(RUN, keep="last").set_index(RUN)
    out = {}
    for term, (name, units, description) in CORRELATION_TERMS.items():
        for suffix, what in (("", description), ("_se", f"standard error: {description}")):
            cols = {(a, b): f"{a}.{b}.{term}{suffix}" for a in TARGETS for b in BLOCKS}
            if not any(c in frame for c in cols.values()):
                continue
            data = np.full((len(frame), len(TARGETS), len(BLOCKS)), np.nan)
            for (a, b), c in cols.items():
                if c in frame:
                    data[:, TARGETS.index(a), BLOCKS.index(b)] = frame[c].astype(float)
            da = xr.DataArray(data, dims=("run", "target", "block"),
                              coords={"run": frame.index, "target": list(TARGETS),
                                      "block": list(BLOCKS)}).unstack("run")
            da = da.reindex({k: coords[k] for k in RUN}).transpose(*RUN, "target", "block")
            out[name + suffix] = _described(da, units, what)
    return xr.Dataset(out)


# ---- run folders --------------------------------------------------------------------------
def _simulation_files(root: Path) -> pd.DataFrame:
    """N, J0, seed and path of every run folder's simulation.h5."""
    rows = []
    pattern = Path(run_dir(".", "*", "*", "*")) / "simulation.h5"  # N~*/J0~*/seed~*/...
    for path in root.glob(str(pattern)):
        m = _FOLDER.search(str(path.parent.relative_to(root)))
        if m is None:
            continue
        try:
            J0 = float(format_J0(float(m.group(2))))
        except ValueError:  # a folder that is not a run's
            continue
        rows.append({"N": int(m.group(1)), "J0": J0, "seed": int(m.group(3)),
                     "path": str(path)})
    return pd.DataFrame(rows, columns=["N", "J0", "seed", "path"])


def _file_paths(files: pd.DataFrame, coords: dict) -> xr.DataArray:
    """The simulation files at the points of the coordinates (others, e.g. the onset
    probes' folders, are left out)."""
    paths = np.full([len(coords[k]) for k in RUN], "", dtype=object)
    index = {k: {v: i for i, v in enumerate(coords[k])} for k in RUN}
    for r in files.itertuples():
        at = (index["N"].get(r.N), index["J0"].get(r.J0), index["seed"].get(r.seed))
        if None not in at:
            paths[at] = r.path
    return xr.DataArray(paths, dims=RUN, coords={k: coords[k] for k in RUN})


def _present(table: pd.DataFrame | None, coords: dict) -> xr.DataArray:
    """Whether `table` (None: no table) has a row for each point of the coordinates."""
    have = np.zeros([len(coords[k]) for k in RUN], dtype=bool)
    if table is not None:
        index = {k: {v: i for i, v in enumerate(coords[k])} for k in RUN}
        for N, J0, s in table[RUN].itertuples(index=False):
            have[index["N"][int(N)], index["J0"][float(J0)], index["seed"][int(s)]] = True
    return xr.DataArray(have, dims=RUN, coords={k: coords[k] for k in RUN})


def _points(mask: xr.DataArray) -> list[tuple]:
    """(N, J0, seed) where `mask` is true, in coordinate order."""
    idx = np.argwhere(mask.values)
    return [(int(mask.N[i]), float(mask.J0[j]), int(mask.seed[k])) for i, j, k in idx]
