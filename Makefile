# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY ?= $(VENV)/bin/python
PIP_INSTALL = $(PY) -m pip install --quiet
# what has been installed into $(VENV): the locked runtime (`make run`) or the locked runtime
# and test tools (`make test`), one stamp each, so that either order installs what the target
# needs: `make test` after `make run` adds the test packages, `make run` after `make test`
# finds its pins already there
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# `make lock` runs uv (this version) from an environment of its own, never from $(VENV)
UV_VERSION ?= 0.13.8
LOCK_VENV ?= .venv-lock
UV := $(LOCK_VENV)/bin/uv
LOCK_ARGS ?=
UV_COMPILE = $(UV) --no-config --quiet pip compile --universal --python-version 3.11 \
	--annotation-style line --custom-compile-command "make lock" $(LOCK_ARGS)
CORES ?= all
BENCH_ARGS ?=
PYTEST_ARGS ?=

.PHONY: install install-test lock check-lock run test report bench lint clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# the lock first (pip, setuptools and wheel included), then stdnet itself, editable, with
# those pins: --no-deps (the lock has them all), --no-build-isolation (no download to build it)
$(RUN_STAMP): requirements/run.txt pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements/run.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# the same with the test tools, including numba-cuda and its CUDA 13 wheels for the CUDA
# backend's tests (about 0.5 GB; no GPU needed)
$(TEST_STAMP): requirements/test.txt pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements/test.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# the runtime only: what `make run` needs, no CUDA wheels
install: $(RUN_STAMP)

install-test: $(TEST_STAMP)

$(UV):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)" "packaging>=24"

# refresh the lock from pyproject.toml and requirements/build.in: uv keeps every pin of the
# present lock that still fits and adds or drops what changed; LOCK_ARGS=--upgrade moves
# every package to its newest release (then run `make test` before committing the lock).
# test.txt holds every extra; run.txt the runtime alone, at test.txt's versions; the pins of
# envs/stdnet.yaml are rewritten from run.txt
lock: $(UV)
	$(UV_COMPILE) pyproject.toml requirements/build.in --all-extras -o requirements/test.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in -c requirements/test.txt \
		-o requirements/run.txt
	$(LOCK_VENV)/bin/python tools/check_lock.py --write-env

# the lock against pyproject.toml and envs/stdnet.yaml (offline)
check-lock: $(RUN_STAMP)
	$(PY) tools/check_lock.py

# the default workflow (config/params.yaml), end to end; the config check first, since it
# names file, line and column of a YAML error where Snakemake's own loader does not
run: $(RUN_STAMP)
	$(VENV)/bin/stdnet check config/params.yaml
	$(VENV)/bin/snakemake --cores $(CORES)

# the whole test suite
test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# HTML report of a finished run
report: $(RUN_STAMP)
	$(VENV)/bin/snakemake --report results/report.html

# kernel benchmark against naive numpy and scipy CSR (docs/performance.md);
# e.g. make bench BENCH_ARGS="--N 2000 --quick"
bench: $(RUN_STAMP)
	$(PY) -m stdnet.cli bench $(BENCH_ARGS)

# the workflow's own linter and formatter (snakefmt), pyflakes-class errors in the code, and
# the lock against pyproject.toml
lint: $(TEST_STAMP)
	$(VENV)/bin/snakemake --lint
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules/*.smk
	$(VENV)/bin/ruff check --select F,E9,I src scripts tools
	$(PY) tools/check_lock.py

clean:
	rm -rf results .snakemake
