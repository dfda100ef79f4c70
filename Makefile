# Two commands, from a clean clone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev,distributed]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/ntm-sim data summary
	$(VENV)/bin/ntm-sim solve scenarios/baseline.yaml --out results/baseline

test: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

bench: install
	$(PY) benchmarks/bench_optimize.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache results
