# practicelake: `make demo` runs the pipeline on the local default, `make test` runs the suite.
# Each target installs what it needs into .venv (pinned in requirements.lock) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

# The browser tests drive Debian's chromium (never a downloaded browser); the Spark tests
# need a Java 17 runtime; checkov, which pins its own boto3, lives in an environment of its own.
CHROMIUM := /usr/bin/chromium
JAVA := /usr/bin/java
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/.installed

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

$(JAVA):
	@echo "installing Debian's Java 17 runtime for the Spark tests"
	$(if $(filter 0,$(shell id -u)),,sudo) sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless)'

$(CHECKOV): infra/aws/checkov.lock
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/aws/checkov.lock
	touch $(CHECKOV)

test: $(INSTALLED) $(CHROMIUM) $(JAVA) $(CHECKOV)
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
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache cdk.out infra/aws/cdk.out
