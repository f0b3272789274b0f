# dynamigrate: `make demo` runs a migration on the embedded emulator, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit functional clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m dynamigrate.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit tests/macro tests/cli

functional: $(STAMP)
	$(BIN)/pytest -q -n 2 tests/functional

test: lint $(STAMP)
	$(BIN)/pytest -q -n 2 -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build *.egg-info

# SAM builds each function with `BuildMethod: makefile`: copy the runner package, nothing else.
build-WorkerFunction:
	mkdir -p $(ARTIFACTS_DIR)
	cp -r runner $(ARTIFACTS_DIR)/runner
	find $(ARTIFACTS_DIR) -name __pycache__ -prune -exec rm -rf {} +
