"""What the workflow does at every start so that damaged files never reach a downstream job.

An HDF5 file at a place where the workflow writes one (stdnet.workflow.ownership.is_stdnet_h5) that
no longer opens, lacks its completion marker (a disk that filled up under another program,
a copy cut short, `truncate`) or holds another grid point than its folders name (a file
copied into the wrong folder) is moved to `<results>/.damaged/<same relative path>` with a
log line naming it and the problem; so is a folder standing where the workflow writes a file
(an HDF5 file, or a table or figure in tables/ and figures/). Snakemake then sees the output
missing and reruns the job that writes it. Nothing is deleted: what was moved stays there
for inspection. Files elsewhere in the results folder are the user's and are left alone.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from stdnet.files.errors import OutputError
from stdnet.files.io import check_h5
from stdnet.workflow.ownership import is_stdnet_h5

DAMAGED = ".damaged"
#: the folders of tables and figures, and the suffixes of the files the workflow writes there
OUTPUT_FOLDERS = ("tables", "figures")
OUTPUT_SUFFIXES = (".csv", ".txt", ".png", ".pdf", ".json", ".html", ".svg")
IN_THE_WAY = "a folder, where the workflow writes a file"


def result_h5_files(results) -> list[Path]:
    """Every path under `results` where the workflow writes an HDF5 file and something is
    (a file, or a folder in its way); hidden folders (.damaged, .snakemake) excluded."""
    results = Path(results)
    out = []
    for root, dirs, files in os.walk(results):
        dirs.sort()
        found = [Path(root) / n for n in sorted(files) + dirs if n.endswith(".h5")]
        out += [p for p in found if is_stdnet_h5(p.relative_to(results))]
        dirs[:] = [d for d in dirs if not d.startswith(".") and not d.endswith(".h5")]
    return out


def _misplaced_folders(results: Path) -> list[Path]:
    """Folders in tables/ and figures/ named like the files the workflow writes there."""
    out = []
    for name in OUTPUT_FOLDERS:
        folder = results / name
        if folder.is_dir():
            out += [p for p in sorted(folder.iterdir())
                    if p.is_dir() and p.suffix in OUTPUT_SUFFIXES]
    return out


def set_damaged_aside(results) -> list[tuple[Path, str, Path]]:
    """Move every damaged HDF5 file of the workflow's, and every folder standing where it
    writes a file, under `results` into `<results>/.damaged/`.

    Returns (path, problem, new place) per path moved. A path of the same name already in
    .damaged gets a numbered suffix, so an earlier one is never overwritten.
    """
    results = Path(results)
    found = [(p, IN_THE_WAY if p.is_dir() else check_h5(p)) for p in result_h5_files(results)]
    found += [(p, IN_THE_WAY) for p in _misplaced_folders(results)]
    moved = []
    for path, problem in found:
        if problem is None:
            continue
        dest = results / DAMAGED / path.relative_to(results)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            n = 1
            while dest.exists():
                dest = dest.with_name(f"{path.name}.{n}")
                n += 1
            os.replace(path, dest)
        except OSError as e:  # a read-only results folder: say so, never a traceback
            raise OutputError(f"{path}: {problem}; it cannot be moved to {dest} "
                              f"({e.strerror or e}): make {results} writable and rerun, or "
                              "move the file away yourself") from e
        moved.append((path, problem, dest))
    return moved


# ---- tables and figures of failed jobs ------------------------------------------------
# The workflow flags tables and figures `update`: Snakemake backs such a file up before its
# job and copies it back when the job fails. The copy has a new modification time, so the
# next run would take the old table for up to date. The workflow records every table's
# time and content at the start and, after a failure, gives an unchanged file its old time.
def snapshot(folders) -> dict[str, tuple[int, str]]:
    """Modification time (ns) and SHA-256 of every file under `folders`."""
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
    touched = []
    for name, (mtime_ns, digest) in before.items():
        path = Path(name)
        if not path.is_file() or path.stat().st_mtime_ns == mtime_ns:
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            os.utime(path, ns=(mtime_ns, mtime_ns))
            touched.append(name)
    return touched
