# The README's two commands are `make demo` and `make test`; both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Nothing may phone home: Prefect and its dependencies honour DO_NOT_TRACK.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# PREFECT_HOME, the API URL and TensorFlow's quiet are set for every `python -m flows.*` command
# in one place, flows/__init__.py (ocr_core/environment.py), not here; this covers the rest.
export TF_CPP_MIN_LOG_LEVEL ?= 3

PYTEST_ARGS ?= -m "not slow"

.PHONY: demo test test-all lint serve train review clean poppler tesseract chromium setup

demo: setup
	$(PY) -m flows.demo

test: setup chromium lint
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

# The review station for RUN (default: the oldest run with fields to review).
review: setup
	$(PY) -m flows.review serve $(RUN)

setup: $(STAMP) poppler tesseract

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# Debian packages, installed with apt when their command is missing: poppler's pdftoppm (PDF
# pages, for pdf2image), tesseract (printed labels, when drafting a template) and chromium (the
# review station's browser test).
define apt_need
	@command -v $(1) >/dev/null 2>&1 || { \
	  echo "$(1) not found: installing $(2) with apt"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); }
endef

poppler:
	$(call apt_need,pdftoppm,poppler-utils)

tesseract:
	$(call apt_need,tesseract,tesseract-ocr)

chromium:
	$(call apt_need,chromium,chromium)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
