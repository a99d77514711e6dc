#!/usr/bin/env bash
# The measurements of docs/gpu.md on a machine with an NVIDIA GPU, in one run: the CUDA
# backend's tests on the device, then `stdnet bench --backend cuda` with the goals of the
# GPU backend. Run at the repository root; results go to $OUT (default gpu-check/):
#   env.txt     nvidia-smi and the versions of Python, numba, numba-cuda, numpy
#   tests.txt   pytest tests/test_cuda_backend.py with NUMBA_ENABLE_CUDASIM=0
#   heterogeneous.txt  tools/gpu_heterogeneous.py: 20 RK4 steps of variable-row networks
#               (indegree_cv 0.2, erdos_renyi; per-neuron u, tau_D) and the paper's at
#               N = 20000, c = 0.1 against the CPU (< 1e-12), ms per step (under a minute)
#   bench.txt   the benchmark table and the goals; bench.json every number
#   tune.txt    GPU only (no CPU baselines): other gather shares S at N = 10^5 and 10^6,
#               float64 and float32, for the next round of tuning (tune64/32.json)
# stdnet runs from src/ (PYTHONPATH), not installed: the GPU image cannot reach a package
# index. Wheels it lacks (tools/gpu_wheels.sh) are taken from .whl/ when it is there.
# Takes 8-10 minutes on an H200 machine with 16 cores (the CPU baselines at N = 10^6 on one
# thread take about 2 of them); the tuning part runs last and may be cut by its timeout.
set -uo pipefail
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NUMBA_ENABLE_CUDASIM=0
if ls .whl/*.whl > /dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/stdnet-site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/stdnet-site"
fi
{
    nvidia-smi
    $PY -c "import sys, numba, numba_cuda, numpy; print(sys.version); print('numba', \
numba.__version__, 'numba-cuda', numba_cuda.__version__, 'numpy', numpy.__version__)"
    nproc
} > "$OUT/env.txt" 2>&1
timeout 300 $PY -m pytest -q -p no:cacheprovider tests/test_cuda_backend.py 2>&1 \
    | tee "$OUT/tests.txt"
timeout 180 $PY tools/gpu_heterogeneous.py 2>&1 | tee "$OUT/heterogeneous.txt"
timeout 480 $PY -m stdnet.cli bench --backend cuda --repeats 3 --json "$OUT/bench.json" \
    --goal ms@100000=5 --goal cpu1@100000=500 --goal bound@100000=0.4 \
    --goal ms@1000000=50 2>&1 | tee "$OUT/bench.txt"
for prec in float64 float32; do
    timeout 150 $PY -m stdnet.cli bench --backend cuda --N 100000 --repeats 3 --threads 1 \
        --cpu-max-n 1 --precision $prec --splits 1 2 4 8 16 --json "$OUT/tune${prec#float}.json" \
        2>&1 | tee -a "$OUT/tune.txt"
done
