#!/usr/bin/env bash
# Run HERE (not on the GPU machine), at the repository root, before tools/gpu_check.sh is
# sent to a lent GPU machine: downloads into .whl/ (ignored by git) the wheels of the
# packages stdnet needs that the GPU image lacks (its package list: the device tool's
# KINDS.md; Python 3.12 there). Name .whl in the run's `carry`.
set -euo pipefail
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
PIP="${PYTHON:-python3} -m pip download --no-deps --only-binary=:all: --python-version 3.12
     --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
     --platform manylinux2014_x86_64 -d .whl"
# jsonschema (the config loader) and what it needs beyond attrs, which the image has
$PIP jsonschema jsonschema-specifications referencing rpds-py
ls -la .whl
