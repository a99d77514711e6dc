"""What the machine is: CPU name, cache sizes, free memory (from /proc, sysfs, sysconf).

Used by `stdnet bench` to label its tables and by the kernels to pick the index
layout that suits the L1 cache (kernels.cpu.kernel_args). Every function answers
something sensible where the files are missing (other OSes, containers).
"""
from __future__ import annotations

import functools
import os
import platform

L1D_FALLBACK = 32 * 1024  # the common L1d size, used where sysfs does not say


SYSFS_CACHE = "/sys/devices/system/cpu/cpu0/cache"


def cache_sizes(base: str = SYSFS_CACHE) -> dict:
    """Per-level data/unified cache sizes in bytes from sysfs ({} where unknown)."""
    out = {}
    try:
        for d in sorted(os.listdir(base)):
            if not d.startswith("index"):
                continue
            with open(f"{base}/{d}/type") as f:
                kind = f.read().strip()
            if kind == "Instruction":
                continue
            with open(f"{base}/{d}/level") as f:
                level = int(f.read())
            with open(f"{base}/{d}/size") as f:
                size = f.read().strip()
            mult = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(size[-1], 1)
            out[f"L{level}"] = int(size.rstrip("KMG")) * mult
    except (OSError, ValueError):
        pass
    return out


@functools.lru_cache(maxsize=1)
def l1d_bytes() -> int:
    """Size of the level-1 data cache of one core."""
    return cache_sizes().get("L1", L1D_FALLBACK)


def mem_available() -> int:
    """Memory available to a new process in bytes: MemAvailable from /proc/meminfo (Linux);
    where that is missing, the free pages (SC_AVPHYS_PAGES), else the physical memory
    (SC_PHYS_PAGES: macOS has no count of free pages, and keeps most of its memory in
    caches it gives back on demand); 0 where none is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            n = os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            continue
        if n > 0:
            return int(n)
    return 0


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
