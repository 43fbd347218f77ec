# practicelake: `make demo` runs the pipeline on the local default, `make test` runs the suite.
# Each target installs what it needs into .venv (pinned in requirements.lock) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

# The browser tests drive Debian's chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/practicelake demo

$(CHROMIUM):
	@echo "installing Debian's chromium for the browser tests"
	$(if $(filter 0,$(shell id -u)),,sudo) sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)'

test: $(INSTALLED) $(CHROMIUM)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -n 2 -m "not slow and not s3"

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(INSTALLED)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/formats.py

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
