# Two entry points: `make demo` (install, then run the demo) and `make test` (install, then every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test system-deps lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# prepare-fonts: the CJK font cut down once per install, so each PDF needs milliseconds, not seconds.
install: $(BIN)/python
	$(BIN)/pip install -q -e .
	-$(BIN)/fenqi prepare-fonts

install-test: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[test]'
	-$(BIN)/fenqi prepare-fonts

# Debian packages the project needs: CJK fonts (contract PDFs, screenshots) and Chromium (browser tests).
system-deps:
	@./scripts/system-deps

demo: install
	$(BIN)/fenqi demo $(ARGS)

# DATABASES="sqlite postgresql+psycopg://..." runs the suite on each at once (scripts/run-tests).
test: install-test lint
	./scripts/run-tests $(DATABASES) -- $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check fenqi tests bench
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m bench $(ARGS)
