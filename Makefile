# CKV — every task, from a fresh clone. `make run` and `make test` set up .venv first.
#
#   make run        the main job on the embedded defaults (what the README's Quick start runs)
#   make test       every check CI runs: codegen, lint, format, types, spec build, tests
#   make lint | typecheck | spec | bench | bench-full | codegen | clean

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE

.PHONY: run test lint typecheck spec pytest bench bench-full bench-record codegen clean venv

venv: $(STAMP)

# Re-install whenever the project's metadata changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; CKV needs Python 3.11 or newer" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: CKV needs Python 3.11 or newer ($(PYTHON) is older)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/ckv run

test: $(STAMP)
	$(BIN)/ckv wire codegen --check
	$(BIN)/ckv vectors check
	$(BIN)/ckv conformance coverage --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory pytest

# pytest exit code 5 means it collected no tests: a broken setup, never a pass.
# The browser test of the rendered spec needs Debian's Chromium: installed here
# when missing (root and apt-get), otherwise the test skips and says why.
pytest: $(STAMP)
	@sh scripts/ckv-chromium.sh >/dev/null || echo "note: no Chromium; the browser test will skip" >&2
	@$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5): treated as a failure" >&2; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

spec: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html -c docs spec build/spec
	@echo "spec: build/spec/index.html"

# Benchmarks are measurements, not tests: they print tables of ratios. `make bench`
# runs each one quickly; `make bench-full` runs the full sizes (several minutes).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

bench-full: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Run every benchmark at full size and record the tables the spec's performance page shows.
bench-record: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/record.py

codegen: $(STAMP)
	$(BIN)/ckv wire codegen

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
