"""HDF5 and other output files: atomic writes, completion markers, checked readers.

Every file is written under a temporary name in the destination folder and
renamed when complete, so an interrupted job never leaves a file that looks
finished; an OSError while writing (a full disk, a quota, a read-only folder)
becomes one errors.OutputError naming the destination. HDF5 files carry a
completion marker that `open_h5` checks, so a truncated, damaged or foreign file
is refused with an errors.InputFileError naming it. The layout of the simulation
file is documented in README.md ("Output layout") and produced by `write_simulation`.

Just over 400 lines, on purpose: this is the one contract every writer and reader of the
pipeline goes through (temporary names, markers, claims, /params, named dimensions), and
keeping it in one module keeps that contract in one place.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import glob
import os
import platform
import re
import socket
import subprocess
import sys
from importlib import metadata
from io import BytesIO
from pathlib import Path

import h5py
import numba
import numpy as np
import scipy

from stdnet.files.errors import InputFileError, OutputError, StdnetError
from stdnet.files.space import free_space_text

#: 2: root attributes stdnet_complete / stdnet_format_version (files of 1 have neither)
FORMAT_VERSION = 2
#: root attributes set by atomic_h5; they describe the file, not the results
MARKER_ATTRS = ("stdnet_complete", "stdnet_format_version")
_COMPRESS = dict(compression="gzip", compression_opts=4, shuffle=True)
_HOST = socket.gethostname()
# .{name}.tmp-{host}-{pid}, or .{name}.tmp-{pid} as written before the host was added
_TMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?:(?P<host>.+)-)?(?P<pid>\d+)$")
_HINTS = {errno.ENOSPC: "free space and rerun",
          errno.EDQUOT: "free space (disk quota exceeded) and rerun",
          errno.EFBIG: "the file is larger than the file-size limit (ulimit -f); raise it "
                       "and rerun",
          errno.EROFS: "the file system is read-only; write the results elsewhere",
          errno.EACCES: "make the folder writable and rerun",
          errno.EPERM: "make the folder writable and rerun",
          errno.EIO: "the storage reported an I/O error; check it and rerun"}


def write_failure(path, e: OSError) -> str:
    """'cannot write <path>: <reason>; <what to do>' for an OSError met writing `path`."""
    reason = e.strerror or str(e) or type(e).__name__
    if e.errno == errno.ENOSPC:  # how much room is left is the first thing to know
        room = free_space_text(path)
        reason += f" ({room})" if room else ""
    hint = _HINTS.get(e.errno, "check the destination and rerun")
    return f"cannot write {path}: {reason}; {hint}"


def temporary_name(path: Path) -> Path:
    """`.<name>.tmp-<host>-<pid>` next to `path`: this process's temporary for it, which
    remove_stale_temporaries removes once the process is gone."""
    # the host in the name: on a cluster's shared file system pids of two hosts can collide
    return path.with_name(f".{path.name}.tmp-{_HOST}-{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:  # os.kill(0, ...) would signal our own process group
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:  # no such pid can exist
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _is_stale(p: Path, name: str | None = None) -> bool:
    """A temporary of a dead process of this host (of destination `name` if given; without
    it, only names that carry this host: `.x.tmp-<pid>` may be a user's file)."""
    m = _TMP.match(p.name)
    if m is None or (name is not None and m["name"] != name):
        return False
    if m["host"] is None and name is None:
        return False
    if m["host"] is not None and m["host"] != _HOST:
        return False  # another host's pid says nothing here
    return not _pid_alive(int(m["pid"]))


def _remove(paths) -> list[Path]:
    removed = []
    for p in paths:  # gone meanwhile, or a read-only folder: nothing to clean up here
        with contextlib.suppress(FileNotFoundError, PermissionError):
            p.unlink()
            removed.append(p)
    return removed


def remove_stale_temporaries(root) -> list[Path]:
    """Remove, under `root` (recursively), the temporaries left by dead processes of this
    host; temporaries of other hosts and of live processes are left alone."""
    root = Path(root)
    if not root.is_dir():
        return []
    return _remove(p for p in root.rglob(".*.tmp-*") if _is_stale(p) and p.is_file())


def check_writable(path) -> None:
    """Raise OutputError naming `path` unless it can be written: not a directory, its
    folder exists (created if missing) and a file can be created there."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; remove it or choose "
                          "another output path")
    if path.is_symlink():  # the atomic rename would replace the link, not write its target
        raise OutputError(f"cannot write {path}: it is a symbolic link (to "
                          f"{os.readlink(path)!r}); give the path it points to, or remove it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write {path}: its folder {path.parent} cannot be created "
                          f"({e.strerror or e}); choose another output path") from e
    probe = temporary_name(path)  # the name atomic_path uses, so a leftover is cleaned up
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
        os.unlink(probe)
    except OSError as e:
        raise OutputError(write_failure(path, e)) from e


def _concerns(e: OSError, *paths) -> bool:
    """Whether an OSError is about one of `paths` (or about no file: a write(2) failure)."""
    names = {str(n) for n in (e.filename, e.filename2) if n is not None}
    return not names or bool(names & {str(p) for p in paths})


def _fsync(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # a full disk or an I/O error on NFS may only show here
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it to `path` only on success.

    Checked before the work: `path` must be writable (OutputError otherwise). An
    OSError while writing becomes OutputError naming `path`; the temporary is removed
    and a previous file at `path` is left as it was. Temporaries of the same
    destination left by dead processes of this host are removed first.
    """
    path = Path(path)
    check_writable(path)
    _remove(p for p in path.parent.glob(f".{glob.escape(path.name)}.tmp-*")
            if _is_stale(p, path.name))
    tmp = temporary_name(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and not isinstance(e, StdnetError) and _concerns(e, tmp, path):
            raise OutputError(write_failure(path, e)) from e
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_bytes(path, data) -> None:
    """Write `data` with plain os.write calls (a short write is continued, an error raised)."""
    view = memoryview(data).cast("B")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_text(path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically (see atomic_path)."""
    with atomic_path(path) as tmp:
        _write_bytes(tmp, text.encode())


@contextlib.contextmanager
def atomic_h5(path):
    """An h5py File to fill; written to `path` atomically when the block ends.

    The file is built in memory and only its finished bytes go to disk, with plain
    Python I/O: HDF5 writing straight to a full disk prints pages of tracebacks and can
    crash the process. Every file we write is small (per-neuron state, recorded
    traces, checkpoints: at most tens of MB), so memory is not a concern. The root
    gets stdnet_format_version and, set last, stdnet_complete = True.
    """
    check_writable(path)  # fail before the work, not after it
    buf = BytesIO()
    with h5py.File(buf, "w", track_order=True) as f:
        yield f
        f.attrs["stdnet_format_version"] = FORMAT_VERSION
        f.attrs["stdnet_complete"] = True
    with atomic_path(path) as tmp:
        _write_bytes(tmp, buf.getbuffer())


@contextlib.contextmanager
def claim_output(path):
    """Hold `.{name}.lock` next to `path` for the whole block: the one writer of `path`.

    The lock is an exclusive flock, released by the kernel if the process dies (a lock
    file left by a killed process is harmless); the file holds host and pid for the
    OutputError another process gets. Yields the lock file's path.
    """
    path = Path(path)
    check_writable(path)
    lock = path.with_name(f".{path.name}.lock")
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise OutputError(write_failure(lock, e)) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "host ?, pid ?"
            os.close(fd)
            raise OutputError(f"another stdnet process ({holder}) is writing {path}; wait "
                              f"for it to end (or stop it) and rerun") from None
        except OSError as e:
            os.close(fd)
            raise OutputError(write_failure(lock, e)) from e
        # the previous holder removes the file on release: if ours was removed (or
        # replaced) between open and flock, our lock guards nothing; take the new one
        try:
            st, ours = os.stat(lock), os.fstat(fd)
            if (st.st_dev, st.st_ino) == (ours.st_dev, ours.st_ino):
                break
        except OSError:
            pass
        os.close(fd)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"host {_HOST}, pid {os.getpid()}\n".encode())
        except OSError as e:
            raise OutputError(write_failure(lock, e)) from e
        yield lock
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it, so nobody locks a doomed file
        os.close(fd)


def _is_complete(f) -> bool:
    """Marker set, or a file of format 1 (written atomically, so complete if it opens):
    recognised by its provenance (/meta format_version 1) or a checkpoint's /fingerprint."""
    if "stdnet_complete" in f.attrs:
        return bool(f.attrs["stdnet_complete"])
    meta = f.get("meta")
    for g in (f, meta if isinstance(meta, h5py.Group) else None):
        if g is not None and g.attrs.get("format_version") == 1:
            return True
    return isinstance(f.get("fingerprint"), h5py.Group)


#: the point keys a result path names (folders "N~1000", "J0~0.5_I0~0", "seed~3") and that
#: a file stores in /params (the DMF solution: in /info); J0 and I0 in a path have 6
#: decimals (params.format_J0)
IDENTITY_KEYS = ("N", "J0", "I0", "seed")
_ROUNDED = {"J0": 5e-7, "I0": 5e-7}


_WILDCARD = re.compile(r"(?:^|_)([A-Za-z][A-Za-z0-9]*)~([^_/]+)")


def parse_wildcards(stem: str) -> dict:
    """'N~200_J0~0.1_seed~1' -> {'N': '200', 'J0': '0.1', 'seed': '1'}."""
    return {m.group(1): m.group(2) for m in _WILDCARD.finditer(stem)}


def path_identity(path) -> dict:
    """The point a result path names: {key: text} for every "key~value" part of its folders
    (a folder may hold several, joined by "_": "J0~0.5_I0~0"), for the IDENTITY_KEYS."""
    out = {}
    for part in Path(path).parent.parts:
        out.update(parse_wildcards(part))
    return {k: v for k, v in out.items() if k in IDENTITY_KEYS}


def identity_problem(f, path) -> str | None:
    """None when the file's stored point (/params N, J0, I0, seed) is the one its path names,
    else both, in a few words. Keys the path does not name, the file does not store, or
    whose path value is not a finite number (N~inf of the DMF) are not compared."""
    named = path_identity(path)
    params = f.get("params", f.get("info"))
    if not named or not isinstance(params, h5py.Group):
        return None
    wrong = []
    for key, text in named.items():
        if key not in params.attrs:
            continue
        try:
            want, have = float(text), float(np.asarray(params.attrs[key]).item())
        except (TypeError, ValueError):
            continue
        if not np.isfinite(want):
            continue
        tol = _ROUNDED.get(key, 0.0)
        if not abs(have - want) <= tol:
            wrong.append((key, text, have))
    if not wrong:
        return None
    stored = ", ".join(f"{k} = {np.asarray(params.attrs[k]).item():g}" for k in IDENTITY_KEYS
                       if k in params.attrs)
    folder = ", ".join(f"{k}~{t}" for k, t, _ in wrong)
    return f"holds another point ({stored}) than its folder names ({folder})"


def check_h5(path) -> str | None:
    """None for a complete stdnet HDF5 file that holds the point its path names, else what
    is wrong with it, in a few words."""
    path = Path(path)
    if not path.is_file():
        return "missing"
    try:
        with h5py.File(path, "r") as f:
            if not _is_complete(f):
                return "no completion marker"
            return identity_problem(f, path)
    except OSError:
        return "unreadable (truncated or not HDF5)"


def _missing_key(e: KeyError) -> str:
    text = str(e.args[0]) if e.args else ""
    m = re.search(r"'([^']+)'", text)  # h5py: "... (object 'population' doesn't exist)"
    return m[1] if m else text


@contextlib.contextmanager
def open_h5(path, kind: str = "simulation file",
            hint: str = "delete it and rerun the job that writes it"):
    """An h5py File of `path` opened read-only, checked to be a complete stdnet file.

    Raises InputFileError naming `path` (what is wrong, then `hint`) when it is missing,
    cannot be opened (truncated, not HDF5), lacks the completion marker, holds another
    point than its folders name (identity_problem), or when the
    block meets a KeyError (a dataset or attribute the reader expects is absent) or an
    OSError (damaged data).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{kind} {path} does not exist: run the job that writes it")
    if not os.access(path, os.R_OK):  # h5py would call it "not HDF5"
        raise InputFileError(f"{kind} {path} cannot be read: permission denied")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputFileError(f"{kind} {path} is not a readable HDF5 file (truncated or "
                             f"damaged?): {hint}") from e
    with f:
        if not _is_complete(f):
            raise InputFileError(f"{kind} {path} has no stdnet completion marker (not "
                                 f"written by stdnet, or not completely): {hint}")
        wrong = identity_problem(f, path)
        if wrong:  # a file copied or moved into another point's folder
            raise InputFileError(f"{kind} {path} {wrong}: {hint}")
        try:
            yield f
        except KeyError as e:
            raise InputFileError(f"{kind} {path} has no {_missing_key(e)!r} (damaged, or "
                                 f"another layout): {hint}") from e
        except OSError as e:
            if isinstance(e, StdnetError):
                raise
            raise InputFileError(f"{kind} {path} cannot be read ({e}): {hint}") from e


def fingerprint_diff(stored: dict, expected: dict) -> list[str]:
    """'key: stored != expected' for every key that differs (as write_attrs stores them)."""
    def norm(v):
        return "None" if v is None else (v.item() if isinstance(v, np.generic) else v)

    def same(a, b):
        try:
            return bool(a == b)
        except ValueError:  # arrays
            return np.array_equal(a, b)

    want = {k: norm(v) for k, v in expected.items()}
    absent = "(absent)"
    return [f"{k}: {stored.get(k, absent)!r} != {want.get(k, absent)!r}"
            for k in sorted(set(stored) | set(want))
            if not same(stored.get(k, absent), want.get(k, absent))]


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


def write_params(parent, params, seed: int, run=None, **extra) -> None:
    """The group /params of every result file: the model (ModelParams) with its derived
    sizes and gains, the seed, and the run (RunParams) where the file comes from one."""
    write_attrs(parent.create_group("params"), {
        **params.to_dict(), **(run.to_dict() if run is not None else {}), "seed": int(seed),
        "N_E": params.N_E, "N_I": params.N_I, "K_E": params.K_E, "K_I": params.K_I,
        "gamma": params.gamma, "G": params.G, **extra})


def name_dimensions(f, coords: dict, dims: dict, units: dict) -> None:
    """Named dimensions and units, so that netCDF readers (xarray with engine="h5netcdf")
    open the file without anonymous "phony" dimensions.

    coords: dimension name -> path of its coordinate dataset (made an HDF5 dimension scale);
    dims: dataset path -> one dimension name per axis; units: dataset path -> unit string.
    """
    for name, path in coords.items():
        f[path].make_scale(name)
    for path, names in dims.items():
        for axis, name in enumerate(names):
            f[path].dims[axis].attach_scale(f[coords[name]])
    for path, unit in units.items():
        f[path].attrs["units"] = unit


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
    """Attributes as a dict (numpy scalars as Python ones), without the completion marker."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in group.attrs.items()
            if k not in MARKER_ATTRS}
