# Two commands on a fresh machine: `make demo` and `make test`.
# torch is installed first at a pinned CPU build (a plain `torch` requirement would pull a
# multi-GB CUDA build); the package itself only asks for a range.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TORCH_PIN ?= torch==2.13.0

.PHONY: install demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/arch2vec demo --out runs/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests perf
	$(BIN)/ruff format --check src tests perf
	$(BIN)/mypy

# pytest-xdist: one test process per core (at most 4); PYTEST_WORKERS=0 runs them in this one
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses 4

# The documentation site (mkdocs.yml): README.md's sections, docs/*.md and the API reference from
# the docstrings, into site/; --strict: a broken link or an unparsable docstring fails the build
DOCS_STAMP := $(VENV)/.docs-stamp
.PHONY: docs clean-docs

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

clean: clean-docs
clean-docs:
	rm -rf site

bench: $(STAMP)
	$(BIN)/python perf/bench_nb101_enumerate.py
	$(BIN)/python perf/bench_darts_sample.py
	$(BIN)/python perf/bench_pretrain.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
