# opnode: make install | test | devnet | bench | lint
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PYTEST  := $(BIN)/python -m pytest

.PHONY: install test devnet bench lint fuzz clean

install: $(BIN)/opnode

$(BIN)/opnode: pyproject.toml scripts/install-system-deps.sh scripts/install-npm-deps.sh
	./scripts/install-system-deps.sh
	./scripts/install-npm-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

test: install
	$(PYTEST) tests

devnet: install
	$(BIN)/opnode devnet

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check opnode derivation engine p2p tests bench

clean:
	rm -rf $(VENV) build *.egg-info
