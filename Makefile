# The README's two commands are `make demo` and `make test`; both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Nothing may phone home: Prefect and its dependencies honour DO_NOT_TRACK.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# The local Prefect server keeps its SQLite database inside the project.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export TF_CPP_MIN_LOG_LEVEL ?= 2

PYTEST_ARGS ?= -m "not slow"

.PHONY: demo test test-all lint serve train clean poppler tesseract setup

demo: setup
	$(PY) -m flows.demo

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: PYTEST_ARGS :=
test-all: test

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

serve: setup
	$(PY) -m flows.serve

train: setup
	$(PY) -m ocr_core.training $(TRAIN_ARGS)

setup: $(STAMP) poppler tesseract

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# pdf2image needs poppler's pdftoppm; install it with apt when it is missing.
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "pdftoppm not found: installing poppler-utils with apt"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; }

# Drafting a template reads the printed labels with Tesseract's CLI; install it with apt too.
tesseract:
	@command -v tesseract >/dev/null 2>&1 || { \
	  echo "tesseract not found: installing tesseract-ocr with apt"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
