# dynamigrate: `make demo` runs the demo's migrations on the embedded emulator; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0
# `sam build` needs the Lambda runtime's Python (3.12): a python3.12 on PATH, else pyenv's.
# (A pyenv shim answers `command -v` without running: ask the interpreter where it lives.)
PY312_BIN ?= $(or $(shell python3.12 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null),$(lastword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin)))
export SAM_CLI_TELEMETRY := 0

.PHONY: demo test lint unit functional clean sam-validate sam-build

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO := .demo
demo: $(STAMP)
	$(BIN)/python -m migrations.sample_data --out $(DEMO)/data
	$(BIN)/dynamigrate local run migrations/template.yaml --out $(DEMO)/out \
		--data Orders=$(DEMO)/data/orders.jsonl --data Customers=$(DEMO)/data/customers.jsonl

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

functional: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) tests/functional

# Test processes: twice the CPUs. Tests wait on the controller's polls and Step Functions' Wait
# states: on 2 vCPUs, -n 2 kept 1.3 of them busy in tests/conformance (222 s) and -n 4 1.9 (160 s);
# the whole suite took 952 s with -n 2 and 789 s with -n 4 (1.7 CPUs busy), December 2026.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

# The AWS CDK CLI (npm), pinned by examples/cdk/package-lock.json: a test synthesizes the CDK
# example with `cdk synth` itself, as a CDK user does.
CDK_CLI := examples/cdk/node_modules/.bin/cdk
$(CDK_CLI): examples/cdk/package.json examples/cdk/package-lock.json
	cd examples/cdk && npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK_CLI)

# The three environments install side by side, then the checks run side by side (each one's output
# kept together), then the suite: on a fresh machine this saves minutes of waiting on downloads.
test:
	$(MAKE) --jobs=4 --output-sync=target lint sam-validate sam-build $(CDK_CLI)
	$(BIN)/pytest -q -n $(TEST_WORKERS) -p no:cacheprovider --durations=15 tests

# aws-sam-cli lives in its own environment: its pins need not agree with the project's.
$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $(SAM_STAMP)

sam-validate: $(SAM_STAMP)
	$(SAM) validate --lint --template template.yaml
	$(SAM) validate --lint --template migrations/template.yaml

sam-build: $(SAM_STAMP)
	@test -n "$(PY312_BIN)" || { echo "sam build needs Python 3.12, the Lambda runtime's: put a python3.12 on PATH (e.g. apt install python3.12, or pyenv install 3.12), or pass PY312_BIN=/its/bin"; exit 1; }
	PATH="$(PY312_BIN):$$PATH" $(SAM) build --build-in-source --template template.yaml
	test -f .aws-sam/build/MacroFunction/jinja2/__init__.py
	test -f .aws-sam/build/ControllerFunction/runner/handlers/controller.py
	test -f .aws-sam/build/WorkerFunction/aws_lambda_powertools/logging/logger.py
	test -f .aws-sam/build/ControllerFunction/aws_lambda_powertools/metrics/metrics.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(DEMO) .aws-sam .pytest_cache .ruff_cache .mypy_cache build *.egg-info

# SAM builds each function with `BuildMethod: makefile`. The runner's functions get the runner
# package and Powertools for AWS Lambda (boto3 comes with the Lambda runtime); the macro gets its
# package and jinja2; dependencies as arm64 wheels for the Lambda runtime.
MACRO_REQUIREMENTS := jinja2==3.1.6 markupsafe==3.0.4
RUNNER_REQUIREMENTS := $(shell sed -n 's/^ *"\(aws-lambda-powertools==[^"]*\)".*/\1/p' pyproject.toml)

define copy_package
	mkdir -p $(ARTIFACTS_DIR)
	cp -r $(1) $(ARTIFACTS_DIR)/$(1)
	find $(ARTIFACTS_DIR) -name __pycache__ -prune -exec rm -rf {} +
endef

build-WorkerFunction build-CustomResourceFunction build-ControllerFunction:
	$(call copy_package,runner)
	python3.12 -m pip install --quiet --target $(ARTIFACTS_DIR) --only-binary=:all: \
		--platform manylinux2014_aarch64 --python-version 3.12 --implementation cp \
		$(RUNNER_REQUIREMENTS)

build-MacroFunction:
	$(call copy_package,macro)
	python3.12 -m pip install --quiet --target $(ARTIFACTS_DIR) --only-binary=:all: \
		--platform manylinux2014_aarch64 --python-version 3.12 --implementation cp \
		$(MACRO_REQUIREMENTS)
