# make book: set up .venv (first time only) and build the site into _build/html.
# make test: the same set-up, then every check: unit tests, the strict book
#            build, and the checks on the built site (ends with pytest's summary).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.nnbook-installed
# -W: warnings are errors; -n: nitpicky cross-references; --keep-going: report them all.
STRICT := -W -n --keep-going

.PHONY: book test unit site-test build venv clean clean-cache bench

book: build
	@echo
	@echo "Built the book. Open: file://$(CURDIR)/_build/html/index.html"

test: unit build site-test

venv: $(STAMP)

# Re-installs only when the requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/site -q -n 2 --durations=15

# The log is kept in _build/build.log: tests/site checks that it is quiet.
build: $(STAMP)
	@mkdir -p _build
	set -o pipefail; $(JB) build book $(STRICT) 2>&1 | tee _build/build.log

site-test: $(STAMP)
	$(PY) -m pytest tests/site -q

clean-cache:
	rm -rf _build/.jupyter_cache

clean:
	rm -rf _build

# Scratch (NumPy) vs PyTorch training speed, one thread each, against their bars;
# then the cold build, cached rebuild and per-page execution times, against theirs.
bench: $(STAMP)
	$(PY) benchmarks/speed_benchmark.py
	$(PY) benchmarks/build_benchmark.py
