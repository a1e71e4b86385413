# The two set-up commands of the README:
#   make run    release the student notebooks and grade chapter 1's example submissions
#   make test   the whole test suite (what CI runs)
# Both create the virtual environment in .venv/ on first use, and make sure the grader's
# sandbox (bubblewrap) is installed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lab bench sandbox browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

# System packages, installed with apt-get when missing and running as root (Debian/Ubuntu):
# bubblewrap, the grader's sandbox (required), and Chromium for the browser test (optional:
# without it that test skips and says why).
APT_INSTALL = apt-get install -y -q $(1) >/dev/null 2>&1 || \
	{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(1) >/dev/null 2>&1; }
AS_ROOT = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1

sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if $(AS_ROOT); then echo "installing bubblewrap, the grader's sandbox"; \
	    $(call APT_INSTALL,bubblewrap); \
	  else echo "the grader needs bubblewrap: sudo apt-get install bubblewrap"; exit 1; fi; }

browser:
	@test -x /usr/bin/chromium || { \
	  if $(AS_ROOT); then echo "installing Chromium for the browser test"; \
	    $(call APT_INSTALL,chromium) || echo "Chromium could not be installed: the browser test will skip"; \
	  else echo "no Chromium (sudo apt-get install chromium): the browser test will skip"; fi; }

run: $(STAMP) sandbox
	$(PY) -m autograder demo

test: $(STAMP) sandbox browser
	$(PY) -m pytest -n 2

# The kernel-free tier (scan, assembly, scoring, messages, intake, hygiene): seconds, not minutes.
test-fast: $(STAMP)
	$(PY) -m pytest -m fast tests

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(STAMP)
	$(PY) tests/benchmark_notebooks.py

clean:
	rm -rf build
