"""Free space of the file system that holds a path, and byte counts in words.

The messages about a full disk say how much room is left where the file was to go, and
the workflow's start compares it with what it is about to copy (stdnet.workflow.backups).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def nearest_existing(path) -> Path:
    """`path` made absolute, or its nearest folder that exists (a path not written yet
    lies on that folder's file system)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def free_bytes(path) -> int | None:
    """Bytes free for this user on the file system of `path` (nearest_existing); None
    where that cannot be read."""
    try:
        return int(shutil.disk_usage(nearest_existing(path)).free)
    except OSError:
        return None


def format_bytes(n: int) -> str:
    """'0 bytes', '512 bytes', '48 kB', '12.3 MB', '1.5 GB' (powers of 1000, 3 digits)."""
    if n < 1000:
        return f"{int(n)} bytes"
    for scale, unit in _UNITS:
        if n < 999.5 * scale or unit == _UNITS[-1][1]:  # 999 999 bytes is '1 MB'
            return f"{n / scale:.3g} {unit}"


_UNITS = ((1e3, "kB"), (1e6, "MB"), (1e9, "GB"), (1e12, "TB"), (1e15, "PB"))


def free_space_text(path) -> str:
    """'48 kB free on the file system of <folder>' for the folder of `path`, or '' where
    unknown."""
    free = free_bytes(path)
    if free is None:
        return ""
    return f"{format_bytes(free)} free on the file system of {Path(path).parent}"
