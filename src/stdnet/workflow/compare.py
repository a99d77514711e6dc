"""Are two results folders the same? (a cluster run vs a local run, a resumed run vs one
uninterrupted run).

HDF5 files: the same objects, every dataset with the same dtype, shape and bytes, the
same attributes; the /meta group (wall time, date, host) and the completion marker
(io.MARKER_ATTRS, absent from files of format 1) are left out. CSV tables: the
same columns and values, exactly, except columns of wall times. Logs, benchmarks and
the machine-dependent tables (benchmarks*.csv, run_status.csv) are not compared.

    python -m stdnet.workflow.compare results-a results-b
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from stdnet.files.errors import InputFileError, StdnetError
from stdnet.files.io import MARKER_ATTRS, open_h5

SKIP_DIRS = ("logs", "benchmarks")
SKIP_TABLES = re.compile(r"^(benchmarks.*|run_status)\.csv$")
SKIP_H5 = ("meta",)
#: CSV columns that measure the machine, not the model
SKIP_COLUMNS = re.compile(r"wall|cpu_time|qr_time|max_rss|created|host|git_commit")


class Mismatch(AssertionError):
    """Two results differ; the message lists every difference found."""


def _files(root: Path, suffix: str) -> set[str]:
    out = set()
    for p in root.rglob(f"*{suffix}"):
        rel = p.relative_to(root)
        if rel.parts[0] in SKIP_DIRS or any(part.startswith(".") for part in rel.parts):
            continue
        if suffix == ".csv" and SKIP_TABLES.match(p.name):
            continue
        out.add(str(rel))
    return out


def _attrs_equal(a, b, skip=()) -> bool:
    keys = set(a.keys()) - set(skip)
    if keys != set(b.keys()) - set(skip):
        return False
    for k in keys:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
            return False
    return True


def h5_differences(path_a, path_b, skip=SKIP_H5) -> list[str]:
    """Every difference between two HDF5 files, ignoring the top-level groups in `skip`."""
    diffs = []
    with open_h5(path_a, kind="HDF5 file") as fa, open_h5(path_b, kind="HDF5 file") as fb:
        names = {}
        for f, key in ((fa, "a"), (fb, "b")):
            found = set()
            f.visit(lambda n, s=found: s.add(n))
            names[key] = {n for n in found if n.split("/")[0] not in skip}
        for n in sorted(names["a"] ^ names["b"]):
            diffs.append(f"{n}: only in {'a' if n in names['a'] else 'b'}")
        if not _attrs_equal(fa.attrs, fb.attrs, skip=MARKER_ATTRS):
            diffs.append("/: attributes differ")
        for n in sorted(names["a"] & names["b"]):
            oa, ob = fa[n], fb[n]
            if isinstance(oa, h5py.Dataset) != isinstance(ob, h5py.Dataset):
                diffs.append(f"{n}: dataset in one file, group in the other")
                continue
            if isinstance(oa, h5py.Dataset):
                xa, xb = oa[()], ob[()]
                xa, xb = np.asarray(xa), np.asarray(xb)
                if xa.dtype != xb.dtype or xa.shape != xb.shape:
                    diffs.append(f"{n}: {xa.dtype}{xa.shape} != {xb.dtype}{xb.shape}")
                elif xa.tobytes() != xb.tobytes():
                    bad = int(np.count_nonzero(xa != xb)) if xa.dtype.kind in "fiucb" else -1
                    diffs.append(f"{n}: bytes differ ({bad} elements)")
            if not _attrs_equal(oa.attrs, ob.attrs, skip=DIMENSION_REFERENCES):
                diffs.append(f"{n}: attributes differ")
            if isinstance(oa, h5py.Dataset) and _scales(oa) != _scales(ob):
                diffs.append(f"{n}: dimensions differ ({_scales(oa)} != {_scales(ob)})")
    return diffs


#: HDF5 dimension-scale bookkeeping: object references, equal in meaning when the same
#: scales are attached, which _scales compares by path
DIMENSION_REFERENCES = ("DIMENSION_LIST", "REFERENCE_LIST")


def _scales(dataset) -> list[list[str]]:
    return [[scale.name for scale in axis.values()] for axis in dataset.dims]


def csv_differences(path_a, path_b) -> list[str]:
    a, b = pd.read_csv(path_a), pd.read_csv(path_b)
    if list(a.columns) != list(b.columns):
        return [f"columns differ: {list(a.columns)} != {list(b.columns)}"]
    keep = [c for c in a.columns if not SKIP_COLUMNS.search(str(c))]
    try:
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)
    except AssertionError as e:
        return [str(e).splitlines()[0] + " " + " ".join(str(e).split())[:300]]
    return []


def compare_results(a, b) -> str:
    """Compare two results folders; raise Mismatch listing every difference, else
    return a one-line summary of what was compared."""
    a, b = Path(a), Path(b)
    for folder in (a, b):  # a typo must not pass as "0 files are equal"
        if not folder.is_dir():
            raise InputFileError(f"results folder {folder} "
                                 + ("is not a folder" if folder.exists() else "does not exist"))
    diffs = []
    counts = {}
    for suffix, compare in ((".h5", h5_differences), (".csv", csv_differences)):
        fa, fb = _files(a, suffix), _files(b, suffix)
        for rel in sorted(fa ^ fb):
            diffs.append(f"{rel}: only in {a if rel in fa else b}")
        for rel in sorted(fa & fb):
            diffs += [f"{rel}: {d}" for d in compare(a / rel, b / rel)]
        counts[suffix] = len(fa & fb)
    if diffs:
        raise Mismatch(f"{a} and {b} differ:\n  " + "\n  ".join(diffs))
    if not any(counts.values()):
        raise InputFileError(f"{a} and {b} hold no HDF5 file and no CSV table: nothing to "
                             "compare (the results folders of two runs are expected)")
    return (f"{counts['.h5']} HDF5 files (datasets byte for byte, /meta excluded) and "
            f"{counts['.csv']} CSV tables (exact, wall-time columns excluded) are equal")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m stdnet.workflow.compare RESULTS_A RESULTS_B", file=sys.stderr)
        return 2
    try:
        print(compare_results(*argv))
    except Mismatch as e:
        print(e, file=sys.stderr)
        return 1
    except StdnetError as e:  # a missing, truncated or foreign file
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
