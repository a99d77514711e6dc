"""HDF5 files: atomic writes, parameters as attributes, provenance.

Every file is written under a temporary name in the destination folder and
renamed when complete, so an interrupted job never leaves a file that looks
finished. The layout of the simulation file is documented in README.md
("Output layout") and produced by `write_simulation`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

FORMAT_VERSION = 1
_COMPRESS = dict(compression="gzip", compression_opts=4, shuffle=True)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it to `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_h5(path):
    """An h5py File opened for writing under a temporary name, renamed on success."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as f:
            yield f


def _git_commit() -> str:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
        if out.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                   cwd=here, capture_output=True, text=True, timeout=5)
            return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def provenance() -> dict:
    """Package version, git commit, library versions, host: what made this file."""
    from importlib import metadata

    import numba
    import scipy

    try:
        version = metadata.version("stdnet")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "stdnet_version": version,
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "h5py": h5py.__version__,
        "platform": platform.platform(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "format_version": FORMAT_VERSION,
    }


def write_attrs(group, mapping: dict) -> None:
    for k, v in mapping.items():
        group.attrs[k] = "None" if v is None else v


def write_datasets(group, arrays: dict, compress: bool = True) -> None:
    for k, v in arrays.items():
        v = np.asarray(v)
        if compress and v.ndim >= 1 and v.size >= 64:
            group.create_dataset(k, data=v, chunks=True, **_COMPRESS)
        else:
            group.create_dataset(k, data=v)


def read_group(group) -> dict:
    """All datasets of a group (recursively) as a nested dict of numpy arrays."""
    out = {}
    for k, v in group.items():
        out[k] = read_group(v) if isinstance(v, h5py.Group) else v[()]
    return out


def read_attrs(group) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in group.attrs.items()}
