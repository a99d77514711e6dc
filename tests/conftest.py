import os
import subprocess
import sys
from pathlib import Path

# tests are single-threaded unless they say so; idle OpenBLAS threads spin and slow the dense
# linear algebra several times on a loaded 2-core machine (set before numpy is imported)
for _var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# the CUDA backend's tests run its kernels in numba-cuda's CPU simulator (CI has no GPU);
# NUMBA_ENABLE_CUDASIM=0 runs them on a real GPU (set before numba is imported)
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402

from stdnet.model.params import ModelParams, RunParams  # noqa: E402


@pytest.fixture
def small_params():
    return ModelParams(N=200, J0=1.5)


@pytest.fixture
def short_run():
    return RunParams(dt=0.05, t_transient=5.0, t_record=5.0, record_interval=0.5, n_record=3)


@pytest.fixture(scope="session")
def tiny_workflow_results(tmp_path_factory):
    """The tiny workflow (tests/data/tiny.yaml), run once per test session, end to end."""
    work = tmp_path_factory.mktemp("workflow")
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile"), "-d", str(work),
           "--configfile", str(root / "tests" / "data" / "tiny.yaml"), "--cores", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return work / "results-tiny"
