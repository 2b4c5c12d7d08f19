# l2kit: every target does its own set-up on a fresh clone (virtualenv in .venv/, pinned Python
# and npm dependencies, the solc shim) and is quick when that is already done.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The compiler version is pinned once, in ape-config.yaml; package.json must ship the same solc-js.
SOLC_VERSION := $(shell sed -n 's/^  version: *\([0-9.]*\).*/\1/p' ape-config.yaml | head -n 1)
SOLC_DIR := $(CURDIR)/.toolchain/solc
SOLC_SHIM := $(SOLC_DIR)/solc-v$(SOLC_VERSION)

export SOLCX_BINARY_PATH := $(SOLC_DIR)
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
export APE_DISABLE_TELEMETRY := 1
export PYTHONPATH := $(CURDIR)

APE := $(BIN)/ape
PY_STAMP := $(VENV)/.installed
# Ape recompiles changed files but not the contracts that import them (a library change left
# stale bytecode behind): any change to a contract source recompiles everything.
CONTRACT_SOURCES := $(shell find contracts -name '*.sol' 2>/dev/null)
BUILD_STAMP := .build/.l2kit-compiled
# The zk rollup's prover (GPL-3.0) is an optional extra, installed unless ZK=0.
ZK ?= 1
ZK_STAMP := $(VENV)/.installed-zk
NPM_STAMP := node_modules/.installed
# every bench/*.py except helpers (bench/common.py, bench/lib_*.py, bench/*_history.py)
BENCHES := $(filter-out bench/__init__.py bench/common.py bench/lib_%.py bench/%_history.py bench/plots.py,$(wildcard bench/*.py))

.PHONY: help setup compile test test-fast demo deploy bench lint format snapshots clean

help:
	@echo "make test    set up, compile and run the whole suite on Anvil (what CI runs)"
	@echo "make demo    set up, start a local Anvil node, deploy and run the demo"
	@echo "make bench   set up and run every benchmark (tables + bench/results/*.json)"
	@echo "make test-fast  the suite without the slow end-to-end tests (the inner loop)"
	@echo "make lint    ruff, the NatSpec check, mypy over offchain/"
	@echo "make snapshots  rewrite snapshots/abi/, snapshots/gas/, snapshots/storageLayout/ after an intended change"
	@echo "make setup   only the set-up: .venv, node_modules, solc shim"

setup: $(PY_STAMP) $(NPM_STAMP) $(SOLC_SHIM) $(if $(filter 1,$(ZK)),$(ZK_STAMP))

$(PY_STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .  # the l2kit command
	@touch $@

$(ZK_STAMP): requirements-zk.lock $(PY_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-zk.lock
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SOLC_SHIM): $(NPM_STAMP) tools/solc-shim.js ape-config.yaml
	@test -n "$(SOLC_VERSION)" || { echo "no solidity version in ape-config.yaml"; exit 1; }
	@npm_solc=$$(node -p "require('./node_modules/solc/package.json').version"); \
	  if [ "$$npm_solc" != "$(SOLC_VERSION)" ]; then \
	    echo "ape-config.yaml asks for solc $(SOLC_VERSION) but package.json installs solc $$npm_solc: make them equal"; exit 1; fi
	@mkdir -p $(SOLC_DIR)
	@rm -f $(SOLC_DIR)/solc-v*
	@printf '#!/bin/sh\nexec node "%s/tools/solc-shim.js" "$$@"\n' "$(CURDIR)" > $@
	@chmod +x $@

$(BUILD_STAMP): $(CONTRACT_SOURCES) ape-config.yaml | setup
	$(APE) compile --force
	@touch $@

compile: setup $(BUILD_STAMP)

# two groups at once, one per core (tools/test_groups.sh says which folders and why)
test: setup $(BUILD_STAMP)
	bash tools/test_groups.sh

# unit, property and contract tests; the slow end-to-end ones (`-m slow`) only in `make test`;
# two groups at once as in `make test` (--fast: -m "not slow", tests/cli after the lighter group 1)
test-fast: setup $(BUILD_STAMP)
	bash tools/test_groups.sh --fast

demo: setup $(BUILD_STAMP)
	$(APE) run demo

deploy: setup $(BUILD_STAMP)
	$(APE) run deploy

# Raiden's shipped contracts for the side-by-side gas comparison of bench/channels.py: the wheel
# only (its dependencies conflict with ours and are not needed: the bench reads the bytecode from
# it with zipfile), version and sha256 pinned once, in bench/raiden.lock.
RAIDEN_VERSION := $(shell sed -n 's/^raiden-contracts==\([^ ]*\) .*/\1/p' bench/raiden.lock)
RAIDEN_SHA256 := $(shell sed -n 's/^raiden-contracts==[^ ]* sha256=\([0-9a-f]*\).*/\1/p' bench/raiden.lock)
RAIDEN_WHEEL := .cache/raiden/raiden_contracts-$(RAIDEN_VERSION)-py3-none-any.whl
RAIDEN_STAMP := .cache/raiden/.fetched-$(RAIDEN_VERSION)

$(RAIDEN_STAMP): bench/raiden.lock | $(PY_STAMP)
	@mkdir -p .cache/raiden
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps \
	  raiden-contracts==$(RAIDEN_VERSION) -d .cache/raiden
	@echo "$(RAIDEN_SHA256)  $(RAIDEN_WHEEL)" | sha256sum --check --quiet - \
	  || { echo "$(RAIDEN_WHEEL) does not match the sha256 in bench/raiden.lock"; rm -f $(RAIDEN_WHEEL); exit 1; }
	@touch $@

bench: setup $(BUILD_STAMP) $(RAIDEN_STAMP)
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done
	$(BIN)/python bench/plots.py  # PNG figures beside the JSON results

PY_SOURCES := offchain scripts tests bench tools

lint: setup
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/python tools/check_natspec.py contracts
	$(BIN)/mypy  # the type checker over offchain/ ([tool.mypy] in pyproject.toml)

format: setup
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(BIN)/ruff format $(PY_SOURCES)

snapshots: setup $(BUILD_STAMP)
	$(BIN)/python tools/snapshots.py write
	$(BIN)/python tools/storage_layout.py write

clean:
	rm -rf .build .toolchain $(VENV) node_modules
