# opnode: make install | test | devnet | bench | fuzz | lint
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PYTEST  := $(BIN)/python -m pytest
FUZZ_SECONDS ?= 600

.PHONY: install test test-long devnet bench lint fuzz chaos clean dist

install: $(BIN)/opnode

$(BIN)/opnode: pyproject.toml scripts/install-system-deps.sh scripts/install-npm-deps.sh
	./scripts/install-system-deps.sh
	./scripts/install-npm-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# `make test` keeps under ~20 min on 2 cores; the multi-minute e2e tests (marker `long`: the supernode, the interop
# devnet, the longest devnet and light-node runs, ~10 min together) run in `make test-long`. CI (.ci/run) runs both.
test: install
	$(PYTEST) tests -m "not long"

test-long: install
	$(PYTEST) tests -m long

# The wheel operators install (README "Deploying"): `pip install dist/opnode-*.whl` runs a source or light node.
dist:
	$(PY) -m pip wheel --no-deps -w dist .

# Chaos on real processes (tests/chaos): every scenario, ~10 min; CHAOS_QUICK=1 runs the quick subset that
# `make test` runs too (pytest collects tests/chaos in its quick form unless CHAOS_FULL=1).
chaos: install
	CHAOS_FULL=$(if $(CHAOS_QUICK),0,1) $(PYTEST) tests/chaos -rxs

devnet: install
	$(BIN)/opnode devnet

bench: install
	$(BIN)/python -m bench

# Coverage-guided fuzzing of every decoder (fuzz/README.md): FUZZ_SECONDS in total, shared by the targets; updates
# fuzz/corpus, fuzz/crashers and fuzz/ledger.json.
fuzz: install
	$(BIN)/python -m fuzz --seconds $(FUZZ_SECONDS)

# ruff everywhere; mypy with pyproject.toml's [tool.mypy] (strict on derivation/; tests/test_types.py runs it too).
lint: install
	$(BIN)/ruff check opnode derivation engine p2p tests bench fuzz
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info
