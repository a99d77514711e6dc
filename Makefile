# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY ?= $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORES ?= all
BENCH_ARGS ?=
PYTEST_ARGS ?=

.PHONY: install run test report bench lint clean

# a fresh virtual environment with stdnet (editable) and its pinned dependencies
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# the default workflow (config/params.yaml), end to end; the config check first, since it
# names file, line and column of a YAML error where Snakemake's own loader does not
run: $(STAMP)
	$(VENV)/bin/stdnet check config/params.yaml
	$(VENV)/bin/snakemake --cores $(CORES)

# the whole test suite
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# HTML report of a finished run
report: $(STAMP)
	$(VENV)/bin/snakemake --report results/report.html

# kernel benchmark against naive numpy and scipy CSR (docs/performance.md);
# e.g. make bench BENCH_ARGS="--N 2000 --quick"
bench: $(STAMP)
	$(PY) -m stdnet.cli bench $(BENCH_ARGS)

# the workflow's own linter and formatter (snakefmt), and pyflakes-class errors in the code
lint: $(STAMP)
	$(VENV)/bin/snakemake --lint
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules/*.smk
	$(VENV)/bin/ruff check --select F,E9,I src scripts tools

clean:
	rm -rf results .snakemake
