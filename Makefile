# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-slow bench bench-peers lint format clean

setup: $(STAMP)

# The venv is rebuilt when the lock or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/levelreplay demo

test: $(STAMP)
	$(PY) -m pytest

# The long fault trials: 50 SIGKILLs of ingest and of replay, 10 rounds of racing writers.
test-slow: $(STAMP)
	LEVELREPLAY_SLOW=1 $(PY) -m pytest -m slow -s

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_range.py

# NautilusTrader beside our replay on the same data (its own venv in .bench/, not a dependency).
# Needs a Python 3.12 (or 3.13), found on PATH, in pyenv or by uv; else NAUTILUS_PYTHON=/path.
NAUTILUS := $(if $(NAUTILUS_PYTHON),--python $(NAUTILUS_PYTHON))
bench-peers: $(STAMP)
	$(PY) scripts/bench_peers.py $(NAUTILUS)
	$(PY) scripts/bench_peers.py $(NAUTILUS) --session .bench/session-day --max-events 2000000

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) out .bench data/lake data/demo
