# Two commands, from a clean clone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench clean chromium

$(PY):
	$(PYTHON) -m venv $(VENV)

# with uv (seconds) from the sources pip is configured with; with pip (a minute) if uv cannot be had.
# Bytecode compiled at install, as pip does: processes here never write it (PYTHONDONTWRITEBYTECODE)
$(STAMP): pyproject.toml | $(PY)
	($(PY) -m pip install --quiet uv && $(VENV)/bin/uv pip install --quiet --python $(PY) \
		--compile-bytecode --index-strategy unsafe-best-match $$($(PY) tools/pip_sources.py) -e '.[dev,distributed]') \
		|| $(PY) -m pip install --quiet -e '.[dev,distributed]'
	touch $(STAMP)

install: $(STAMP)

# the main job: solve and simulate the bundled scenarios (once), then serve the dashboard
RUN_SCENARIOS ?= lao_cai_2026_2030 baseline budget_cut_20 funding_gap
PORT ?= 5006
# this machine only; to open it to the office network (with a login): SERVE_FLAGS='--network --password-file FILE'
SERVE_FLAGS ?=

run: install $(foreach s,$(RUN_SCENARIOS),results/$(s)/summary.json)
	$(VENV)/bin/ntm-sim serve --results results --scenarios scenarios --port $(PORT) $(SERVE_FLAGS)

# the recommended plan, chosen and judged by simulation, with its odds (one atomic folder)
results/%/summary.json: scenarios/%.yaml | install
	$(VENV)/bin/ntm-sim solve $< --out results/$* --seed 0

# browser tests drive Debian's Chromium (Playwright cannot download its own browsers here)
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo)

chromium:
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null)

# two workers (this machine has 2 cores); tests sharing a costly fixture run in one worker (xdist_group)
test: install chromium
	$(PY) -m compileall -q src dashboards tests  # read by every process the tests start (none writes it)
	$(VENV)/bin/ruff check src tests benchmarks dashboards tools
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: install
	$(VENV)/bin/ruff check src tests benchmarks dashboards tools

bench: install results/baseline/summary.json results/budget_cut_20/summary.json
	$(PY) benchmarks/bench_optimize.py
	$(PY) benchmarks/bench_simulate.py
	$(PY) benchmarks/bench_robust.py
	$(PY) benchmarks/bench_frontier.py
	$(PY) benchmarks/bench_page.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache results
