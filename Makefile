# The two set-up commands of the README:
#   make run    release the student notebooks and grade chapter 1's example submissions
#   make test   the whole test suite (what CI runs)
# Both create the virtual environment in .venv/ on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lab bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m autograder demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) tests/benchmark_notebooks.py

clean:
	rm -rf build
