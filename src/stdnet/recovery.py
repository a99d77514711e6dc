"""What the workflow does at every start so that damaged files never reach a downstream job.

An HDF5 file in the results folder that no longer opens or lacks its completion marker
(a disk that filled up under another program, a copy cut short, `truncate`) is moved
to `<results>/.damaged/<same relative path>` with a log line naming it and the problem;
Snakemake then sees the output missing and reruns the job that writes it. Nothing is
deleted: the damaged file stays there for inspection.
"""
from __future__ import annotations

import os
from pathlib import Path

from .io import check_h5

DAMAGED = ".damaged"


def result_h5_files(results) -> list[Path]:
    """Every .h5 file under `results`, hidden folders (.damaged, .snakemake) excluded."""
    out = []
    for root, dirs, files in os.walk(results):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(root) / f for f in sorted(files)
                if f.endswith(".h5") and not f.startswith(".")]
    return out


def set_damaged_aside(results) -> list[tuple[Path, str, Path]]:
    """Move every damaged HDF5 file under `results` into `<results>/.damaged/`.

    Returns (file, problem, new place) per file moved. A file of the same name already
    in .damaged gets a numbered suffix, so an earlier one is never overwritten.
    """
    results = Path(results)
    moved = []
    for path in result_h5_files(results):
        problem = check_h5(path)
        if problem is None:
            continue
        dest = results / DAMAGED / path.relative_to(results)
        dest.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while dest.exists():
            dest = dest.with_name(f"{path.name}.{n}")
            n += 1
        os.replace(path, dest)
        moved.append((path, problem, dest))
    return moved


# ---- tables and figures of failed jobs ------------------------------------------------
# The workflow flags tables and figures `update`: Snakemake backs such a file up before its
# job and copies it back when the job fails. The copy has a new modification time, so the
# next run would take the old table for up to date. The workflow records every table's
# time and content at the start and, after a failure, gives an unchanged file its old time.
def snapshot(folders) -> dict[str, tuple[int, str]]:
    """Modification time (ns) and SHA-256 of every file under `folders`."""
    import hashlib

    out = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                out[str(path)] = (path.stat().st_mtime_ns,
                                  hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def restore_times(before: dict[str, tuple[int, str]]) -> list[str]:
    """Give every file whose content equals its snapshot its snapshot time back; returns
    the files touched."""
    import hashlib

    touched = []
    for name, (mtime_ns, digest) in before.items():
        path = Path(name)
        if not path.is_file() or path.stat().st_mtime_ns == mtime_ns:
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            os.utime(path, ns=(mtime_ns, mtime_ns))
            touched.append(name)
    return touched
