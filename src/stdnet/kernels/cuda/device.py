"""Is there a GPU the CUDA backend can use, which one, and how much memory it has.

numba-cuda is an optional dependency (the extra `gpu`, docs/gpu.md): nothing here imports
it before it is asked for, so the CPU pipeline never needs it. NUMBA_ENABLE_CUDASIM=1
runs the CUDA kernels in numba-cuda's simulator on the CPU (the tests do): that counts as
available, and slow.
"""
from __future__ import annotations

import os

from stdnet.files.errors import InputError, ResourceError


def simulated() -> bool:
    """Whether numba-cuda runs in its CPU simulator (NUMBA_ENABLE_CUDASIM=1)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def cuda_problem() -> str | None:
    """Why the CUDA backend cannot run in this process, or None when it can."""
    try:
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from numba import cuda
    except ImportError as e:  # numba without numba-cuda, or a broken install
        return (f"numba-cuda is not installed ({e}); install it with "
                "pip install -c requirements/test.txt -e \".[gpu]\" (CUDA 13 driver) or "
                "pip install \"numba-cuda[cu12]\" (CUDA 12 driver)")
    if simulated():
        return None
    try:
        if cuda.is_available():
            return None
    except Exception as e:  # a driver that loads but fails: say what it said
        return f"the CUDA driver failed: {type(e).__name__}: {e}"
    return ("no CUDA GPU is visible to this process (no NVIDIA driver, no device, or "
            "CUDA_VISIBLE_DEVICES hides it)")


def unavailable_message(key: str, problem: str) -> str:
    return (f"{key}: invalid value 'cuda' on this machine: {problem}; allowed here: cpu (or "
            "run the job on a node with an NVIDIA GPU; on SLURM the workflow asks for one "
            "for every cuda job, docs/cluster.md)")


def require_cuda(key: str = "simulation.backend") -> None:
    """InputError naming `key` where the CUDA backend cannot run here."""
    problem = cuda_problem()
    if problem:
        raise InputError(unavailable_message(key, problem))


def describe() -> dict:
    """Name, compute capability and memory (bytes) of the current device."""
    # lazy: numba-cuda is optional; only the CUDA backend loads it
    from numba import cuda

    if simulated():
        return {"name": "numba-cuda simulator (CPU)", "cc": "sim", "free": None, "total": None}
    dev = cuda.get_current_device()
    free, total = cuda.current_context().get_memory_info()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return {"name": name, "cc": "%d.%d" % dev.compute_capability, "free": int(free),
            "total": int(total)}


def check_device_memory(need_bytes: int, what: str) -> None:
    """ResourceError when `need_bytes` exceed the device's free memory."""
    free = describe()["free"]
    if free is not None and need_bytes > free:
        raise ResourceError(f"{what} needs {need_bytes / 2**30:.2f} GiB of GPU memory; the "
                            f"device has {free / 2**30:.2f} GiB free: use a smaller N or c, "
                            "a larger GPU, or simulation.backend: cpu")
